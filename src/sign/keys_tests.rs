use super::*;
use crate::sign::{StreamCheck, sign_bytes, verify_bytes};

fn pair(dir: &Path, name: &str, password: Option<&str>) -> (PathBuf, PathBuf) {
    let secret = dir.join(format!("{name}.key"));
    let public = public_key_path(&secret);
    new_key_pair(&secret, &public, password.map(String::from)).unwrap();
    (secret, public)
}

#[test]
fn a_signature_verifies_with_its_key_and_not_another_or_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = pair(dir.path(), "a", None);
    let (_, other) = pair(dir.path(), "b", None);
    let key = read_secret_key(&secret, || unreachable!("unencrypted")).unwrap();
    let signature = sign_bytes(&key, b"record\n", "imprint record").unwrap();
    let sig_path = dir.path().join("r.minisig");
    let public_key = read_public_key(&public).unwrap();
    verify_bytes(&public_key, &public, &signature, &sig_path, b"record\n").unwrap();
    let err = verify_bytes(&public_key, &public, &signature, &sig_path, b"recorD\n").unwrap_err();
    assert!(matches!(err, SignError::Mismatch { .. }), "{err}");
    let other_key = read_public_key(&other).unwrap();
    let err = verify_bytes(&other_key, &other, &signature, &sig_path, b"record\n").unwrap_err();
    assert!(err.to_string().contains("was not made by the key"), "{err}");
}

#[test]
fn an_encrypted_key_needs_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, _) = pair(dir.path(), "e", Some("correct horse"));
    assert!(read_secret_key(&secret, || Ok("wrong".into())).is_err());
    let key = read_secret_key(&secret, || Ok("correct horse".into())).unwrap();
    sign_bytes(&key, b"x", "c").unwrap();
    let text = std::fs::read_to_string(&secret).unwrap();
    assert!(text.starts_with("untrusted comment: "), "{text}");
}

#[test]
fn keys_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = pair(dir.path(), "k", None);
    let before = std::fs::read(&secret).unwrap();
    let err = new_key_pair(&secret, &public, None).unwrap_err();
    assert!(matches!(err, SignError::Exists { .. }), "{err}");
    assert_eq!(std::fs::read(&secret).unwrap(), before);
}

#[test]
fn a_stream_check_sees_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = pair(dir.path(), "s", None);
    let key = read_secret_key(&secret, || unreachable!()).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let signature = sign_bytes(&key, &data, "image").unwrap();
    let sig_path = dir.path().join("i.minisig");
    let check = |bytes: &[u8]| {
        let public_key = read_public_key(&public).unwrap();
        let mut check = StreamCheck::start(public_key, &public, &signature, &sig_path).unwrap();
        for piece in bytes.chunks(65_537) {
            check.update(piece);
        }
        check.finish()
    };
    check(&data).unwrap();
    let mut tampered = data.clone();
    tampered[200_000] ^= 1;
    assert!(check(&tampered).is_err());
    assert!(check(&data[..data.len() - 1]).is_err());
}

//! Key pairs: made (`imprint key new`), written in minisign's text boxes
//! (the secret key scrypt-encrypted with a password, or unencrypted for
//! unattended stations), and read back.

use std::io::Write;
use std::path::{Path, PathBuf};

use minisign::{KeyPair, PublicKeyBox, SecretKeyBox};

pub(crate) use minisign::{PublicKey, SecretKey};

use super::SignError;
use crate::user_file::read_user_file;

/// A key file is a few hundred bytes; anything much larger is not one.
const KEY_LIMIT: u64 = 64 << 10;

/// The public key's file beside a secret key's: `imprint.key` →
/// `imprint.pub` (minisign's own naming: `minisign.key`, `minisign.pub`).
pub(crate) fn public_key_path(secret: &Path) -> PathBuf {
    secret.with_extension("pub")
}

/// Makes a key pair and writes it to `secret` (mode 0600) and `public`,
/// refusing to overwrite either. `password`: `Some` encrypts the secret key
/// with it (minisign's scrypt box); `None` writes it unencrypted.
pub(crate) fn new_key_pair(
    secret: &Path,
    public: &Path,
    password: Option<String>,
) -> Result<PublicKey, SignError> {
    for path in [secret, public] {
        if path.symlink_metadata().is_ok() {
            return Err(SignError::Exists {
                path: path.to_path_buf(),
            });
        }
    }
    let sign_error = |e: minisign::PError| SignError::Sign(e.to_string());
    let pair = match password {
        Some(password) => KeyPair::generate_encrypted_keypair(Some(password)),
        None => KeyPair::generate_unencrypted_keypair(),
    }
    .map_err(sign_error)?;
    let comment = if pair.sk.is_encrypted() {
        "imprint secret key (encrypted)"
    } else {
        "imprint secret key (unencrypted)"
    };
    let secret_box = pair.sk.to_box(Some(comment)).map_err(sign_error)?;
    let public_box = pair.pk.to_box().map_err(sign_error)?;
    write_new(secret, &secret_box.to_bytes(), true)?;
    write_new(public, &public_box.to_bytes(), false)?;
    Ok(pair.pk)
}

/// Writes `bytes` to a file that must not exist yet (readable by its
/// owner alone when `private`), flushed to the disk.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), SignError> {
    let write_error = |cause: std::io::Error| SignError::Write {
        path: path.to_path_buf(),
        cause: cause.to_string(),
    };
    let mut file = crate::platform::create_new_file(path, private).map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

fn read_text(path: &Path) -> Result<String, SignError> {
    let bytes = read_user_file(path, KEY_LIMIT).map_err(|e| SignError::ReadKey {
        path: path.to_path_buf(),
        cause: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|_| SignError::ReadKey {
        path: path.to_path_buf(),
        cause: "it is not text".into(),
    })
}

/// The public key in the file at `path` (minisign's two-line box).
pub(crate) fn read_public_key(path: &Path) -> Result<PublicKey, SignError> {
    let bad = |e: minisign::PError| SignError::BadKey {
        path: path.to_path_buf(),
        what: "public",
        cause: e.to_string(),
    };
    let text = read_text(path)?;
    PublicKeyBox::from_string(&text)
        .and_then(PublicKeyBox::into_public_key)
        .map_err(bad)
}

/// The secret key in the file at `path`; an encrypted one is decrypted
/// with `password()`, asked only then (from the terminal, by the caller).
pub(crate) fn read_secret_key(
    path: &Path,
    password: impl FnOnce() -> std::io::Result<String>,
) -> Result<SecretKey, SignError> {
    let bad = |e: minisign::PError| SignError::BadKey {
        path: path.to_path_buf(),
        what: "secret",
        cause: e.to_string(),
    };
    let text = read_text(path)?;
    let boxed = SecretKeyBox::from_string(&text).map_err(bad)?;
    match boxed.clone().into_unencrypted_secret_key() {
        Ok(key) => return Ok(key),
        // The crate's one way of saying the box names a key derivation.
        Err(e) if e.to_string().contains("encrypted") => {}
        Err(e) => return Err(bad(e)),
    }
    let password = password().map_err(|e| SignError::ReadKey {
        path: path.to_path_buf(),
        cause: format!("it is encrypted, and no password was given: {e}"),
    })?;
    boxed
        .into_secret_key(Some(password))
        .map_err(|e| SignError::BadKey {
            path: path.to_path_buf(),
            what: "secret",
            cause: format!("{e} (a wrong password?)"),
        })
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;

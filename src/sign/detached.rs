//! Detached signatures of bytes in memory (a record), in minisign's
//! format: prehashed Ed25519 (BLAKE2b-512) with a trusted comment, which
//! `minisign -Vm FILE` checks against the file's bytes.

use std::io::Cursor;
use std::path::Path;

use minisign::SignatureBox;

use super::{PublicKey, SecretKey, SignError};

/// The text of a `.minisig` over `bytes`, made with `key`;
/// `trusted_comment` is signed too (minisign prints it on success).
pub(crate) fn sign_bytes(
    key: &SecretKey,
    bytes: &[u8],
    trusted_comment: &str,
) -> Result<String, SignError> {
    // Newlines would end minisign's comment line early.
    let comment = trusted_comment.replace(['\n', '\r'], " ");
    minisign::sign(
        None,
        key,
        Cursor::new(bytes),
        Some(&comment),
        Some("signature from an imprint secret key"),
    )
    .map(|signature| signature.into_string())
    .map_err(|e| SignError::Sign(e.to_string()))
}

/// Checks `signature` (a `.minisig`'s text, read from `signature_path`)
/// over `bytes` with `key` (read from `key_path`; both only name things
/// in the error). Legacy (non-prehashed) signatures are accepted, as
/// `minisign -V` does.
pub(crate) fn verify_bytes(
    key: &PublicKey,
    key_path: &Path,
    signature: &str,
    signature_path: &Path,
    bytes: &[u8],
) -> Result<(), SignError> {
    let signature = parse(signature, signature_path)?;
    check_key(key, key_path, &signature, signature_path)?;
    minisign::verify(key, &signature, Cursor::new(bytes), true, false, true).map_err(|e| {
        SignError::Mismatch {
            path: signature_path.to_path_buf(),
            key: key_path.to_path_buf(),
            cause: e.to_string(),
        }
    })
}

/// `signature`'s text parsed; an error names `path`.
pub(super) fn parse(signature: &str, path: &Path) -> Result<SignatureBox, SignError> {
    SignatureBox::from_string(signature).map_err(|e| SignError::ReadSignature {
        path: path.to_path_buf(),
        cause: format!("it is not a minisign signature: {e}"),
    })
}

/// A signature made by another key is its own refusal, worded as such.
pub(super) fn check_key(
    key: &PublicKey,
    key_path: &Path,
    signature: &SignatureBox,
    signature_path: &Path,
) -> Result<(), SignError> {
    if signature.keynum() == key.keynum() {
        return Ok(());
    }
    let id = |bytes: &[u8]| {
        bytes
            .iter()
            .rev()
            .map(|b| format!("{b:02X}"))
            .collect::<String>()
    };
    Err(SignError::WrongKey {
        path: signature_path.to_path_buf(),
        key: key_path.to_path_buf(),
        cause: format!(
            "it names the key id {}, the key is {}",
            id(signature.keynum()),
            id(key.keynum())
        ),
    })
}

/// Whether `signature` (the text of the file at `signature_path`) is a
/// minisign signature made by `key`: what can be refused before a byte
/// of what it signs is read.
pub(crate) fn check_signer(
    key: &PublicKey,
    key_path: &Path,
    signature: &str,
    signature_path: &Path,
) -> Result<(), SignError> {
    let signature = parse(signature, signature_path)?;
    check_key(key, key_path, &signature, signature_path)
}

//! Ed25519 keys and signatures in minisign's own formats (docs/architecture.md
//! §11 "Signed records"), so that `minisign -V` checks what Imprint signs
//! and Imprint checks what a publisher signed with minisign: key pairs
//! (`keys`), detached signatures of bytes in memory (`detached`), and a
//! signature checked over a stream as it passes (`stream`).

mod detached;
mod keys;
mod stream;

pub(crate) use detached::{check_signer, sign_bytes, verify_bytes};
pub(crate) use keys::{
    PublicKey, SecretKey, new_key_pair, public_key_path, read_public_key, read_secret_key,
};
pub(crate) use stream::StreamCheck;

use std::path::PathBuf;

/// Why a key or a signature cannot be used, or a signature does not
/// verify. Each says which file and what to do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignError {
    #[error("cannot read the key {path}: {cause}")]
    ReadKey { path: PathBuf, cause: String },
    #[error("{path} is not a minisign {what} key: {cause}")]
    BadKey {
        path: PathBuf,
        what: &'static str,
        cause: String,
    },
    #[error("cannot write {path}: {cause}")]
    Write { path: PathBuf, cause: String },
    #[error(
        "{path} already exists; choose another name with -o, or remove it if it is no longer needed"
    )]
    Exists { path: PathBuf },
    #[error("cannot read the signature {path}: {cause}")]
    ReadSignature { path: PathBuf, cause: String },
    #[error("the signature {path} was not made by the key {key}: {cause}")]
    WrongKey {
        path: PathBuf,
        key: PathBuf,
        cause: String,
    },
    #[error("the signature {path} does not verify with the key {key}: {cause}")]
    Mismatch {
        path: PathBuf,
        key: PathBuf,
        cause: String,
    },
    #[error("cannot sign: {0}")]
    Sign(String),
}

//! A signed image (`--trusted-key PUB`, `--signature FILE`): the key and
//! the signature are read and matched before anything is written (a
//! refusal, exit 2); the signature itself is checked over the image's
//! bytes as the run reads them (`source::SignatureSpec`), so a tampered
//! image fails every drive (exit 1) — docs/architecture.md §2.

use std::path::{Path, PathBuf};

use crate::sign::{check_signer, read_public_key};
use crate::source::{ImageSource, SignatureSpec};
use crate::user_file::read_user_file;

/// A `.minisig` is a few hundred bytes.
const SIGNATURE_LIMIT: u64 = 64 << 10;

/// minisign's name for a file's signature: the file's name + `.minisig`.
pub fn signature_beside(image: &Path) -> PathBuf {
    let mut name = image.as_os_str().to_os_string();
    name.push(".minisig");
    PathBuf::from(name)
}

/// Makes the run check `source` against the signature at `signature`
/// (default: beside the image) made by the public key at `key`. Returns
/// the signature's path; an error is a refusal, worded for the user.
pub fn require_image_signature(
    source: &mut ImageSource,
    signature: Option<&Path>,
    key: &Path,
) -> Result<PathBuf, String> {
    let signature_path = signature
        .map(Path::to_path_buf)
        .unwrap_or_else(|| signature_beside(source.path()));
    let text = read_user_file(&signature_path, SIGNATURE_LIMIT).map_err(|e| {
        format!(
            "--trusted-key needs the image's signature: cannot read {}: {e}; give it with --signature FILE",
            signature_path.display()
        )
    })?;
    let text = String::from_utf8(text).map_err(|_| {
        format!(
            "{} is not a minisign signature (not text)",
            signature_path.display()
        )
    })?;
    let public = read_public_key(key).map_err(|e| e.to_string())?;
    check_signer(&public, key, &text, &signature_path)
        .map_err(|e| format!("refused: {e}; nothing was written"))?;
    source.require_signature(SignatureSpec {
        key: public,
        key_path: key.to_path_buf(),
        text,
        signature_path: signature_path.clone(),
    })?;
    Ok(signature_path)
}

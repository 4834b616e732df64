//! Signed records (`--report FILE --sign KEY`, docs/architecture.md §11
//! "Signed records"): each drive's record is also written alone, as one
//! JSON line in its own file beside the report, with a minisign signature
//! of exactly that file's bytes beside it (`FILE.minisig`), so that
//! `minisign -Vm FILE -p KEY.pub` checks it without Imprint and
//! `imprint verify-drive FILE` checks the drive against it.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::DriveRecord;
use crate::platform::{self, UserOpen};
use crate::sign::{SecretKey, sign_bytes};

/// A signed record's two files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedRecord {
    pub record: PathBuf,
    pub signature: PathBuf,
}

/// The signature file of the record file `record`: minisign's own name.
pub(crate) fn signature_path(record: &Path) -> PathBuf {
    let mut name = record.as_os_str().to_os_string();
    name.push(".minisig");
    PathBuf::from(name)
}

/// Writes `record` (without its `signed_record` field) to a new file beside
/// `report` — `REPORT-STEM-<finished>-<device>.json` — and its signature
/// made with `key`; an error is a sentence naming the file.
pub(crate) fn write_signed(
    report: &Path,
    record: &DriveRecord,
    key: &SecretKey,
) -> Result<SignedRecord, String> {
    let mut record = record.clone();
    record.signed_record = None;
    let mut line = serde_json::to_string(&record).expect("a record always serialises");
    line.push('\n');
    let comment = format!(
        "imprint {} record: {} {} image_sha256 {}",
        env!("CARGO_PKG_VERSION"),
        record.path,
        serde_json::to_string(&record.result).unwrap_or_default(),
        record.image_sha256.as_deref().unwrap_or("unknown"),
    );
    let signature = sign_bytes(key, line.as_bytes(), &comment).map_err(|e| e.to_string())?;
    let path = free_name(report, &record);
    let signed = SignedRecord {
        signature: signature_path(&path),
        record: path,
    };
    write_file(&signed.record, line.as_bytes())?;
    write_file(&signed.signature, signature.as_bytes())?;
    Ok(signed)
}

/// A name beside `report` no file has yet.
fn free_name(report: &Path, record: &DriveRecord) -> PathBuf {
    let stem = report
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let device = Path::new(&record.path)
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "drive".into());
    let time: String = record
        .finished
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let dir = report.parent().unwrap_or(Path::new(""));
    let base = format!("{stem}-{time}-{device}");
    (1..)
        .map(|k| match k {
            1 => dir.join(format!("{base}.json")),
            k => dir.join(format!("{base}-{k}.json")),
        })
        .find(|p| p.symlink_metadata().is_err() && signature_path(p).symlink_metadata().is_err())
        .expect("some name is free")
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let error =
        |e: std::io::Error| format!("cannot write the signed record {}: {e}", path.display());
    // As the user, like the report itself (docs/architecture.md §3).
    let mut file = platform::open_as_user(path, UserOpen::Create).map_err(error)?;
    file.write_all(bytes).map_err(error)?;
    file.sync_all().map_err(error)
}

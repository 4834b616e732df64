//! `verify-drive`: a drive checked against its signed record without the
//! image (docs/architecture.md §11 "Signed records"). The record's
//! signature is checked first, then that the drive is the one the record
//! names, then each hashed piece of its used ranges is read back (O_DIRECT,
//! read-only). Below both front ends, so that the app can offer it too.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::seen_at;
use crate::protocol::Outcome;
use crate::report::{DriveRecord, RangeHash, changed_ranges, signature_path};
use crate::sign::{read_public_key, verify_bytes};
use crate::target;
use crate::user_file::read_user_file;

/// A record is one JSON line: a few hundred KB for a large image's hashes.
const RECORD_LIMIT: u64 = 64 << 20;

/// A record that checks out against its signature and its drive, ready to
/// be compared with the drive's bytes.
#[derive(Debug)]
pub struct CheckedRecord {
    pub record: DriveRecord,
    pub ranges: Vec<RangeHash>,
    /// The signature, when a public key was given to check it with.
    pub signature: Option<PathBuf>,
    /// What of the drive's identity was compared (for the user).
    pub identity: String,
}

/// Reads the record at `path`, checks its signature with the public key at
/// `key` (when given) and that `device` is the drive it names. An error is
/// a refusal (exit 2), worded for the user.
pub fn load_record(
    path: &Path,
    key: Option<&Path>,
    device: &Path,
) -> Result<CheckedRecord, String> {
    let bytes = read_user_file(path, RECORD_LIMIT)
        .map_err(|e| format!("cannot read the record {}: {e}", path.display()))?;
    let signature = match key {
        Some(key) => Some(check_signature(path, &bytes, key)?),
        None => None,
    };
    let record: DriveRecord = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is not one drive record ({e}); give the .json file a signed --report wrote beside the report",
            path.display()
        )
    })?;
    if record.result != Outcome::Ok {
        return Err(format!(
            "the record says {} was not written ok ({}); there is nothing to check it against",
            record.path,
            record.error.as_deref().unwrap_or("no reason given")
        ));
    }
    let Some(ranges) = record.ranges.clone() else {
        return Err(format!(
            "{} has no hashes of the drive's ranges (it was written without --sign); flash with --report FILE --sign KEY to make one",
            path.display()
        ));
    };
    if let Some(bad) = ranges.iter().find(|r| r.start % 512 != 0 || r.len == 0) {
        return Err(format!(
            "{} is malformed: its range at byte {} (length {}) is not on a sector boundary",
            path.display(),
            bad.start,
            bad.len
        ));
    }
    let identity = same_drive(&record, device)?;
    Ok(CheckedRecord {
        record,
        ranges,
        signature,
        identity,
    })
}

/// Checks the record file's bytes against its `.minisig` with `key`.
fn check_signature(path: &Path, bytes: &[u8], key: &Path) -> Result<PathBuf, String> {
    let signature_file = signature_path(path);
    let text = read_user_file(&signature_file, 64 << 10).map_err(|e| {
        format!(
            "the record {} is not signed, or its signature is missing: cannot read {}: {e}",
            path.display(),
            signature_file.display()
        )
    })?;
    let text = String::from_utf8_lossy(&text);
    let public = read_public_key(key).map_err(|e| e.to_string())?;
    verify_bytes(&public, key, &text, &signature_file, bytes)
        .map_err(|e| format!("refused: {e}; the record cannot be trusted"))?;
    Ok(signature_file)
}

/// Whether `device` is the drive `record` names: its size, and every
/// identity the record holds (CID, serial, model, a loop device's backing
/// file). The port it hangs on is not identity: a card moves between
/// readers. Returns what was compared.
fn same_drive(record: &DriveRecord, device: &Path) -> Result<String, String> {
    let info = target::inspect(device).map_err(|e| format!("{}: {e}", device.display()))?;
    let refuse = |what: &str, recorded: &str, now: &str| {
        format!(
            "refused: the record is for another drive: its {what} is {recorded}, {}'s is {now}",
            device.display()
        )
    };
    let mut compared = Vec::new();
    if let Some(size) = record.size {
        let now = info.size_bytes.unwrap_or_default();
        if now != size {
            return Err(refuse("size", &size.to_string(), &now.to_string()));
        }
        compared.push("size");
    }
    let seen = seen_at(device);
    let fields: [(&str, Option<&String>, Option<String>); 4] = [
        (
            "CID",
            record.cid.as_ref(),
            seen.as_ref().and_then(|s| s.media.cid.clone()),
        ),
        (
            "serial",
            record.serial.as_ref(),
            seen.as_ref().and_then(|s| s.drive.serial.clone()),
        ),
        (
            "model",
            record.model.as_ref(),
            seen.as_ref().and_then(|s| s.drive.model.clone()),
        ),
        (
            "backing file",
            record.backing_file.as_ref(),
            seen.as_ref()
                .and_then(|s| s.media.backing_file.as_ref())
                .map(|f| f.display().to_string()),
        ),
    ];
    for (what, recorded, now) in fields {
        let Some(recorded) = recorded else { continue };
        let now = now.unwrap_or_else(|| "unknown".into());
        if recorded.trim() != now.trim() {
            return Err(refuse(what, recorded, &now));
        }
        compared.push(what);
    }
    if !compared.iter().any(|w| *w != "size") {
        compared.push("(the record names no CID, serial or model: only the size was compared)");
    }
    Ok(compared.join(", "))
}

/// The pieces of the record's ranges `device` no longer holds.
pub fn changed(
    checked: &CheckedRecord,
    device: &Path,
    cancel: &AtomicBool,
) -> Result<Vec<RangeHash>, String> {
    changed_ranges(device, &checked.ranges, cancel)
        .map_err(|e| format!("cannot read {} back: {e}", device.display()))
}

//! A drive's record made signable (`--report FILE --sign KEY`): an ok
//! drive is read back once more, after its verification, for the hash of
//! each piece of its used ranges; then the record is written alone beside
//! the report with its minisign signature (`report::write_signed`,
//! docs/architecture.md §11 "Signed records"). `flash` and `station` both
//! seal through [`seal_drive`], so a station's records are the same.

use std::ops::Range;
use std::path::Path;

use crate::engine::{FlashJob, FlashReport};
use crate::protocol::Outcome;
use crate::report::{DriveRecord, hash_drive, write_signed};
use crate::sign::SecretKey;

/// Adds the range hashes to `record` (an ok drive's) and signs it; the
/// record then names its signed copy. An error says what is missing, and
/// `record` stays as it was, unsigned.
pub(super) fn seal(
    record: &mut DriveRecord,
    job: &FlashJob,
    report: &FlashReport,
    report_path: &Path,
    key: &SecretKey,
) -> Result<(), String> {
    let mut forced = job.patched_ranges();
    forced.extend(
        job.bmap
            .as_ref()
            .map(|b| b.byte_ranges())
            .unwrap_or_default(),
    );
    let written = Written {
        image_bytes: report.image_bytes,
        forced,
        full: job.full,
    };
    seal_drive(record, &written, report_path, key)
}

/// What was written to a drive, as its record's ranges need it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Written {
    /// The image's length, once known.
    pub image_bytes: Option<u64>,
    /// Ranges written whatever the map says: the patched configuration,
    /// a bmap's ranges.
    pub forced: Vec<Range<u64>>,
    /// `--full`: every byte of the image was written.
    pub full: bool,
}

/// Seals `record` of a drive to which `written` went: the same for one
/// drive of `flash` and one of a station.
pub(crate) fn seal_drive(
    record: &mut DriveRecord,
    written: &Written,
    report_path: &Path,
    key: &SecretKey,
) -> Result<(), String> {
    record.image_bytes = written.image_bytes;
    if record.result == Outcome::Ok {
        let image_bytes = written.image_bytes.ok_or_else(|| {
            format!(
                "{} is not signed: the image's length is unknown",
                record.path
            )
        })?;
        let ranges = hash_drive(
            Path::new(&record.path),
            image_bytes,
            written.forced.clone(),
            written.full,
        )
        .map_err(|e| {
            format!(
                "{} is not signed: reading it back for its record failed: {e}",
                record.path
            )
        })?;
        record.ranges = Some(ranges);
    }
    let signed = write_signed(report_path, record, key)?;
    record.signed_record = Some(signed.record.display().to_string());
    Ok(())
}

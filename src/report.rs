//! `--report FILE`: one JSON line per drive, appended as each drive
//! finishes — what went where, a record an operator can hand on — and read
//! back so that a later run continues where this one stopped (rows of
//! `--each` already written ok are not used again). A drive that takes a
//! row is claimed in the report before it is written (`claim`); the
//! report is locked for the whole run (`lock`). Readers ignore fields
//! (and record kinds) they do not know; fields are only ever added.

mod claim;
mod lock;
mod ranges;
mod signed;

pub(crate) use claim::{Claim, Ledger, Marker, Release, UsedRow};
pub(crate) use lock::lock_exclusive;
pub(crate) use ranges::{RangeHash, changed_ranges, hash_drive};
pub(crate) use signed::{signature_path, write_signed};

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::engine::FailureKind;
use crate::platform::{self, UserOpen};
use crate::protocol::Outcome;

/// One drive's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriveRecord {
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: String,
    /// The station's stable id of the drive, when a station wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive: Option<String>,
    pub path: String,
    pub serial: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    /// The drive's size in bytes (`None` for a file target not yet there).
    pub size: Option<u64>,
    /// A loop device's backing file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backing_file: Option<String>,
    pub image: String,
    /// The image's SHA-256 (decompressed); `None` when it was not read to
    /// its end.
    pub image_sha256: Option<String>,
    /// The SHA-256 of the drive's bytes as written (its configuration
    /// included), when it succeeded.
    #[serde(default)]
    pub sha256: Option<String>,
    /// The SHA-256 of the config.json written to this drive.
    pub config_sha256: Option<String>,
    /// The drive's number in its run (`{n}`).
    #[serde(default)]
    pub n: Option<u64>,
    /// The `--each` CSV row it was given (1 = the line after the header).
    #[serde(default)]
    pub row: Option<usize>,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    /// The SHA-256 of the CSV row it was given (its header and cells):
    /// what says which row it was when the CSV changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_sha256: Option<String>,
    /// The claim this record ends ([`Claim`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    pub written_bytes: u64,
    pub verified_bytes: u64,
    /// Bytes written per second from start to finish, in MB (10^6).
    pub mb_per_s: Option<f64>,
    pub result: Outcome,
    pub kind: Option<FailureKind>,
    pub error: Option<String>,
    /// The byte of the image where it failed, when one applies.
    pub offset: Option<u64>,
    /// The Imprint that wrote it (`CARGO_PKG_VERSION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imprint_version: Option<String>,
    /// An SD card's CID register, when the kernel showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// The port or reader slot the drive hung on (`/dev/disk/by-path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_port: Option<String>,
    /// The counterfeit probe's verdict (docs/architecture.md §3): `no
    /// evidence` (not proof the card is genuine), `wraps at N`, `loses
    /// writes beyond N`; absent when the drive was not probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<String>,
    /// The image's length in bytes (decompressed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_bytes: Option<u64>,
    /// The drive's used ranges, a SHA-256 per piece, read back from it
    /// after it was verified (`--sign`): what `verify-drive` checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Vec<RangeHash>>,
    /// The signed copy of this record (`--sign`): its file, beside which
    /// is its `.minisig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_record: Option<String>,
}

/// Why a report file cannot be used (a refusal before anything is written).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read the report {path}: {cause}")]
    Read { path: PathBuf, cause: io::Error },
    #[error(
        "cannot use the report {path}: line {line} is not a drive record ({cause}); name a new file, or remove that line"
    )]
    Parse {
        path: PathBuf,
        line: usize,
        cause: serde_json::Error,
    },
    #[error("cannot open the report {path} for appending: {cause}")]
    Open { path: PathBuf, cause: io::Error },
    #[error(
        "cannot lock the report {path} (a report is locked for the whole run, so that two runs never hand out one row): {cause}"
    )]
    Lock { path: PathBuf, cause: io::Error },
}

/// A report file open for appending.
#[derive(Debug)]
pub struct Report {
    path: PathBuf,
    file: File,
}

impl Report {
    /// Opens (creating) `path` for appending, locked for as long as the
    /// `Report` lives (waiting while another run holds it); returns it with
    /// what it already says, read under the lock.
    pub fn open(path: &Path) -> Result<(Report, Ledger), ReportError> {
        // As the user, with the user's permissions, even in an elevated
        // helper (docs/architecture.md §3).
        let file = platform::open_as_user(path, UserOpen::CreateAppend).map_err(|cause| {
            ReportError::Open {
                path: path.to_path_buf(),
                cause,
            }
        })?;
        lock_exclusive(&file, path, "the report").map_err(|cause| ReportError::Lock {
            path: path.to_path_buf(),
            cause,
        })?;
        let earlier = read_ledger(path)?;
        Ok((
            Report {
                path: path.to_path_buf(),
                file,
            },
            earlier,
        ))
    }

    /// Appends `record` as one line, flushed to the disk: a station may
    /// lose power, and the record is what says which rows are used.
    pub fn append(&mut self, record: &DriveRecord) -> io::Result<()> {
        self.append_line(record)
    }

    /// Appends a claim or a release, flushed to the disk before the drive
    /// is written.
    pub fn append_marker(&mut self, marker: &Marker) -> io::Result<()> {
        self.append_line(marker)
    }

    fn append_line(&mut self, line: &impl Serialize) -> io::Result<()> {
        let mut line = serde_json::to_string(line).expect("a report line always serialises");
        line.push('\n');
        // One write of the whole line: O_APPEND keeps concurrent writers'
        // lines whole.
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What the report at `path` says: its drive records, claims and
/// releases; nothing when it does not exist yet. Blank lines and lines of
/// a record kind this version does not know are skipped; any other line
/// that is not a record is an error, since ignoring it could hand out a
/// row twice.
pub(crate) fn read_ledger(path: &Path) -> Result<Ledger, ReportError> {
    let file = match platform::open_as_user(path, UserOpen::Read) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ledger::default()),
        Err(cause) => {
            return Err(ReportError::Read {
                path: path.to_path_buf(),
                cause,
            });
        }
    };
    let mut ledger = Ledger::default();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|cause| ReportError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let parse_error = |cause| ReportError::Parse {
            path: path.to_path_buf(),
            line: index + 1,
            cause,
        };
        let value: serde_json::Value = serde_json::from_str(&line).map_err(parse_error)?;
        let kind = value
            .get("record")
            .map(|kind| kind.as_str().unwrap_or_default().to_string());
        match kind.as_deref() {
            None => ledger
                .records
                .push(serde_json::from_value(value).map_err(parse_error)?),
            Some("claim" | "release") => {
                match serde_json::from_value(value).map_err(parse_error)? {
                    Marker::Claim(claim) => ledger.claims.push(claim),
                    Marker::Release(release) => ledger.releases.push(release),
                }
            }
            Some(_) => {}
        }
    }
    Ok(ledger)
}

/// Megabytes (10^6 bytes) per second, to one decimal; `None` for no time.
pub(crate) fn mb_per_s(bytes: u64, seconds: f64) -> Option<f64> {
    (seconds > 0.0).then(|| (bytes as f64 / seconds / 1e6 * 10.0).round() / 10.0)
}

/// `time` as RFC 3339 in UTC, to the second: `2026-11-27T15:37:24Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        let at = |s: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        // `date -u -d @951825599` → 2000-02-29 11:59:59 (a leap day).
        assert_eq!(at(951_825_599), "2000-02-29T11:59:59Z");
        // `date -u -d @1795794444` → 2026-11-27 15:47:24.
        assert_eq!(at(1_795_794_444), "2026-11-27T15:47:24Z");
    }

    pub(crate) fn record(row: Option<usize>, result: Outcome) -> DriveRecord {
        DriveRecord {
            started: rfc3339(SystemTime::now()),
            finished: rfc3339(SystemTime::now()),
            drive: Some("loop:/tmp/a".into()),
            path: "/dev/loop3".into(),
            serial: None,
            vendor: None,
            model: None,
            size: Some(8 << 20),
            backing_file: Some("/tmp/a".into()),
            image: "os.img".into(),
            image_sha256: Some("ab".into()),
            sha256: None,
            config_sha256: None,
            n: Some(1),
            row,
            uuid: None,
            hostname: None,
            row_sha256: None,
            claim: None,
            written_bytes: 5,
            verified_bytes: 5,
            mb_per_s: mb_per_s(5_000_000, 2.0),
            result,
            kind: None,
            error: None,
            offset: None,
            imprint_version: None,
            cid: None,
            reader_port: None,
            probe: None,
            image_bytes: None,
            ranges: None,
            signed_record: None,
        }
    }

    #[test]
    fn records_are_appended_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.jsonl");
        let (mut report, earlier) = Report::open(&path).unwrap();
        assert!(earlier.records.is_empty());
        report.append(&record(Some(1), Outcome::Ok)).unwrap();
        report.append(&record(Some(2), Outcome::Failed)).unwrap();
        drop(report);
        let (_, earlier) = Report::open(&path).unwrap();
        let earlier = earlier.records;
        assert_eq!(earlier.len(), 2);
        assert_eq!(earlier[1].row, Some(2));
        assert_eq!(earlier[0].mb_per_s, Some(2.5));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn a_line_that_is_not_a_record_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.jsonl");
        std::fs::write(&path, "\n{\"not\":1}\n").unwrap();
        let err = read_ledger(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}

//! Claims: the line a run appends to its report before it writes a drive
//! that takes an identity (a CSV row, a drive number), and the release
//! that gives the identity back when nothing was written after all.
//!
//! A claim with neither a release nor a drive record naming it holds its
//! row for good: a run that crashed mid-drive leaves its row claimed rather
//! than free, since the drive may carry that uuid now. A drive record that
//! did not end ok ends its claim (the row is free again); one that ended
//! ok keeps the row used. Rows are matched by their values, not their
//! line number: by uuid when the CSV has a uuid column, else by the SHA-256
//! of the whole row ([`UsedRow`]).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::DriveRecord;
use crate::protocol::Outcome;

/// A drive is about to be written with this identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The claim's id: the drive record and the release name it.
    pub claim: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The drive's path as given, and the station's id of it.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive: Option<String>,
    pub n: u64,
    #[serde(default)]
    pub row: Option<usize>,
    #[serde(default)]
    pub row_sha256: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
}

/// The claimed identity was not written: its row is free again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub claim: String,
    pub at: String,
    pub reason: String,
}

/// A claim or a release, as a report line (`"record": "claim"`); a drive
/// record has no `record` field, as in reports written before claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Marker {
    Claim(Claim),
    Release(Release),
}

/// A row the report says is taken: written ok, or claimed by a drive whose
/// end was never recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsedRow {
    pub row: Option<usize>,
    pub uuid: Option<String>,
    /// `None` in records written before rows were matched by value: those
    /// are matched by uuid, else by row number, as they were then.
    pub row_sha256: Option<String>,
}

/// Everything a report says, in file order.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub records: Vec<DriveRecord>,
    pub claims: Vec<Claim>,
    pub releases: Vec<Release>,
}

impl Ledger {
    /// A ledger of drive records only (a report written before claims).
    pub fn from_records(records: Vec<DriveRecord>) -> Ledger {
        Ledger {
            records,
            ..Ledger::default()
        }
    }

    /// The rows taken: each record that ended ok, and each claim that
    /// neither a release nor a drive record ended.
    pub fn used_rows(&self) -> Vec<UsedRow> {
        let ended: HashSet<&str> = self
            .releases
            .iter()
            .map(|r| r.claim.as_str())
            .chain(self.records.iter().filter_map(|r| r.claim.as_deref()))
            .collect();
        let written = self
            .records
            .iter()
            .filter(|r| r.result == Outcome::Ok && (r.row.is_some() || r.row_sha256.is_some()))
            .map(|r| UsedRow {
                row: r.row,
                uuid: r.uuid.clone(),
                row_sha256: r.row_sha256.clone(),
            });
        let claimed = self
            .claims
            .iter()
            .filter(|c| !ended.contains(c.claim.as_str()))
            .filter(|c| c.row.is_some() || c.row_sha256.is_some())
            .map(|c| UsedRow {
                row: c.row,
                uuid: c.uuid.clone(),
                row_sha256: c.row_sha256.clone(),
            });
        written.chain(claimed).collect()
    }

    /// The highest drive number recorded or claimed (0 for none): `{n}`
    /// goes on from there.
    pub fn last_n(&self) -> u64 {
        let recorded = self.records.iter().filter_map(|r| r.n);
        let claimed = self.claims.iter().map(|c| c.n);
        recorded.chain(claimed).max().unwrap_or(0)
    }
}

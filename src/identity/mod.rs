//! Per-drive identity: each drive of a run (or of a station) gets its own
//! config.json, made from the `--config` template and either the next unused
//! row of `--each FILE.csv` or a fresh device uuid (`--new-uuid`); string
//! values may use `{serial}`, `{n}` and `{uuid}` (docs/architecture.md §10).
//!
//! Rows are handed out in file order and never twice: a row whose drive
//! failed is released for the next drive, and the rows a report file records
//! as written ok or claimed are skipped, so a later run continues where the
//! last one stopped. A report names rows by their values (the uuid, else the
//! whole row's SHA-256), so a row inserted or removed since does not free a
//! used one. `{n}` counts the drives of the run from 1, continuing after the
//! highest `n` the report records. The CSV is locked for the whole run, as
//! the report is.

mod rows;
mod template;

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::bootcfg::{
    self, BootConfigError, ConfigJson, ConfigRequest, Configured, Json as Value, JsonMap,
    WifiProfile,
};
use crate::report::{Ledger, UsedRow};
use crate::source::ImageSource;

pub(crate) use rows::Rows;

/// The config.json key of a balena device's uuid.
pub(crate) const UUID_KEY: &str = "uuid";
const HOSTNAME_KEY: &str = "hostname";

/// How each drive gets its own configuration, as the user asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityOptions {
    /// `--each FILE.csv`: one row per drive.
    pub each: Option<PathBuf>,
    /// `--new-uuid`: a fresh device uuid per drive.
    pub new_uuid: bool,
}

/// Why per-drive identities cannot be made (a refusal, exit 2), or why a
/// drive gets none.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("cannot read the CSV file {path}: {cause}")]
    ReadCsv { path: PathBuf, cause: io::Error },
    #[error(
        "cannot lock the CSV file {path} (it is locked for the whole run, so that two runs never hand out one row): {cause}"
    )]
    LockCsv { path: PathBuf, cause: io::Error },
    #[error("the CSV file {path} cannot be used: {reason}")]
    InvalidCsv { path: PathBuf, reason: String },
    #[error(
        "--new-uuid makes a uuid for each drive, but {path} has a \"uuid\" column too; use one or the other"
    )]
    UuidTwice { path: PathBuf },
    #[error(
        "the configuration uses {{uuid}}, but no drive has one: add --new-uuid or a \"uuid\" column"
    )]
    NoUuid,
    #[error(transparent)]
    Config(#[from] BootConfigError),
    #[error(
        "{needed} drives need a row of {path}, but only {left} rows are left (rows already written ok, as the report records, are not used again)"
    )]
    NotEnoughRows {
        path: PathBuf,
        needed: usize,
        left: usize,
    },
    #[error("every row of {path} has been used")]
    NoRowLeft { path: PathBuf },
}

/// One drive's identity: its config.json and the values a report records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveIdentity {
    /// The drive's number in the run, from 1 (continuing from the report).
    pub n: u64,
    /// The CSV data row used (1 = the line after the header).
    pub row: Option<usize>,
    /// That row's SHA-256 ([`Rows::row_sha256`]): what a report names it by.
    pub row_sha256: Option<String>,
    /// The id of this drive's claim in the report (`report::Claim`).
    pub claim: String,
    pub uuid: Option<String>,
    pub hostname: Option<String>,
    pub config: ConfigJson,
}

/// Hands out identities, one per drive.
#[derive(Debug, Clone)]
pub struct Identities {
    template: JsonMap,
    /// The template file, for error messages.
    template_path: PathBuf,
    rows: Option<Rows>,
    new_uuid: bool,
    /// Rows taken: written ok in an earlier run, or given to a drive of
    /// this run that has not failed.
    taken: BTreeSet<usize>,
    next_n: u64,
    /// The CSV file's lock, held while any clone lives.
    _csv_lock: Option<Arc<File>>,
}

impl Identities {
    /// The identities asked for by `options`, with `template` (the
    /// `--config` file) as the base, continuing after what the report
    /// says (`earlier`). `Ok(None)` when every drive gets the same
    /// configuration: no CSV, no `--new-uuid`, no placeholder.
    pub fn new(
        template: Option<&Path>,
        options: &IdentityOptions,
        earlier: &Ledger,
    ) -> Result<Option<Identities>, IdentityError> {
        let (template, template_path) = match template {
            Some(path) => (load_template(path)?, path.to_path_buf()),
            None => (JsonMap::new(), PathBuf::from("config.json")),
        };
        let csv_lock = options.each.as_deref().map(lock_csv).transpose()?;
        let rows = options.each.as_deref().map(Rows::load).transpose()?;
        let placeholders = template::uses_placeholders(&Value::Object(template.clone()));
        if rows.is_none() && !options.new_uuid && !placeholders {
            return Ok(None);
        }
        if let Some(rows) = &rows
            && options.new_uuid
            && rows.has_column(UUID_KEY)
        {
            return Err(IdentityError::UuidTwice {
                path: rows.path.clone(),
            });
        }
        let taken = match &rows {
            Some(rows) => taken_rows(rows, &earlier.used_rows()),
            None => BTreeSet::new(),
        };
        let identities = Identities {
            template,
            template_path,
            rows,
            new_uuid: options.new_uuid,
            taken,
            next_n: earlier.last_n() + 1,
            _csv_lock: csv_lock.map(Arc::new),
        };
        identities.check_every_row()?;
        Ok(Some(identities))
    }

    /// Builds every row's configuration once, so that a bad row is a
    /// refusal before anything is written, not a failure at its drive.
    fn check_every_row(&self) -> Result<(), IdentityError> {
        let rows = self.rows.as_ref().map_or(0, |r| r.cells.len());
        let candidates: Vec<Option<usize>> = if rows == 0 {
            vec![None]
        } else {
            (1..=rows).map(Some).collect()
        };
        for row in candidates {
            let uuid = self.new_uuid.then(new_uuid);
            self.build(row, 1, "serial", uuid)?;
        }
        Ok(())
    }

    /// How many drives can still get a row; `None` without a CSV.
    pub fn rows_left(&self) -> Option<usize> {
        self.rows.as_ref().map(|rows| {
            (1..=rows.cells.len())
                .filter(|r| !self.taken.contains(r))
                .count()
        })
    }

    /// Refuses a run of `drives` drives that would run out of rows.
    pub fn check_enough_for(&self, drives: usize) -> Result<(), IdentityError> {
        match (self.rows_left(), &self.rows) {
            (Some(left), Some(rows)) if left < drives => Err(IdentityError::NotEnoughRows {
                path: rows.path.clone(),
                needed: drives,
                left,
            }),
            _ => Ok(()),
        }
    }

    /// The next drive's identity; `serial` fills `{serial}`.
    pub fn assign(&mut self, serial: &str) -> Result<DriveIdentity, IdentityError> {
        let row = match &self.rows {
            Some(rows) => Some(
                (1..=rows.cells.len())
                    .find(|r| !self.taken.contains(r))
                    .ok_or_else(|| IdentityError::NoRowLeft {
                        path: rows.path.clone(),
                    })?,
            ),
            None => None,
        };
        let uuid = self.new_uuid.then(new_uuid);
        let identity = self.build(row, self.next_n, serial, uuid)?;
        if let Some(row) = row {
            self.taken.insert(row);
        }
        self.next_n += 1;
        Ok(identity)
    }

    /// Gives the row of a drive that failed back, for the next drive.
    pub fn release(&mut self, identity: &DriveIdentity) {
        if let Some(row) = identity.row {
            self.taken.remove(&row);
        }
    }

    /// The configuration of row `row` for drive number `n`.
    fn build(
        &self,
        row: Option<usize>,
        n: u64,
        serial: &str,
        new_uuid: Option<String>,
    ) -> Result<DriveIdentity, IdentityError> {
        let mut config = match (&self.rows, row) {
            (Some(rows), Some(row)) => rows.merge(row, &self.template)?,
            _ => self.template.clone(),
        };
        if let Some(uuid) = &new_uuid {
            config.insert(UUID_KEY.to_string(), Value::String(uuid.clone()));
        }
        // `{uuid}` is the drive's uuid as written, whichever way it came.
        let uuid = match config.get(UUID_KEY) {
            Some(Value::String(uuid))
                if !template::uses_placeholders(&Value::String(uuid.clone())) =>
            {
                Some(uuid.clone())
            }
            _ => None,
        };
        let mut value = Value::Object(config);
        let values = template::Values {
            serial,
            n,
            uuid: uuid.as_deref(),
        };
        if !template::fill(&mut value, &values) {
            return Err(IdentityError::NoUuid);
        }
        let hostname = match &value {
            Value::Object(map) => map
                .get(HOSTNAME_KEY)
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => None,
        };
        let bytes = value.to_bytes();
        let label = match (&self.rows, row) {
            (Some(rows), Some(row)) => PathBuf::from(format!(
                "{} with row {row} of {}",
                self.template_path.display(),
                rows.path.display()
            )),
            _ => self.template_path.clone(),
        };
        let config = ConfigJson::parse(&bytes, &label)?;
        Ok(DriveIdentity {
            n,
            row,
            row_sha256: match (&self.rows, row) {
                (Some(rows), Some(row)) => Some(rows.row_sha256(row)),
                _ => None,
            },
            claim: self::new_uuid(),
            uuid,
            hostname,
            config,
        })
    }
}

/// The `--config` template at `path`: its fields, numbers as written.
fn load_template(path: &Path) -> Result<JsonMap, IdentityError> {
    let config = ConfigJson::load(path)?;
    match Value::parse(&config.bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => unreachable!("ConfigJson::parse only accepts JSON objects"),
    }
}

/// Opens and locks the CSV at `path` for the whole run (waiting while
/// another run holds it); a FIFO or other non-file is read unlocked.
fn lock_csv(path: &Path) -> Result<File, IdentityError> {
    let cause = |cause| IdentityError::LockCsv {
        path: path.to_path_buf(),
        cause,
    };
    // As the user, even in an elevated helper (docs/architecture.md §3).
    let file =
        crate::platform::open_as_user(path, crate::platform::UserOpen::Read).map_err(|cause| {
            IdentityError::ReadCsv {
                path: path.to_path_buf(),
                cause,
            }
        })?;
    if file.metadata().map_err(cause)?.is_file() {
        crate::report::lock_exclusive(&file, path, "the CSV file").map_err(cause)?;
    }
    Ok(file)
}

/// The rows of `rows` that `used` (what a report says) names: by uuid
/// when the row has one; else by the row's SHA-256; a record written
/// before rows were named by value and without a uuid to match, by its
/// row number.
fn taken_rows(rows: &Rows, used: &[UsedRow]) -> BTreeSet<usize> {
    let has_uuids = rows.has_column(UUID_KEY);
    (1..=rows.cells.len())
        .filter(|&row| {
            let uuid = rows.cell(row, UUID_KEY);
            let sha = rows.row_sha256(row);
            used.iter().any(|u| {
                let by_uuid =
                    matches!((uuid, &u.uuid), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b));
                let by_value = u.row_sha256.as_deref() == Some(sha.as_str());
                let legacy = u.row_sha256.is_none()
                    && !(has_uuids && u.uuid.is_some())
                    && u.row == Some(row);
                by_uuid || by_value || legacy
            })
        })
        .collect()
}

/// The image of `source` configured for the drive with `identity` (and the
/// WiFi profile every drive shares): that drive's patch.
pub(crate) fn configure(
    source: &ImageSource,
    identity: &DriveIdentity,
    wifi: Option<&WifiProfile>,
) -> Result<Configured, BootConfigError> {
    let request = ConfigRequest {
        config: Some(identity.config.clone()),
        wifi: wifi.cloned(),
    };
    bootcfg::configure(source, &request)
}

/// A fresh balena device uuid: 32 lowercase hexadecimal digits from the
/// OS's random source (as balena-cli makes them: 16 random bytes).
pub(crate) fn new_uuid() -> String {
    let mut bytes = [0u8; 16];
    // The OS's random source only fails on a broken system; nothing else
    // may stand in for it, as two devices with one uuid fight over it.
    getrandom::fill(&mut bytes).expect("the OS's random number source works");
    crate::hex::hex(&bytes)
}

#[cfg(test)]
mod tests;

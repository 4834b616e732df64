//! A flashing station (`imprint station`, the app's Station view): a loop
//! over drive events. Drives present when it starts are listed, not
//! flashed; every drive inserted afterwards that is eligible starts
//! flashing at once, alone, at its own pace, with its own identity; each
//! ends in a report record; nothing is flashed twice in a run
//! (docs/architecture.md §10, §11 "Station identity and safety").
//!
//! ```text
//! poll (sysfs snapshot) ─▶ new drive ─▶ eligible? ─▶ identity ─▶ station/<dev> thread
//!                                          │                       ├─ SharedImage::flash_one (own patch)
//!                                          └─▶ skipped (reason)    └─▶ record ─▶ report line
//! ```
//!
//! The image is decoded once for the whole station (`engine::SharedImage`);
//! the loop is one thread and each drive's run a thread of its own, reading
//! the decode at its own pace, so a failing or stalled drive never holds
//! another back.

mod drive;
mod glob;
mod job;
mod prepare;
mod run_loop;
mod watch;
mod wire;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use crate::request::claim;
pub(crate) use drive::{Eligibility, SeenDrive};
pub(crate) use job::Shared;
use watch::Watch;

use crate::bootcfg;
use crate::engine::FlashEvent;
use crate::identity::{DriveIdentity, Identities, IdentityError, IdentityOptions};
use crate::report::{DriveRecord, Report, ReportError};
use crate::request::per_drive::PerDriveError;
use crate::request::{FlashOptions, RequestError};
use crate::sign::SecretKey;
use crate::source::ImageSource;

/// The drives a station plans memory for: a hub of sixteen ports (more
/// work too, each taking a little from the shared image's budget).
const CONCURRENT_DRIVES: usize = 16;

/// Why an eligible drive present at the start is not flashed.
pub(crate) const PRESENT_AT_START: &str =
    "present when the station started; plug it in again to flash it";

/// What a station is asked to do.
#[derive(Debug, Clone)]
pub(crate) struct StationOptions {
    /// The image, its configuration template and how to write it
    /// (`targets` is ignored: the drives come as they are inserted).
    pub flash: FlashOptions,
    pub identity: IdentityOptions,
    pub report: Option<PathBuf>,
    /// Stop once this many drives finished, ok or failed.
    pub count: Option<usize>,
    pub eligibility: Eligibility,
    /// Flash a drive again when it comes back (`--again`).
    pub again: bool,
    pub poll_interval: Duration,
    /// The counterfeit probe of each drive (`--no-probe`: `Off`).
    pub probe: crate::target::probe::ProbeMode,
}

/// What a station reports as it runs.
#[derive(Debug, Clone)]
pub(crate) enum StationEvent {
    /// Watching; `present` were there before and are not flashed, each
    /// with the reason.
    Started {
        present: Vec<(SeenDrive, String)>,
    },
    Inserted(SeenDrive),
    /// Not flashed, and why.
    Skipped {
        drive: SeenDrive,
        reason: String,
    },
    Removed(SeenDrive),
    /// A drive starts being flashed, with its identity when it has one.
    Flashing {
        drive: SeenDrive,
        identity: Option<Box<DriveIdentity>>,
    },
    /// An engine event of a drive being flashed (progress, target done).
    Flash {
        drive: SeenDrive,
        event: FlashEvent,
    },
    /// A drive is finished; `record` is its report line.
    Finished {
        drive: SeenDrive,
        record: Box<DriveRecord>,
    },
    /// Something the operator must know that stops no drive (the report
    /// could not be written).
    Warning(String),
}

/// Why a station cannot start (exit 2: nothing was written).
#[derive(Debug, thiserror::Error)]
pub(crate) enum StationError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(
        "a station needs an image it can read again for every drive; {0} is a stream (standard input, a pipe): save it to a file first"
    )]
    StreamImage(PathBuf),
    #[error("cannot list the drives of this machine: {0}")]
    Drives(std::io::Error),
    /// The shared image cannot be set up (its reason, as the engine words
    /// it: a message, not an error to wrap).
    #[error("{0}")]
    Spool(String),
    #[error("--sign signs each drive's record: give the report too (--report FILE)")]
    SignWithoutReport,
}

impl From<PerDriveError> for StationError {
    fn from(error: PerDriveError) -> StationError {
        match error {
            PerDriveError::Report(e) => StationError::Report(e),
            PerDriveError::Identity(e) => StationError::Identity(e),
            PerDriveError::Config(e) => StationError::Request(RequestError::Config(e)),
            PerDriveError::Customise(e) => StationError::Request(RequestError::Customise(e)),
        }
    }
}

/// How a station ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub ok: usize,
    pub failed: usize,
    /// Cut off mid-write by a stop.
    pub cancelled: usize,
    pub skipped: usize,
    pub image_sha256: Option<String>,
    /// The report could not be written at least once.
    pub report_failed: bool,
}

/// A station ready to run: every check that needs no drive has passed.
pub(crate) struct Station {
    options: StationOptions,
    watch: Watch,
    shared: Arc<Shared>,
    identities: Option<Identities>,
    report: Option<Report>,
}

impl Station {
    /// The image, as opened.
    pub(crate) fn source(&self) -> &ImageSource {
        &self.shared.source
    }

    /// The configuration every drive shares, when there are no per-drive
    /// identities.
    pub(crate) fn configured(&self) -> Option<&bootcfg::Configured> {
        self.shared.configured.as_ref()
    }

    /// Signs each drive's record with `key` (`--sign`), as `flash
    /// --report --sign` does; refused without a report to sign beside.
    pub(crate) fn sign_with(&mut self, key: SecretKey) -> Result<(), StationError> {
        let report = self
            .options
            .report
            .clone()
            .ok_or(StationError::SignWithoutReport)?;
        // Only `prepare` made the station and it has not run: nothing else
        // holds the shared part yet.
        let shared = Arc::get_mut(&mut self.shared)
            .unwrap_or_else(|| unreachable!("a station is signed before it runs"));
        shared.signer = Some(job::Signer { key, report });
        Ok(())
    }
}

/// The device path of a drive, for messages.
pub(crate) fn describe(seen: &SeenDrive) -> String {
    describe_path(seen.path(), &seen.drive.display_name())
}

fn describe_path(path: &Path, name: &str) -> String {
    let path = path.display().to_string();
    if name == path {
        path
    } else {
        format!("{path} ({name})")
    }
}

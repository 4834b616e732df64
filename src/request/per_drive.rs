//! Per-drive identity and the report, for `flash --each`/`--new-uuid`/
//! `--report` and the station alike: the report (and the CSV) stay locked
//! from before they are read until the run ends; each drive's identity is
//! claimed in the report before anything is written, and released when
//! the drive is not written after all (docs/architecture.md §10).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::FlashOptions;
use super::record::{claim, complete, new_record, release};
use super::seen::{SeenDrive, seen_at};
use crate::bootcfg::{BootConfigError, Configured};
use crate::engine::{FlashJob, FlashReport};
use crate::identity::{self, DriveIdentity, Identities, IdentityError, IdentityOptions};
use crate::protocol::{ErrorKind, Outcome};
use crate::report::{Ledger, Report, ReportError};

/// Why per-drive identities or the report cannot be used: the run is
/// refused before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum PerDriveError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Config(#[from] BootConfigError),
}

impl PerDriveError {
    /// The kind of the protocol's `error` event.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PerDriveError::Report(_) => ErrorKind::Refused,
            PerDriveError::Identity(_) | PerDriveError::Config(_) => ErrorKind::Config,
        }
    }
}

/// Opens (and locks) the report at `report`, if any, and reads the
/// identities `template` and `options` ask for, skipping those the report
/// already holds: the one way a run gets its identities.
pub fn identities(
    template: Option<&Path>,
    options: &IdentityOptions,
    report: Option<&Path>,
) -> Result<(Option<Report>, Option<Identities>), PerDriveError> {
    let (report, earlier) = match report {
        Some(path) => {
            let (report, earlier) = Report::open(path)?;
            (Some(report), earlier)
        }
        None => (None, Ledger::default()),
    };
    let identities = Identities::new(template, options, &earlier)?;
    Ok((report, identities))
}

/// Whether the config.json `template` gives each drive its own values
/// (`{serial}`, `{n}`, `{uuid}`): then no single configuration matches a
/// drive written from it. A template that cannot be read is not: the run
/// refuses it, naming it.
pub fn is_per_drive_template(template: &Path) -> bool {
    match Identities::new(
        Some(template),
        &IdentityOptions::default(),
        &Ledger::default(),
    ) {
        Ok(identities) => identities.is_some(),
        Err(IdentityError::NoUuid) => true,
        Err(_) => false,
    }
}

/// One target's identity and what the report says of it.
struct Target {
    seen: Option<SeenDrive>,
    identity: Option<DriveIdentity>,
    config_sha256: Option<String>,
}

/// The per-target part of a `flash` run.
pub struct PerDrive {
    report: Option<Report>,
    targets: Vec<Target>,
}

/// When a target finished: seconds since the start, the time, and the
/// target's SHA-256.
pub type Finished = (f64, SystemTime, Option<String>);

/// Opens the report at `report` and gives each target of `job` its
/// identity and its own patch; `Ok(None)` when neither is asked for.
pub fn prepare(
    identity_options: &IdentityOptions,
    report: Option<&Path>,
    options: &FlashOptions,
    job: &mut FlashJob,
    configured: Option<&Configured>,
) -> Result<Option<PerDrive>, PerDriveError> {
    let template = options.config.config.as_deref();
    let (report, identities) = identities(template, identity_options, report)?;
    if report.is_none() && identities.is_none() {
        return Ok(None);
    }
    let seen: Vec<Option<SeenDrive>> = job.targets.iter().map(|t| seen_at(t)).collect();
    let mut targets = Vec::new();
    match identities {
        Some(mut identities) => {
            identities.check_enough_for(job.targets.len())?;
            let wifi = options.config.check_wifi()?;
            for (index, seen) in seen.into_iter().enumerate() {
                let serial = match &seen {
                    Some(seen) => seen.serial_text(),
                    None => file_name(&job.targets[index]),
                };
                let identity = identities.assign(&serial)?;
                let own = identity::configure(&job.source, &identity, wifi.as_ref())?;
                job.patches[index] = Some(own.patch);
                targets.push(Target {
                    seen,
                    identity: Some(identity),
                    config_sha256: Some(own.config_sha256),
                });
            }
        }
        None => {
            for seen in seen {
                targets.push(Target {
                    seen,
                    identity: None,
                    config_sha256: configured.map(|c| c.config_sha256.clone()),
                });
            }
        }
    }
    Ok(Some(PerDrive { report, targets }))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl PerDrive {
    /// Claims each target's identity in the report, before anything is
    /// written; when one claim cannot be written, releases the others and
    /// says why (the run is refused).
    pub fn claim(&mut self, targets: &[PathBuf]) -> Result<(), String> {
        let Some(file) = &mut self.report else {
            return Ok(());
        };
        for (index, target) in self.targets.iter().enumerate() {
            let Some(identity) = &target.identity else {
                continue;
            };
            let marker = claim(identity, &targets[index], target.seen.as_ref());
            if let Err(e) = file.append_marker(&marker) {
                let message = format!(
                    "cannot claim {}'s identity in the report {}: {e}; nothing was written",
                    targets[index].display(),
                    file.path().display()
                );
                self.targets.truncate(index);
                self.release("a claim could not be written; nothing was written");
                return Err(message);
            }
        }
        Ok(())
    }

    /// Releases every target's claim: nothing was written, because
    /// `reason`. A release that cannot be written leaves its row claimed,
    /// which keeps it from being handed out: safe, and said.
    pub fn release(&mut self, reason: &str) {
        let Some(file) = &mut self.report else {
            return;
        };
        for identity in self.targets.iter().filter_map(|t| t.identity.as_ref()) {
            if let Err(e) = file.append_marker(&release(identity, reason)) {
                eprintln!(
                    "imprint: cannot release the claim {} in the report {}: {e}; its row stays claimed",
                    identity.claim,
                    file.path().display()
                );
            }
        }
    }

    /// Appends each target's record after the run: `finished` says when
    /// each target ended (`unfinished` for one whose end was not seen).
    /// Returns what could not be recorded, one message a target.
    pub fn record(
        &mut self,
        job: &FlashJob,
        report: &FlashReport,
        started: SystemTime,
        finished: &[Option<Finished>],
        unfinished: Finished,
        probes: &[Option<String>],
    ) -> Vec<String> {
        let mut failures = Vec::new();
        let Some(file) = &mut self.report else {
            return failures;
        };
        for (index, target) in self.targets.iter().enumerate() {
            let mut record = new_record(
                job.source.path(),
                &job.targets[index],
                target.seen.as_ref(),
                target.identity.as_ref(),
                started,
            );
            record.image_sha256 = report.image_sha256.clone();
            record.config_sha256 = target.config_sha256.clone();
            let (seconds, at, sha256) = finished[index].clone().unwrap_or(unfinished.clone());
            record.sha256 = sha256;
            record.probe = probes.get(index).cloned().flatten();
            let record = complete(record, &report.targets[index], seconds, at);
            if let Err(e) = file.append(&record) {
                failures.push(format!(
                    "cannot append to the report {}: {e}; {} ({}) is not recorded",
                    file.path().display(),
                    job.targets[index].display(),
                    match record.result {
                        Outcome::Ok => "written ok",
                        _ => "failed",
                    }
                ));
            }
        }
        failures
    }
}

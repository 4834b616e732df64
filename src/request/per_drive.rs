//! Per-drive identity and the report, for `flash --each`/`--new-uuid`/
//! `--report` and the station alike: the report (and the CSV) stay locked
//! from before they are read until the run ends; each drive's identity is
//! claimed in the report before anything is written, and released when
//! the drive is not written after all (docs/architecture.md §10).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::CustomisePlan;
use super::FlashOptions;
use super::record::{claim, complete, new_record, release};
use super::seen::{SeenDrive, seen_at};
use crate::bootcfg::{BootConfigError, Configured, WifiProfile};
use crate::customise::CustomiseError;
use crate::engine::{FlashJob, FlashReport};
use crate::identity::{self, DriveIdentity, Identities, IdentityError, IdentityOptions};
use crate::protocol::{ErrorKind, Outcome};
use crate::report::{Ledger, Report, ReportError};
use crate::sign::SecretKey;
use crate::source::ImageSource;

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
    #[error("{0}")]
    Customise(#[from] CustomiseError),
}

impl PerDriveError {
    /// The kind of the protocol's `error` event.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PerDriveError::Report(_) => ErrorKind::Refused,
            PerDriveError::Identity(_) | PerDriveError::Config(_) | PerDriveError::Customise(_) => {
                ErrorKind::Config
            }
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
    /// `--sign`: each record is also written alone and signed with it.
    signer: Option<SecretKey>,
}

/// When a target finished: seconds since the start, the time, and the
/// target's SHA-256.
pub type Finished = (f64, SystemTime, Option<String>);

/// Opens the report at `report` and gives each target of `job` its
/// identity and its own patch; `Ok(None)` when neither is asked for. With
/// a customisation (`customise`), a drive's own hostname — its `--each`
/// row's `hostname`, or `--hostname` with `{n}`/`{serial}` filled — goes
/// into the image's own format.
pub fn prepare(
    identity_options: &IdentityOptions,
    report: Option<&Path>,
    options: &FlashOptions,
    job: &mut FlashJob,
    configured: Option<&Configured>,
    customise: Option<&CustomisePlan>,
) -> Result<Option<PerDrive>, PerDriveError> {
    let template = options.config.config.as_deref();
    let (report, identities) = identities(template, identity_options, report)?;
    let per_drive_hostname = customise.is_some_and(|plan| plan.model.is_per_drive());
    if report.is_none() && identities.is_none() && !per_drive_hostname {
        return Ok(None);
    }
    let seen: Vec<Option<SeenDrive>> = job.targets.iter().map(|t| seen_at(t)).collect();
    let mut targets = Vec::new();
    let mut identities = identities;
    if let Some(identities) = &identities {
        identities.check_enough_for(job.targets.len())?;
    }
    let wifi = options.config.check_wifi()?;
    for (index, seen) in seen.into_iter().enumerate() {
        let serial = match &seen {
            Some(seen) => seen.serial_text(),
            None => file_name(&job.targets[index]),
        };
        let identity = identities.as_mut().map(|i| i.assign(&serial)).transpose()?;
        let own = own_configuration(
            &job.source,
            customise,
            identity.as_ref(),
            template.is_some(),
            wifi.as_ref(),
            index as u64 + 1,
            &serial,
        )?;
        let config_sha256 = match &own {
            Some(own) => {
                job.patches[index] = Some(own.patch.clone());
                Some(own.config_sha256.clone())
            }
            None => configured.map(|c| c.config_sha256.clone()),
        };
        targets.push(Target {
            seen,
            identity,
            config_sha256,
        });
    }
    Ok(Some(PerDrive {
        report,
        targets,
        signer: None,
    }))
}

/// The configuration of one drive of its own, or `None` when it shares
/// the run's: with a customisation, its hostname — `identity`'s CSV row's,
/// or the plan's with `{n}` (`identity`'s number, else `n`) and `{serial}`
/// filled — in the image's own format; without one, `identity`'s balenaOS
/// config.json. The one rule for `flash` and the station
/// (docs/architecture.md §4a, §10). `template`: a `--config` template made
/// `identity`'s config.json, the balenaOS base of a customisation.
pub(crate) fn own_configuration(
    source: &ImageSource,
    customise: Option<&CustomisePlan>,
    identity: Option<&DriveIdentity>,
    template: bool,
    wifi: Option<&WifiProfile>,
    n: u64,
    serial: &str,
) -> Result<Option<Configured>, PerDriveError> {
    match (customise, identity) {
        (Some(plan), _) if identity.is_some() || plan.model.is_per_drive() => {
            let n = identity.map_or(n, |i| i.n);
            let row_hostname = identity.and_then(|i| i.hostname.as_deref());
            let hostname = plan.hostname_for(row_hostname, n, serial);
            let base = identity.filter(|_| template).map(|i| &i.config);
            Ok(Some(plan.apply(source, hostname, base)?))
        }
        (None, Some(identity)) => Ok(Some(identity::configure(source, identity, wifi)?)),
        _ => Ok(None),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl PerDrive {
    /// Signs every record with `key` (`--sign`): each ok drive is read back
    /// once more for its record's range hashes (`signed::seal`).
    pub(crate) fn sign_with(&mut self, key: SecretKey) {
        self.signer = Some(key);
    }

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
            let mut record = complete(record, &report.targets[index], seconds, at);
            if let Some(key) = &self.signer
                && let Err(e) = super::signed::seal(&mut record, job, report, file.path(), key)
            {
                failures.push(e);
            }
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

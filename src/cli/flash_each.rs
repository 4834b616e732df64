//! `flash --each FILE.csv`, `--new-uuid` and `--report FILE`: each target
//! its own configuration (its own patch: every other byte is shared), and
//! one report record per target. The report (and the CSV) stay locked from
//! before they are read until the run ends; each target's identity is
//! claimed in the report before anything is written, and released when
//! the run is refused after all (docs/architecture.md §10).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

use super::args::IdentityArgs;
use super::flash::{run_engine, run_info};
use super::json_lines::emit;
use super::refuse;
use super::sink::{EventSink, RunInfo};
use crate::bootcfg::Configured;
use crate::engine::{FlashEvent, FlashJob, FlashReport, Refusal};
use crate::identity::{self, DriveIdentity, Identities};
use crate::protocol::{ErrorKind, WireEvent};
use crate::report::Report;
use crate::request::{Exit, FlashOptions, Mode};
use crate::station::{self, SeenDrive};

/// One target's identity and what the report says of it.
struct Target {
    seen: Option<SeenDrive>,
    identity: Option<DriveIdentity>,
    config_sha256: Option<String>,
}

/// The per-target part of a flash run.
pub struct PerTarget {
    report: Option<Report>,
    targets: Vec<Target>,
    json: bool,
}

/// Opens the report and gives each target of `job` its identity and its
/// own patch; `Ok(None)` when neither is asked for. A refusal (a bad CSV,
/// too few rows, an unusable report) is exit 2 before anything is written.
pub fn prepare(
    args: &IdentityArgs,
    options: &FlashOptions,
    job: &mut FlashJob,
    configured: Option<&Configured>,
    json: bool,
) -> Result<Option<PerTarget>, Exit> {
    let refused = |kind: ErrorKind, message: String| refuse(json, kind, &message);
    let (report, earlier) = match &args.report {
        Some(path) => {
            let (report, earlier) =
                Report::open(path).map_err(|e| refused(ErrorKind::Refused, e.to_string()))?;
            (Some(report), earlier)
        }
        None => (None, crate::report::Ledger::default()),
    };
    let identities = Identities::new(options.config.config.as_deref(), &args.into(), &earlier)
        .map_err(|e| refused(ErrorKind::Config, e.to_string()))?;
    if report.is_none() && identities.is_none() {
        return Ok(None);
    }
    let seen: Vec<Option<SeenDrive>> = job.targets.iter().map(|t| station::seen_at(t)).collect();
    let mut targets = Vec::new();
    match identities {
        Some(mut identities) => {
            identities
                .check_enough_for(job.targets.len())
                .map_err(|e| refused(ErrorKind::Config, e.to_string()))?;
            let wifi = options
                .config
                .check_wifi()
                .map_err(|e| refused(ErrorKind::Config, e.to_string()))?;
            for (index, seen) in seen.into_iter().enumerate() {
                let serial = match &seen {
                    Some(seen) => seen.serial_text(),
                    None => file_name(&job.targets[index]),
                };
                let identity = identities
                    .assign(&serial)
                    .map_err(|e| refused(ErrorKind::Config, e.to_string()))?;
                let own = identity::configure(&job.source, &identity, wifi.as_ref())
                    .map_err(|e| refused(ErrorKind::Config, e.to_string()))?;
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
    Ok(Some(PerTarget {
        report,
        targets,
        json,
    }))
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl PerTarget {
    /// Runs `job` to its end, then appends each target's record.
    pub fn run(
        mut self,
        job: &FlashJob,
        configured: Option<&Configured>,
        sink: &mut dyn EventSink,
        cancel: Arc<AtomicBool>,
        eject: bool,
    ) -> Exit {
        if let Err(message) = self.claim(job) {
            return refuse(self.json, ErrorKind::Report, &message);
        }
        let started = SystemTime::now();
        let info = run_info(job, configured);
        let mut timing = Timing {
            inner: sink,
            clock: Instant::now(),
            finished: vec![None; job.targets.len()],
        };
        let report = match run_engine(job, &info, &mut timing, Mode::Flash, cancel, eject) {
            Ok(report) => report,
            Err(refusals) => {
                timing.refused(&refusals);
                self.release("the run was refused before anything was written");
                return Exit::Refused;
            }
        };
        let mut exit = Exit::of(&report);
        let Some(file) = &mut self.report else {
            return exit;
        };
        for (index, target) in self.targets.iter().enumerate() {
            let mut record = station::new_record(
                job.source.path(),
                &job.targets[index],
                target.seen.as_ref(),
                target.identity.as_ref(),
                started,
            );
            record.image_sha256 = report.image_sha256.clone();
            record.config_sha256 = target.config_sha256.clone();
            let (seconds, finished, sha256) = timing.finished[index].clone().unwrap_or((
                timing.clock.elapsed().as_secs_f64(),
                SystemTime::now(),
                None,
            ));
            record.sha256 = sha256;
            let record = station::complete(record, &report.targets[index], seconds, finished);
            if let Err(e) = file.append(&record) {
                let message = format!(
                    "cannot append to the report {}: {e}; {} ({}) is not recorded",
                    file.path().display(),
                    job.targets[index].display(),
                    match record.result {
                        crate::protocol::Outcome::Ok => "written ok",
                        _ => "failed",
                    }
                );
                if self.json {
                    emit(&WireEvent::error(ErrorKind::Report, &message));
                }
                eprintln!("imprint: {message}");
                exit = Exit::Failed;
            }
        }
        exit
    }

    /// Claims each target's identity in the report, before anything is
    /// written; when one claim cannot be written, releases the others and
    /// says why (the run is refused).
    fn claim(&mut self, job: &FlashJob) -> Result<(), String> {
        let Some(file) = &mut self.report else {
            return Ok(());
        };
        for (index, target) in self.targets.iter().enumerate() {
            let Some(identity) = &target.identity else {
                continue;
            };
            let marker = station::claim(identity, &job.targets[index], target.seen.as_ref());
            if let Err(e) = file.append_marker(&marker) {
                let message = format!(
                    "cannot claim {}'s identity in the report {}: {e}; nothing was written",
                    job.targets[index].display(),
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
    fn release(&mut self, reason: &str) {
        let Some(file) = &mut self.report else {
            return;
        };
        for identity in self.targets.iter().filter_map(|t| t.identity.as_ref()) {
            if let Err(e) = file.append_marker(&station::release(identity, reason)) {
                eprintln!(
                    "imprint: cannot release the claim {} in the report {}: {e}; its row stays claimed",
                    identity.claim,
                    file.path().display()
                );
            }
        }
    }
}

/// Passes events on, noting when each target finished.
struct Timing<'a> {
    inner: &'a mut dyn EventSink,
    clock: Instant,
    /// Seconds since the start, the time, and the target's SHA-256.
    finished: Vec<Option<(f64, SystemTime, Option<String>)>>,
}

impl EventSink for Timing<'_> {
    fn start(&mut self, info: &RunInfo<'_>) {
        self.inner.start(info);
    }

    fn event(&mut self, event: &FlashEvent) {
        if let FlashEvent::TargetDone { target, sha256, .. } = event
            && let Some(slot) = self.finished.get_mut(*target)
        {
            *slot = Some((
                self.clock.elapsed().as_secs_f64(),
                SystemTime::now(),
                sha256.clone(),
            ));
        }
        self.inner.event(event);
    }

    fn finish(&mut self, info: &RunInfo<'_>, report: &FlashReport) {
        self.inner.finish(info, report);
    }

    fn refused(&mut self, refusals: &[Refusal]) {
        self.inner.refused(refusals);
    }
}

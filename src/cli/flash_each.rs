//! `flash --each FILE.csv`, `--new-uuid` and `--report FILE`: each target
//! its own configuration (its own patch: every other byte is shared), and
//! one report record per target.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

use super::args::IdentityArgs;
use super::flash::{run_engine, run_info};
use super::refuse;
use super::sink::{EventSink, RunInfo};
use crate::bootcfg::Configured;
use crate::engine::{FlashEvent, FlashJob, FlashReport, Refusal};
use crate::identity::{self, DriveIdentity, Identities};
use crate::protocol::ErrorKind;
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
        None => (None, Vec::new()),
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
    Ok(Some(PerTarget { report, targets }))
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
                return Exit::Refused;
            }
        };
        let mut exit = Exit::of(&report);
        if let Some(file) = &mut self.report {
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
                    eprintln!(
                        "imprint: cannot append to the report {}: {e}",
                        file.path().display()
                    );
                    exit = Exit::Failed;
                }
            }
        }
        exit
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

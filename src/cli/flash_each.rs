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
use crate::protocol::{ErrorKind, WireEvent};
use crate::request::per_drive::{self, Finished, PerDrive};
use crate::request::{CustomisePlan, Exit, FlashOptions, Mode};
use crate::sign;

/// The per-target part of a flash run, as the command line runs it.
pub(super) struct PerTarget {
    inner: PerDrive,
    json: bool,
}

/// Opens the report and gives each target of `job` its identity and its
/// own patch (`request::per_drive`); `Ok(None)` when neither is asked for.
/// A refusal (a bad CSV, too few rows, an unusable report) is exit 2
/// before anything is written.
pub(super) fn prepare(
    args: &IdentityArgs,
    options: &FlashOptions,
    job: &mut FlashJob,
    configured: Option<&Configured>,
    customise: Option<&CustomisePlan>,
    json: bool,
) -> Result<Option<PerTarget>, Exit> {
    let prepared = per_drive::prepare(
        &args.into(),
        args.report.as_deref(),
        options,
        job,
        configured,
        customise,
    );
    let mut inner = match prepared {
        Ok(Some(inner)) => inner,
        Ok(None) => return Ok(None),
        Err(e) => return Err(refuse(json, e.kind(), &e.to_string())),
    };
    if let Some(key) = &args.sign {
        // Read (and decrypted) before anything is written: a wrong
        // password is a refusal, not a drive written and left unsigned.
        match sign::read_secret_key(key, || super::key::ask_password(key)) {
            Ok(key) => inner.sign_with(key),
            Err(e) => return Err(refuse(json, ErrorKind::Refused, &e.to_string())),
        }
    }
    Ok(Some(PerTarget { inner, json }))
}

impl PerTarget {
    /// Runs `job` to its end, then appends each target's record.
    pub(super) fn run(
        mut self,
        job: &FlashJob,
        configured: Option<&Configured>,
        sink: &mut dyn EventSink,
        cancel: Arc<AtomicBool>,
        eject: bool,
    ) -> Exit {
        if let Err(message) = self.inner.claim(&job.targets) {
            return refuse(self.json, ErrorKind::Report, &message);
        }
        let started = SystemTime::now();
        let info = run_info(job, configured);
        let mut timing = Timing {
            inner: sink,
            clock: Instant::now(),
            finished: vec![None; job.targets.len()],
            probes: vec![None; job.targets.len()],
        };
        let report = match run_engine(job, &info, &mut timing, Mode::Flash, cancel, eject) {
            Ok(report) => report,
            Err(refusals) => {
                timing.refused(&refusals);
                self.inner
                    .release("the run was refused before anything was written");
                return Exit::Refused;
            }
        };
        let mut exit = Exit::of(&report);
        let unfinished = (
            timing.clock.elapsed().as_secs_f64(),
            SystemTime::now(),
            None,
        );
        for message in self.inner.record(
            job,
            &report,
            started,
            &timing.finished,
            unfinished,
            &timing.probes,
        ) {
            if self.json {
                emit(&WireEvent::error(ErrorKind::Report, &message));
            }
            eprintln!("imprint: {message}");
            exit = Exit::Failed;
        }
        exit
    }
}

/// Passes events on, noting when each target finished.
struct Timing<'a> {
    inner: &'a mut dyn EventSink,
    clock: Instant,
    /// Seconds since the start, the time, and the target's SHA-256.
    finished: Vec<Option<Finished>>,
    /// Each target's probe verdict, in words, for its record.
    probes: Vec<Option<String>>,
}

impl EventSink for Timing<'_> {
    fn start(&mut self, info: &RunInfo<'_>) {
        self.inner.start(info);
    }

    fn event(&mut self, event: &FlashEvent) {
        if let FlashEvent::Probed { target, verdict } = event
            && let Some(slot) = self.probes.get_mut(*target)
        {
            *slot = Some(verdict.words());
        }
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

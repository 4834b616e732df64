//! A station's loop: the drives present at the start listed, each drive
//! inserted afterwards checked, given its identity, claimed in the report
//! and flashed on a thread of its own; each finished drive recorded and
//! counted (docs/architecture.md §10, §11 "Station identity and safety").

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::watch::Change;
use super::{PRESENT_AT_START, SeenDrive, Station, StationEvent, Summary, claim, job};
use crate::identity::DriveIdentity;
use crate::protocol::Outcome;
use crate::report::DriveRecord;

/// A drive being flashed.
struct Running {
    identity: Option<DriveIdentity>,
    handle: JoinHandle<()>,
}

/// A drive's thread is done.
struct Finished {
    seen: SeenDrive,
    record: DriveRecord,
}

/// What the loop keeps between polls.
struct Tally {
    /// By drive id.
    running: BTreeMap<String, Running>,
    /// The ids of the drives flashed ok in this run (not again without
    /// `--again`).
    flashed_ok: HashSet<String>,
    summary: Summary,
    /// Each drive's thread sends its record here as its last act.
    done: Sender<Finished>,
}

impl Station {
    /// Watches the drives until `cancel` is set (drives in flight are then
    /// cancelled and reported) or `--count` drives are finished.
    pub(crate) fn run(mut self, events: &Sender<StationEvent>, cancel: Arc<AtomicBool>) -> Summary {
        let _ = events.send(self.started());
        let (done, done_rx) = crossbeam_channel::unbounded();
        let mut tally = Tally {
            running: BTreeMap::new(),
            flashed_ok: HashSet::new(),
            summary: Summary::default(),
            done,
        };
        loop {
            if cancel.load(Ordering::Relaxed) && tally.running.is_empty() {
                break;
            }
            if self.enough(&tally.summary) && tally.running.is_empty() {
                break;
            }
            if let Some(finished) = wait(&done_rx, &self) {
                self.finish(finished, &mut tally, events);
                continue;
            }
            if cancel.load(Ordering::Relaxed) {
                continue;
            }
            for change in self.watch.poll() {
                match change {
                    Change::Removed(seen) => {
                        let _ = events.send(StationEvent::Removed(seen));
                    }
                    Change::Inserted(seen) => {
                        let _ = events.send(StationEvent::Inserted(seen.clone()));
                        self.inserted(seen, &mut tally, events, &cancel);
                    }
                }
            }
        }
        tally.summary
    }

    /// The drives present at the start, each with why it is not flashed.
    fn started(&self) -> StationEvent {
        let present = self
            .watch
            .current
            .values()
            .map(|seen| {
                let reason = self
                    .options
                    .eligibility
                    .refusal(seen)
                    .unwrap_or_else(|| PRESENT_AT_START.to_string());
                (seen.clone(), reason)
            })
            .collect();
        StationEvent::Started { present }
    }

    /// A drive was inserted: skipped (and why), or its identity assigned
    /// and claimed, and its flashing started.
    fn inserted(
        &mut self,
        seen: SeenDrive,
        tally: &mut Tally,
        events: &Sender<StationEvent>,
        cancel: &Arc<AtomicBool>,
    ) {
        let skip = |tally: &mut Tally, drive: SeenDrive, reason: String| {
            tally.summary.skipped += 1;
            let _ = events.send(StationEvent::Skipped { drive, reason });
        };
        if let Some(reason) = self.refusal(&seen, tally) {
            return skip(tally, seen, reason);
        }
        let identity = match &mut self.identities {
            Some(identities) => match identities.assign(&seen.serial_text()) {
                Ok(identity) => Some(identity),
                Err(e) => return skip(tally, seen, e.to_string()),
            },
            None => None,
        };
        if let Some(reason) = self.claim(&seen, identity.as_ref(), &mut tally.summary) {
            let _ = events.send(StationEvent::Warning(reason.clone()));
            return skip(tally, seen, reason);
        }
        let _ = events.send(StationEvent::Flashing {
            drive: seen.clone(),
            identity: identity.clone().map(Box::new),
        });
        let handle = self.start(&seen, identity.clone(), events, &tally.done, cancel);
        tally
            .running
            .insert(seen.id.clone(), Running { identity, handle });
    }

    /// Claims `identity` for `seen` in the report before the drive is
    /// written; when the claim cannot be recorded, the row goes back and
    /// the reason is returned: the drive is not written.
    fn claim(
        &mut self,
        seen: &SeenDrive,
        identity: Option<&DriveIdentity>,
        summary: &mut Summary,
    ) -> Option<String> {
        let (Some(report), Some(identity)) = (&mut self.report, identity) else {
            return None;
        };
        let error = report
            .append_marker(&claim(identity, seen.path(), Some(seen)))
            .err()?;
        summary.report_failed = true;
        if let Some(identities) = &mut self.identities {
            identities.release(identity);
        }
        Some(format!(
            "cannot claim a row in the report {}: {error}; {} is not written, as no record could say which identity it got",
            report.path().display(),
            seen.path().display()
        ))
    }

    /// Whether `--count` drives are finished (or started: the last ones
    /// are still running).
    fn enough(&self, summary: &Summary) -> bool {
        self.options
            .count
            .is_some_and(|count| summary.ok + summary.failed + summary.cancelled >= count)
    }

    /// Why a newly inserted drive is not flashed.
    fn refusal(&self, seen: &SeenDrive, tally: &Tally) -> Option<String> {
        let summary = &tally.summary;
        if let Some(count) = self.options.count
            && summary.ok + summary.failed + summary.cancelled + tally.running.len() >= count
        {
            return Some(format!(
                "--count {count}: enough drives are finished or being flashed"
            ));
        }
        if tally.running.contains_key(&seen.id) {
            return Some("being flashed already".into());
        }
        if tally.flashed_ok.contains(&seen.id) && !self.options.again {
            return Some(
                "flashed already in this station run; --again flashes a drive again".into(),
            );
        }
        if let Some(reason) = self.options.eligibility.refusal(seen) {
            return Some(reason);
        }
        self.shared.image.check(seen.path()).err().map(|r| r.reason)
    }

    /// Starts flashing `seen` on a thread of its own.
    fn start(
        &self,
        seen: &SeenDrive,
        identity: Option<DriveIdentity>,
        events: &Sender<StationEvent>,
        done: &Sender<Finished>,
        cancel: &Arc<AtomicBool>,
    ) -> JoinHandle<()> {
        let shared = self.shared.clone();
        let seen = seen.clone();
        let events = events.clone();
        let done = done.clone();
        let cancel = cancel.clone();
        let name = seen
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        thread::Builder::new()
            .name(format!("station/{name}"))
            .spawn(move || {
                let record = job::flash_drive(&shared, &seen, identity.as_ref(), &events, &cancel);
                let _ = done.send(Finished { seen, record });
            })
            .unwrap_or_else(|e| panic!("cannot start a thread for a drive: {e}"))
    }

    /// A drive is finished: its record, its row, its counts.
    fn finish(&mut self, finished: Finished, tally: &mut Tally, events: &Sender<StationEvent>) {
        let Finished { seen, record } = finished;
        if let Some(run) = tally.running.remove(&seen.id) {
            // The thread sent its record as its last act.
            let _ = run.handle.join();
            if record.result != Outcome::Ok
                && let (Some(identities), Some(identity)) = (&mut self.identities, &run.identity)
            {
                identities.release(identity);
            }
        }
        let summary = &mut tally.summary;
        match record.result {
            Outcome::Ok => {
                summary.ok += 1;
                tally.flashed_ok.insert(seen.id.clone());
            }
            Outcome::Failed => summary.failed += 1,
            Outcome::Cancelled => summary.cancelled += 1,
        }
        if summary.image_sha256.is_none() {
            summary.image_sha256 = record.image_sha256.clone();
        }
        if self.shared.signer.is_some() && record.signed_record.is_none() {
            // Its warning was sent from the drive's thread; the exit code
            // says a record is missing its signature, as `flash`'s does.
            summary.report_failed = true;
        }
        if let Some(report) = &mut self.report
            && let Err(e) = report.append(&record)
        {
            summary.report_failed = true;
            let _ = events.send(StationEvent::Warning(format!(
                "cannot append to the report {}: {e}; the drive {} is not recorded",
                report.path().display(),
                seen.path().display()
            )));
        }
        let _ = events.send(StationEvent::Finished {
            drive: seen,
            record: Box::new(record),
        });
    }
}

/// Waits for a drive to finish, or the poll interval: `None` means poll
/// the drives again.
fn wait(done: &Receiver<Finished>, station: &Station) -> Option<Finished> {
    match done.recv_timeout(station.options.poll_interval) {
        Ok(finished) => Some(finished),
        Err(RecvTimeoutError::Timeout) => None,
        Err(RecvTimeoutError::Disconnected) => unreachable!("the loop holds a sender"),
    }
}

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
mod wire;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::Sender;

pub(crate) use crate::request::claim;
pub(crate) use drive::{Eligibility, SeenDrive};
pub(crate) use job::Shared;

use crate::bootcfg::{self, BootConfigError};
use crate::engine::{FlashEvent, SharedImage, SpoolConfig};
use crate::identity::{DriveIdentity, Identities, IdentityError, IdentityOptions};
use crate::protocol::Outcome;
use crate::report::{DriveRecord, Report, ReportError};
use crate::request::per_drive::{self, PerDriveError};
use crate::request::{FlashOptions, Prepared, RequestError};
use crate::source::{ImageSource, InputKind};

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
    #[error("{0}")]
    Request(#[from] RequestError),
    #[error("{0}")]
    Identity(#[from] IdentityError),
    #[error("{0}")]
    Report(#[from] ReportError),
    #[error(
        "a station needs an image it can read again for every drive; {0} is a stream (standard input, a pipe): save it to a file first"
    )]
    StreamImage(PathBuf),
    #[error("cannot list the drives of this machine: {0}")]
    Drives(std::io::Error),
    #[error("{0}")]
    Spool(String),
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
    /// Opens the image and the report, prepares the configuration and the
    /// identities: every refusal comes here, before a drive is touched.
    pub(crate) fn prepare(options: StationOptions) -> Result<Station, StationError> {
        let flash = &options.flash;
        let source = ImageSource::open(&flash.image).map_err(RequestError::Image)?;
        if source.input_kind() == InputKind::Stream {
            return Err(StationError::StreamImage(flash.image.clone()));
        }
        // The same preparation as `flash`: the expected SHA-256, a bmap
        // beside the image, the configuration (docs/architecture.md §10).
        let Prepared {
            job, configured, ..
        } = crate::request::prepare_source(source, flash)?;
        let source = job.source;
        let wifi = flash.config.check_wifi().map_err(RequestError::Config)?;
        let (report, identities) = per_drive::identities(
            flash.config.config.as_deref(),
            &options.identity,
            options.report.as_deref(),
        )?;
        // The region every drive's configuration covers: with identities,
        // one drive's configuration is made now, so an image whose boot
        // partition cannot take it is refused before any drive.
        let patched = match &identities {
            Some(identities) => {
                let sample = identities.clone().assign("serial")?;
                let configured = crate::identity::configure(&source, &sample, wifi.as_ref())
                    .map_err(|cause| {
                        RequestError::Config(BootConfigError::InImage {
                            image: source.path().to_path_buf(),
                            cause: Box::new(cause),
                        })
                    })?;
                vec![configured.patch.range()]
            }
            None => configured.iter().map(|c| c.patch.range()).collect(),
        };
        let image = SharedImage::start(
            source.clone(),
            patched,
            flash.full,
            job.bmap,
            SpoolConfig::for_targets(CONCURRENT_DRIVES),
        )
        .map_err(|refusal| StationError::Spool(refusal.reason))?;
        let shared = Shared {
            source,
            image,
            configured,
            wifi,
            verify: flash.verify,
            expected_sha256: job.expected_sha256,
            eject: flash.eject,
        };
        // Last: the drives present now are the ones the station will not
        // flash.
        let watch = Watch::start().map_err(StationError::Drives)?;
        Ok(Station {
            options,
            watch,
            shared: Arc::new(shared),
            identities,
            report,
        })
    }

    /// The image, as opened.
    pub(crate) fn source(&self) -> &ImageSource {
        &self.shared.source
    }

    /// The configuration every drive shares, when there are no per-drive
    /// identities.
    pub(crate) fn configured(&self) -> Option<&bootcfg::Configured> {
        self.shared.configured.as_ref()
    }

    /// Watches the drives until `cancel` is set (drives in flight are then
    /// cancelled and reported) or `--count` drives are finished.
    pub(crate) fn run(mut self, events: &Sender<StationEvent>, cancel: Arc<AtomicBool>) -> Summary {
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
        let _ = events.send(StationEvent::Started { present });
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let mut running: BTreeMap<String, Running> = BTreeMap::new();
        let mut flashed_ok: HashSet<String> = HashSet::new();
        let mut summary = Summary::default();
        loop {
            if cancel.load(Ordering::Relaxed) && running.is_empty() {
                break;
            }
            if self.enough(&summary) && running.is_empty() {
                break;
            }
            // Waits for a drive to finish, or polls the drives again.
            match done_rx.recv_timeout(self.options.poll_interval) {
                Ok(finished) => {
                    self.finish(
                        finished,
                        &mut running,
                        &mut flashed_ok,
                        &mut summary,
                        events,
                    );
                    continue;
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    unreachable!("the loop holds a sender")
                }
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
                        if let Some(reason) = self.refusal(&seen, &running, &flashed_ok, &summary) {
                            summary.skipped += 1;
                            let _ = events.send(StationEvent::Skipped {
                                drive: seen,
                                reason,
                            });
                            continue;
                        }
                        let identity = match &mut self.identities {
                            Some(identities) => match identities.assign(&seen.serial_text()) {
                                Ok(identity) => Some(identity),
                                Err(e) => {
                                    summary.skipped += 1;
                                    let _ = events.send(StationEvent::Skipped {
                                        drive: seen,
                                        reason: e.to_string(),
                                    });
                                    continue;
                                }
                            },
                            None => None,
                        };
                        if let Some(reason) = self.claim(&seen, identity.as_ref(), &mut summary) {
                            summary.skipped += 1;
                            let _ = events.send(StationEvent::Warning(reason.clone()));
                            let _ = events.send(StationEvent::Skipped {
                                drive: seen,
                                reason,
                            });
                            continue;
                        }
                        let _ = events.send(StationEvent::Flashing {
                            drive: seen.clone(),
                            identity: identity.clone().map(Box::new),
                        });
                        let handle = self.start(&seen, identity.clone(), events, &done_tx, &cancel);
                        running.insert(seen.id.clone(), Running { identity, handle });
                    }
                }
            }
        }
        summary
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
    fn refusal(
        &self,
        seen: &SeenDrive,
        running: &BTreeMap<String, Running>,
        flashed_ok: &HashSet<String>,
        summary: &Summary,
    ) -> Option<String> {
        if let Some(count) = self.options.count
            && summary.ok + summary.failed + summary.cancelled + running.len() >= count
        {
            return Some(format!(
                "--count {count}: enough drives are finished or being flashed"
            ));
        }
        if running.contains_key(&seen.id) {
            return Some("being flashed already".into());
        }
        if flashed_ok.contains(&seen.id) && !self.options.again {
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
    fn finish(
        &mut self,
        finished: Finished,
        running: &mut BTreeMap<String, Running>,
        flashed_ok: &mut HashSet<String>,
        summary: &mut Summary,
        events: &Sender<StationEvent>,
    ) {
        let Finished { seen, record } = finished;
        if let Some(run) = running.remove(&seen.id) {
            // The thread sent its record as its last act.
            let _ = run.handle.join();
            if record.result != Outcome::Ok
                && let (Some(identities), Some(identity)) = (&mut self.identities, &run.identity)
            {
                identities.release(identity);
            }
        }
        match record.result {
            Outcome::Ok => {
                summary.ok += 1;
                flashed_ok.insert(seen.id.clone());
            }
            Outcome::Failed => summary.failed += 1,
            Outcome::Cancelled => summary.cancelled += 1,
        }
        if summary.image_sha256.is_none() {
            summary.image_sha256 = record.image_sha256.clone();
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

/// How the drives changed since the last poll.
enum Change {
    Inserted(SeenDrive),
    Removed(SeenDrive),
}

/// The drives of the machine, polled: a cheap sysfs snapshot each time,
/// the full list only when it changed (as `drives::DriveWatcher` does; the
/// station also needs each medium's identity, which the snapshot covers for
/// loop devices).
struct Watch {
    snapshot: crate::platform::BlockSnapshot,
    current: BTreeMap<PathBuf, SeenDrive>,
    insertions: u64,
    /// Paths whose medium was taken out while the device stayed: card
    /// reader slots, whose serial is the reader's, not the card's.
    reader_slots: HashSet<PathBuf>,
}

impl Watch {
    fn start() -> std::io::Result<Watch> {
        let snapshot = crate::platform::block_snapshot()?;
        let mut watch = Watch {
            snapshot,
            current: BTreeMap::new(),
            insertions: 0,
            reader_slots: HashSet::new(),
        };
        watch.current = watch.list()?;
        Ok(watch)
    }

    /// The drives now, each with its id (a drive already known keeps its
    /// id while the same medium is in it).
    fn list(&mut self) -> std::io::Result<BTreeMap<PathBuf, SeenDrive>> {
        let mut now = BTreeMap::new();
        for drive in crate::drives::list()? {
            // A drive that vanished between the list and this look is left
            // for the next poll.
            let Ok(media) = crate::platform::media_identity(&drive.path) else {
                continue;
            };
            let known = self
                .current
                .get(&drive.path)
                .filter(|seen| seen.media == media && same_medium(&seen.drive, &drive));
            let seen = match known {
                Some(seen) => SeenDrive {
                    drive,
                    ..seen.clone()
                },
                None => {
                    self.insertions += 1;
                    let slot = self.reader_slots.contains(&drive.path);
                    SeenDrive::new(drive, media, self.insertions, slot)
                }
            };
            now.insert(seen.path().clone(), seen);
        }
        Ok(now)
    }

    /// What changed since the last call; nothing when the drives cannot be
    /// listed right now (tried again at the next poll).
    fn poll(&mut self) -> Vec<Change> {
        let Ok(snapshot) = crate::platform::block_snapshot() else {
            return Vec::new();
        };
        if snapshot == self.snapshot {
            return Vec::new();
        }
        let Ok(now) = self.list() else {
            return Vec::new();
        };
        self.snapshot = snapshot;
        let mut changes = Vec::new();
        for (path, seen) in &self.current {
            if now.get(path).is_none_or(|new| new.id != seen.id) {
                if crate::platform::is_empty_slot(path) {
                    self.reader_slots.insert(path.clone());
                }
                changes.push(Change::Removed(seen.clone()));
            }
        }
        let mut inserted: Vec<&SeenDrive> = now
            .iter()
            .filter(|(path, seen)| self.current.get(*path).is_none_or(|old| old.id != seen.id))
            .map(|(_, seen)| seen)
            .collect();
        // Several drives found in one poll start in the order people count
        // them (loop2 before loop10), as the drive list shows them.
        inserted.sort_by_key(|seen| crate::drives::natural_key(seen.path()));
        changes.extend(inserted.into_iter().cloned().map(Change::Inserted));
        self.current = now;
        changes
    }
}

/// Whether `old` and `new`, at the same path, hold the same medium as far
/// as the drive list tells.
fn same_medium(old: &crate::drives::Drive, new: &crate::drives::Drive) -> bool {
    old.serial == new.serial && old.size_bytes == new.size_bytes
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

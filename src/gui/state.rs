//! The app's state machine as plain data: which drives may be chosen and
//! why not, the selection, and a flash run folding its events into one row
//! per drive and then a result per drive. No egui here, so it is
//! unit-tested directly.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::message::{self, Problem};
use super::progress::TargetProgress;
use super::run_event::RunEvent;
use crate::drives::Drive;
use crate::engine::{FailureKind, FlashEvent, TargetFailure};

/// Drives larger than this may be someone's data disk: ask first.
pub const LARGE_DRIVE_BYTES: u64 = 128_000_000_000;

/// Whether a drive may be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Selectable,
    /// Selectable after the user confirms (over [`LARGE_DRIVE_BYTES`]).
    NeedsConfirmation,
    /// Shown but not selectable, with the reason for the user.
    Blocked(String),
}

/// Whether `drive` may receive an image of `image_bytes` (decompressed size,
/// when known): the same rules the engine enforces, shown in advance.
pub fn availability(drive: &Drive, image_bytes: Option<u64>) -> Availability {
    if let Some(reason) = &drive.system {
        return Availability::Blocked(format!("System drive: {reason}"));
    }
    if drive.read_only {
        return Availability::Blocked("Read-only (check the lock switch on SD cards)".into());
    }
    if let Some(image) = image_bytes
        && drive.size_bytes < image
    {
        return Availability::Blocked(format!(
            "Too small: the image needs {}",
            crate::humanize::bytes(image)
        ));
    }
    if drive.size_bytes > LARGE_DRIVE_BYTES {
        return Availability::NeedsConfirmation;
    }
    Availability::Selectable
}

/// The chosen targets, in the order they were chosen, and the image files
/// offered as targets ("Write to an image file…") besides the drives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    targets: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Selection {
    pub fn contains(&self, path: &Path) -> bool {
        self.targets.iter().any(|t| t == path)
    }

    pub fn add(&mut self, path: &Path) {
        if !self.contains(path) {
            self.targets.push(path.to_path_buf());
        }
    }

    pub fn remove(&mut self, path: &Path) {
        self.targets.retain(|t| t != path);
    }

    pub fn targets(&self) -> &[PathBuf] {
        &self.targets
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Offers an image file as a target and ticks it. A file grows to the
    /// image's size, so it is never too small.
    pub fn add_file(&mut self, path: &Path) {
        if !self.is_file(path) {
            self.files.push(path.to_path_buf());
        }
        self.add(path);
    }

    /// Takes an image file off the list (and out of the selection).
    pub fn remove_file(&mut self, path: &Path) {
        self.files.retain(|f| f != path);
        self.remove(path);
    }

    /// The image files offered as targets, ticked or not.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub fn is_file(&self, path: &Path) -> bool {
        self.files.iter().any(|f| f == path)
    }

    /// How many of the chosen targets are drives and how many files.
    pub fn counts(&self) -> (usize, usize) {
        let files = self.targets.iter().filter(|t| self.is_file(t)).count();
        (self.targets.len() - files, files)
    }

    /// Drops drives that are gone or no longer selectable (unplugged, or a
    /// new image too large for them), so Flash never names a stale drive.
    /// Image files stay.
    pub fn retain_available(&mut self, drives: &[Drive], image_bytes: Option<u64>) {
        let files = &self.files;
        self.targets.retain(|t| {
            files.contains(t)
                || drives.iter().any(|d| {
                    &d.path == t
                        && !matches!(availability(d, image_bytes), Availability::Blocked(_))
                })
        });
    }
}

/// One drive of a run.
#[derive(Debug, Clone)]
pub struct RunTarget {
    pub path: PathBuf,
    /// "SanDisk Ultra", or the device path.
    pub name: String,
    /// An image file rather than a drive (nothing to remove afterwards).
    pub is_file: bool,
    pub progress: TargetProgress,
}

impl RunTarget {
    /// The device path when the name does not already say it.
    pub fn path_detail(&self) -> Option<String> {
        let path = self.path.display().to_string();
        (path != self.name).then_some(path)
    }
}

/// Where a run is: one progression, so that "finished but not started" or
/// "started again" cannot be represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The targets are being checked; nothing was written.
    Starting,
    /// Every check passed; the targets are being written and verified.
    Writing,
    /// Nothing follows; `started` says whether it had got to writing.
    Finished { started: bool },
}

/// How a finished run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every target written and verified.
    Complete,
    /// The user stopped it; nothing failed on its own.
    Cancelled,
    /// Some targets succeeded, others failed.
    Partial,
    /// No target succeeded.
    Failed,
}

/// A flash run as the progress and result screens show it.
#[derive(Debug, Clone)]
pub struct FlashRun {
    pub image_name: String,
    pub targets: Vec<RunTarget>,
    pub stage: Stage,
    /// The user asked to stop (a request: the run ends when the engine says).
    pub cancel_requested: bool,
    /// The decompressed image's SHA-256, without configuration (`done`).
    pub image_sha256: Option<String>,
    /// A downloaded file's own SHA-256, as publishers list it.
    pub download_sha256: Option<String>,
    /// The bytes as written to the drives (`target_done`): with a
    /// configuration, not the image's (docs/architecture.md §11 "Which SHA-256").
    pub written_sha256: Option<String>,
    /// Why the run was refused before writing anything.
    pub refused: Option<Vec<String>>,
    /// Why the run stopped abnormally (helper, authorisation, engine crash).
    pub failure: Option<String>,
    /// A configuration is embedded: the written image's SHA-256 is not the
    /// image file's.
    pub configured: bool,
    /// What was embedded, in a line (config.json, WiFi and whether it is
    /// open), for the result screen.
    pub configuration: Option<String>,
    /// The image is a drive being cloned: a run to files saves a copy.
    pub cloned: bool,
    /// For an image at a URL: how its download goes.
    pub download: super::download::DownloadProgress,
    /// The targets are read back after writing (the user may skip it).
    pub verify: bool,
    /// When the checks passed and writing began.
    pub started_at: Option<Instant>,
    /// The image's decompressed length, once it was read to its end.
    pub image_bytes: Option<u64>,
    /// Each drive that succeeds is ejected ("Eject when done").
    pub eject: bool,
}

impl FlashRun {
    pub fn new(image_name: String, targets: Vec<(PathBuf, String)>) -> FlashRun {
        FlashRun {
            image_name,
            targets: targets
                .into_iter()
                .map(|(path, name)| RunTarget {
                    path,
                    name,
                    is_file: false,
                    progress: TargetProgress::default(),
                })
                .collect(),
            stage: Stage::Starting,
            cancel_requested: false,
            image_sha256: None,
            download_sha256: None,
            written_sha256: None,
            refused: None,
            failure: None,
            configured: false,
            configuration: None,
            cloned: false,
            download: Default::default(),
            verify: true,
            started_at: None,
            image_bytes: None,
            eject: false,
        }
    }

    /// Folds one event of the run into the rows.
    pub fn apply(&mut self, event: RunEvent, now: Instant) {
        match event {
            RunEvent::Flash(FlashEvent::Started { .. }) => {
                self.stage = Stage::Writing;
                self.started_at = Some(now);
            }
            // A fake card fails with kind `fake` and the headline in its
            // result; "no evidence" needs no line of its own here.
            RunEvent::Flash(FlashEvent::Probed { .. }) => {}
            RunEvent::Flash(FlashEvent::Progress {
                target,
                phase,
                bytes,
                total,
            }) => {
                if let Some(t) = self.targets.get_mut(target) {
                    t.progress.update(phase, bytes, total, now);
                }
            }
            RunEvent::Flash(FlashEvent::TargetDone {
                target,
                result,
                written_bytes,
                verified_bytes,
                sha256,
                ..
            }) => {
                if let Some(sha256) = sha256 {
                    self.written_sha256.get_or_insert(sha256);
                }
                if let Some(t) = self.targets.get_mut(target) {
                    t.progress.result = Some(result);
                    t.progress.written_bytes = written_bytes;
                    t.progress.verified_bytes = verified_bytes;
                    t.progress.done_at = Some(now);
                }
            }
            RunEvent::Flash(FlashEvent::Ejected { target, result }) => {
                if let Some(t) = self.targets.get_mut(target) {
                    t.progress.ejected = Some(result);
                }
            }
            RunEvent::Flash(FlashEvent::Done {
                image_sha256,
                image_bytes,
            }) => {
                self.image_sha256 = image_sha256;
                self.image_bytes = image_bytes;
            }
            RunEvent::Flash(FlashEvent::Download { bytes, total }) => {
                self.download.received(bytes, total, now);
            }
            RunEvent::Flash(FlashEvent::Downloaded { sha256 }) => {
                self.download_sha256 = Some(sha256)
            }
            RunEvent::Flash(FlashEvent::Retry { at, reason, .. }) => {
                self.download.retried(at, reason, now);
            }
            RunEvent::Refused(reasons) => self.refused.get_or_insert_with(Vec::new).extend(reasons),
            RunEvent::Failed(message) => self.failure = Some(message),
            RunEvent::Finished => self.finish(),
        }
    }

    /// The run is over: every drive without a result failed, with the
    /// run's failure as the reason.
    pub fn finish(&mut self) {
        if self.finished() {
            return;
        }
        self.stage = Stage::Finished {
            started: self.started(),
        };
        let message = self
            .failure
            .clone()
            .unwrap_or_else(|| "The flash stopped before this drive was finished.".into());
        let kind = if self.cancel_requested {
            FailureKind::Cancelled
        } else {
            FailureKind::Write
        };
        for target in &mut self.targets {
            if target.progress.result.is_none() {
                target.progress.result = Some(Err(TargetFailure {
                    kind,
                    offset: None,
                    message: message.clone(),
                }));
            }
        }
    }

    /// The run ended before writing anything: back to selection, with the
    /// reasons shown there.
    pub fn ended_before_start(&self) -> Option<Problem> {
        if let Some(reasons) = &self.refused {
            return Some(message::refused(reasons));
        }
        if !self.started() {
            return self.failure.as_deref().map(Problem::from_failure);
        }
        None
    }

    /// Whether the checks passed and writing began (or has ended since).
    pub fn started(&self) -> bool {
        matches!(
            self.stage,
            Stage::Writing | Stage::Finished { started: true }
        )
    }

    pub fn finished(&self) -> bool {
        matches!(self.stage, Stage::Finished { .. })
    }

    /// The first fault of the image found while streaming: every drive
    /// stopped on it, so it is told once for the run, not per drive.
    pub fn source_fault(&self) -> Option<&TargetFailure> {
        self.targets.iter().find_map(|t| match &t.progress.result {
            Some(Err(f)) if f.kind.is_source_fault() => Some(f),
            _ => None,
        })
    }

    /// How the run ended, for the result screen's title.
    pub fn outcome(&self) -> Outcome {
        let ok = self.succeeded();
        if ok == self.targets.len() {
            return Outcome::Complete;
        }
        // The user's own stop is not a failure: every drive that did not
        // succeed was cut short by it, none failed on its own.
        let all_cancelled = self.targets.iter().all(|t| {
            matches!(&t.progress.result, Some(Ok(())))
                || matches!(&t.progress.result, Some(Err(f)) if f.kind == FailureKind::Cancelled)
        });
        if self.cancel_requested && all_cancelled {
            Outcome::Cancelled
        } else if ok == 0 {
            Outcome::Failed
        } else {
            Outcome::Partial
        }
    }

    /// The targets that did not succeed (failed, or cut short by a stop),
    /// to offer flashing them again.
    pub fn failed_targets(&self) -> Vec<PathBuf> {
        self.targets
            .iter()
            .filter(|t| !matches!(t.progress.result, Some(Ok(()))))
            .map(|t| t.path.clone())
            .collect()
    }

    pub fn succeeded(&self) -> usize {
        self.targets
            .iter()
            .filter(|t| matches!(t.progress.result, Some(Ok(()))))
            .count()
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;

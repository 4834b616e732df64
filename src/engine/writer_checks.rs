//! A target's writer at the edges of its run: the counterfeit probe before
//! anything is written (docs/architecture.md §3 "Counterfeit probe"), and
//! what it says when it must stop — cancelled, stuck on a call, or the
//! image not the one expected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::device_io::DeviceIo;
use super::writer::{TargetRun, target_failure};
use super::{FailureKind, FlashEvent, TargetFailure};
use crate::hex::hex;
use crate::target::probe::{self, ProbeMode};

impl TargetRun<'_> {
    /// Probes a block device for a counterfeit ([`crate::target::probe`]);
    /// a fake is returned as its failure, to be reported once the drive is
    /// cleared.
    pub(super) fn probe(&self, file: &DeviceIo) -> Result<Option<TargetFailure>, TargetFailure> {
        let (mode, Some(size)) = (self.probe, self.info.size_bytes) else {
            return Ok(None);
        };
        if mode == ProbeMode::Off {
            return Ok(None);
        }
        let image_end = self.size_hint;
        // The probe runs on the I/O thread: `stop` ends it there when the
        // run is cancelled and the call abandoned.
        let stop = Arc::new(AtomicBool::new(false));
        let stop_there = stop.clone();
        let probed = file
            .call(self.cancel, move |file| {
                probe::probe(file, size, image_end, mode, &stop_there)
            })
            .map_err(|_| {
                stop.store(true, Ordering::Relaxed);
                self.stuck(0, "the counterfeit probe of")
            })?
            .map_err(target_failure)?;
        let Some(probed) = probed else {
            return Err(self.cancelled(0));
        };
        let _ = self.events.send(FlashEvent::Probed {
            target: self.index,
            verdict: probed.verdict,
        });
        Ok(probed.verdict.real_bytes().map(|real| TargetFailure {
            kind: FailureKind::Fake,
            offset: Some(real),
            message: format!(
                "This card is fake: it holds only {}, not the {} it claims ({} {}); do not use it",
                crate::humanize::bytes(real),
                crate::humanize::bytes(size),
                self.info.path.display(),
                probed.verdict.words()
            ),
        }))
    }

    /// `--sha256`: the image must be the one the user expects before the
    /// target is declared good.
    /// Returns the image's SHA-256; `None` when it is not taken.
    pub(super) fn check_image_sha256(&self) -> Result<Option<[u8; 32]>, TargetFailure> {
        if !self.image_hashed {
            return Ok(None);
        }
        let actual = self.image_sha256.wait(self.cancel);
        match (&self.expected_sha256, actual) {
            // This target got the image's end: no hash means the run was
            // cancelled meanwhile, or the hasher stopped (never the image).
            (_, None) if self.cancel.load(std::sync::atomic::Ordering::Relaxed) => {
                Err(TargetFailure {
                    kind: FailureKind::Cancelled,
                    offset: None,
                    message: format!(
                        "cancelled before the image's SHA-256 was known: {} is not proven good; flash it again",
                        self.info.path.display()
                    ),
                })
            }
            (_, None) => Err(TargetFailure {
                kind: FailureKind::Source,
                offset: None,
                message: "the image's SHA-256 could not be taken (its hasher stopped); flash again, and report this if it happens again".to_string(),
            }),
            (Some(expected), Some(actual)) if !expected.eq_ignore_ascii_case(&hex(&actual)) => {
                Err(TargetFailure {
                    kind: FailureKind::Checksum,
                    offset: None,
                    message: format!(
                        "the image's SHA-256 is {}, not the expected {expected}; the download is corrupt or is another image, and {} must not be used",
                        hex(&actual),
                        self.info.path.display()
                    ),
                })
            }
            (_, Some(actual)) => Ok(Some(actual)),
        }
    }

    /// The run was cancelled while `call` ("a write to") the target had not
    /// returned: the target is left to its I/O thread, waiting for the kernel.
    pub(super) fn stuck(&self, offset: u64, call: &str) -> TargetFailure {
        TargetFailure {
            kind: FailureKind::Cancelled,
            offset: Some(offset),
            message: format!(
                "cancelled at byte {offset} before {call} {} had returned (the drive is slow or not responding): it is incomplete and will not boot; flash it again",
                self.info.path.display()
            ),
        }
    }

    pub(super) fn cancelled(&self, offset: u64) -> TargetFailure {
        TargetFailure {
            kind: FailureKind::Cancelled,
            offset: Some(offset),
            message: format!(
                "cancelled at byte {offset}: {} is incomplete and will not boot; flash it again",
                self.info.path.display()
            ),
        }
    }
}

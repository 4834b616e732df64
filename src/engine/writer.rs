//! One target's thread: write every chunk as it arrives and make it
//! durable, while its verifier ([`super::verifier`]) reads the target back
//! behind it and compares it chunk by chunk with the image.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crossbeam_channel::Sender;
use sha2::{Digest, Sha256};

use super::chunk::{Message, Payload, is_all_zero};
use super::device_io::DeviceIo;
use super::hasher::{Digests, ShaCell};
use super::progress::ProgressReporter;
use super::short_name;
use super::spool::Cursor;
use super::verifier::{Verifier, Written};
use super::{FailureKind, FlashEvent, Phase, TargetFailure, TargetOutcome};
use crate::hex::hex;
use crate::patch::Patch;
use crate::target::{TargetError, TargetInfo, TargetKind, TargetOpener};

/// What a target's thread is given.
pub(super) struct TargetRun<'a> {
    pub index: usize,
    pub info: TargetInfo,
    /// This target's configured boot partition, written and verified in
    /// place of the image's own bytes.
    pub patch: Option<&'a Patch>,
    /// This target's place in the spool.
    pub chunks: Mutex<Cursor>,
    /// The digests of the used ranges; `None` when verification is off.
    pub digests: Option<Arc<Digests>>,
    /// The SHA-256 of the whole image, once it has been read to its end.
    pub image_sha256: Arc<ShaCell>,
    pub expected_sha256: Option<String>,
    pub size_hint: Option<u64>,
    pub events: &'a Sender<FlashEvent>,
    pub cancel: &'a AtomicBool,
    /// Opens the target, to write it and to read it back.
    pub opener: &'a dyn TargetOpener,
}

impl TargetRun<'_> {
    /// Runs the target to its end and reports `TargetDone`.
    pub(super) fn run(self) -> TargetOutcome {
        let mut counts = Counts::default();
        let mut verified = false;
        let result = self.write_and_verify(&mut counts, &mut verified);
        let verified_bytes = if verified { counts.used } else { 0 };
        let _ = self.events.send(FlashEvent::TargetDone {
            target: self.index,
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
            sha256: result.as_ref().ok().map(|sha| hex(sha)),
            written_bytes: counts.written,
            verified_bytes,
        });
        TargetOutcome {
            target: self.info.path.clone(),
            result: result.map(|_| ()),
            bytes_written: counts.position,
            written_bytes: counts.written,
            verified_bytes,
            verified,
        }
    }

    fn write_and_verify(
        &self,
        counts: &mut Counts,
        verified: &mut bool,
    ) -> Result<[u8; 32], TargetFailure> {
        // With a patch, the target's bytes are not the image's: their hash
        // is taken as they are written (docs/architecture.md §11 "Which SHA-256").
        let mut own_sha = self.patch.map(|_| Sha256::new());
        let Some(digests) = &self.digests else {
            self.write(counts, None, &AtomicBool::new(false), &mut own_sha)?;
            return self.target_sha256(own_sha);
        };
        let verify_failed = AtomicBool::new(false);
        let (written_tx, written) = crossbeam_channel::unbounded();
        let verifier = Verifier {
            index: self.index,
            info: &self.info,
            written,
            digests: digests.reader(),
            events: self.events,
            cancel: self.cancel,
            failed: &verify_failed,
            opener: self.opener,
            patch: self.patch,
        };
        let (write_result, verify_result) = thread::scope(|s| {
            let name = format!("verify/{}", short_name(&self.info));
            let handle = thread::Builder::new()
                .name(name)
                .spawn_scoped(s, move || verifier.run())
                .expect("spawning a verify thread");
            // The exclusive write handle stays open until verification
            // ends, so nothing (an automounter) can grab the device before.
            let write_result = self.write(counts, Some(written_tx), &verify_failed, &mut own_sha);
            let verify_result = handle.join().expect("a verify thread panicked");
            (write_result, verify_result)
        });
        // A verification failure is the cause when the writer stopped for it;
        // but when both were cancelled, the drive is incomplete, which the
        // writer's failure says.
        match (write_result, verify_result) {
            (Err(failure), Err(verify)) if verify.kind == FailureKind::Cancelled => {
                return Err(failure);
            }
            (_, Err(failure)) => return Err(failure),
            (Err(failure), _) => return Err(failure),
            (Ok(_), Ok(_)) => *verified = true,
        }
        self.target_sha256(own_sha)
    }

    /// The SHA-256 of the target's bytes once the image's has been checked:
    /// the image's own, or, with a patch, `own_sha`'s.
    fn target_sha256(&self, own_sha: Option<Sha256>) -> Result<[u8; 32], TargetFailure> {
        let image_sha = self.check_image_sha256()?;
        Ok(own_sha.map_or(image_sha, |sha| sha.finalize().into()))
    }

    /// Writes the used ranges of every chunk, telling the verifier (if any)
    /// what is written, then syncs; `own_sha`, when given, hashes every
    /// byte as the target holds it. Returns the still open target and the
    /// image length.
    fn write(
        &self,
        counts: &mut Counts,
        verifier: Option<Sender<Written>>,
        verify_failed: &AtomicBool,
        own_sha: &mut Option<Sha256>,
    ) -> Result<(DeviceIo, u64), TargetFailure> {
        let file = self
            .opener
            .open_for_write(&self.info)
            .map_err(target_failure)?;
        let file = DeviceIo::spawn(file, format!("write-io/{}", short_name(&self.info)));
        let mut progress =
            ProgressReporter::new(self.events, self.index, Phase::Write, self.size_hint);
        progress.update(0);
        let tell = |note: Written| {
            if let Some(tx) = &verifier {
                let _ = tx.send(note);
            }
        };
        let mut chunks = self.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match chunks.next(self.cancel) {
                Message::Chunk(chunk) => {
                    if self.cancel.load(Ordering::Relaxed) {
                        return Err(self.cancelled(chunk.offset));
                    }
                    if verify_failed.load(Ordering::Relaxed) {
                        return Err(TargetFailure {
                            kind: FailureKind::Verify,
                            offset: Some(chunk.offset),
                            message: format!(
                                "stopped writing {}: reading it back found a difference",
                                self.info.path.display()
                            ),
                        });
                    }
                    let (offset, len) = (chunk.offset, chunk.len);
                    let used = chunk.used.clone();
                    let payload = Arc::new(Payload::for_target(&chunk, self.patch));
                    drop(chunk);
                    if let Some(sha) = own_sha.as_mut() {
                        sha.update(payload.bytes());
                    }
                    let ranges = self.ranges_to_write(&payload, &used);
                    if !ranges.is_empty() {
                        counts.written += crate::map::total(&ranges);
                        // The chunk goes with the call: its buffer is freed
                        // or reused only once the kernel is done with it.
                        let whole = payload.clone();
                        let written = file
                            .call(self.cancel, move |file| {
                                ranges
                                    .iter()
                                    .try_for_each(|r| file.write_at(r.start, whole.bytes_of(r)))
                            })
                            .map_err(|_| self.stuck(offset, "a write to"))?;
                        if let Err(error) = written {
                            let located = file
                                .locate_write_failure(self.cancel, payload.clone(), error)
                                .map_err(|_| self.stuck(offset, "a write to"))?;
                            return Err(target_failure(located));
                        }
                    }
                    counts.position = offset + len as u64;
                    for r in &used {
                        counts.used += r.end - r.start;
                        tell(Written::Range {
                            offset: r.start,
                            len: (r.end - r.start) as usize,
                        });
                    }
                    progress.update(counts.position);
                }
                Message::End { image_bytes } => {
                    file.call(self.cancel, move |file| file.finish(image_bytes))
                        .map_err(|_| self.stuck(image_bytes, "a flush of"))?
                        .map_err(target_failure)?;
                    progress.finish(image_bytes);
                    tell(Written::Synced { image_bytes });
                    return Ok((file, image_bytes));
                }
                // Cancelled while waiting for the image: the drive is
                // incomplete, which its own message says, naming it.
                Message::Failed(failure) if failure.kind == FailureKind::Cancelled => {
                    return Err(self.cancelled(counts.position));
                }
                Message::Failed(failure) => return Err(failure),
            }
        }
    }

    /// The ranges of `chunk` to write: its used ranges; on a file target
    /// also every unused range that is not all zeros, so that a file always
    /// holds exactly the image (the zeros are holes, docs/architecture.md §11).
    fn ranges_to_write(&self, payload: &Payload, used: &[Range<u64>]) -> Vec<Range<u64>> {
        let mut ranges = used.to_vec();
        if self.info.kind == TargetKind::File {
            let chunk = payload;
            ranges.extend(
                super::chunk::unused(payload.offset..payload.offset + payload.len as u64, used)
                    .into_iter()
                    .filter(|r| !is_all_zero(chunk.bytes_of(r))),
            );
            ranges.sort_by_key(|r| r.start);
        }
        ranges
    }

    /// `--sha256`: the image must be the one the user expects before the
    /// target is declared good.
    /// Returns the image's SHA-256.
    fn check_image_sha256(&self) -> Result<[u8; 32], TargetFailure> {
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
            (_, Some(actual)) => Ok(actual),
        }
    }

    /// The run was cancelled while `call` ("a write to") the target had not
    /// returned: the target is left to its I/O thread, waiting for the kernel.
    fn stuck(&self, offset: u64, call: &str) -> TargetFailure {
        TargetFailure {
            kind: FailureKind::Cancelled,
            offset: Some(offset),
            message: format!(
                "cancelled at byte {offset} before {call} {} had returned (the drive is slow or not responding): it is incomplete and will not boot; flash it again",
                self.info.path.display()
            ),
        }
    }

    fn cancelled(&self, offset: u64) -> TargetFailure {
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

/// What a target's writer counted.
#[derive(Default)]
struct Counts {
    /// How far into the image it has come.
    position: u64,
    /// Bytes written.
    written: u64,
    /// Bytes of used ranges handed to the verifier.
    used: u64,
}

fn target_failure(error: TargetError) -> TargetFailure {
    let kind = match error {
        TargetError::TooSmall { .. } => FailureKind::TooSmall,
        _ => FailureKind::Write,
    };
    TargetFailure {
        kind,
        offset: error.offset(),
        message: error.to_string(),
    }
}

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
use super::compare_first::CompareFirst;
use super::device_io::DeviceIo;
use super::hasher::{Digests, ShaCell};
use super::held::HeldZones;
use super::progress::ProgressReporter;
use super::short_name;
use super::spool::Cursor;
use super::table_last::{self, HeldBytes};
use super::verifier::{self, Verifier, Written};
use super::writer_state::{Counts, Writing, held_copy};
use super::{FailureKind, FlashEvent, Phase, TargetFailure, TargetOutcome};
use crate::hex::hex;
use crate::patch::Patch;
use crate::target::probe::ProbeMode;
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
    /// Whether the image's SHA-256 is taken at all ([`super::FlashJob::hash_image`]).
    pub image_hashed: bool,
    pub expected_sha256: Option<String>,
    pub size_hint: Option<u64>,
    /// The counterfeit probe, on a block device, before anything is written.
    pub probe: ProbeMode,
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
        let result = self
            .write_and_verify(&mut counts, &mut verified)
            // Cleared first, its partition table written last: a drive
            // that fails before the end has none (docs/architecture.md §11).
            .map_err(|f| {
                if counts.cleared {
                    table_last::left_blank(f)
                } else {
                    f
                }
            });
        let verified_bytes = if verified { counts.used } else { 0 };
        let _ = self.events.send(FlashEvent::TargetDone {
            target: self.index,
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
            sha256: result
                .as_ref()
                .ok()
                .and_then(|sha| sha.as_ref().map(|s| hex(s))),
            written_bytes: counts.written,
            verified_bytes,
            matched_bytes: counts.matched,
        });
        TargetOutcome {
            target: self.info.path.clone(),
            result: result.map(|_| ()),
            bytes_written: counts.position,
            written_bytes: counts.written,
            verified_bytes,
            matched_bytes: counts.matched,
            verified,
        }
    }

    /// Opens the target. Nothing is written yet: a block device is probed
    /// and cleared only once the image's first piece is here
    /// ([`Self::prepare_device`]), so a run stopped before it leaves the
    /// drive untouched.
    fn open(&self) -> Result<DeviceIo, TargetFailure> {
        let file = self
            .opener
            .open_for_write(&self.info)
            .map_err(target_failure)?;
        Ok(DeviceIo::spawn(
            file,
            format!("write-io/{}", short_name(&self.info)),
        ))
    }

    /// Before a block device's first write: the counterfeit probe, then its
    /// first and last MiB cleared (docs/architecture.md §11).
    fn prepare_device(&self, file: &DeviceIo, counts: &mut Counts) -> Result<(), TargetFailure> {
        if self.info.kind != TargetKind::BlockDevice {
            return Ok(());
        }
        let probed = self.probe(file);
        if let Err(failure) = &probed
            && failure.kind == FailureKind::Cancelled
        {
            // The probe put back what it wrote: the drive is as it was.
            return Err(failure.clone());
        }
        // A fake, or a drive the probe could not read or write, is cleared
        // too: it ends blank, never with a stale table.
        if let Err(unclear) = table_last::clear_ends(file, &self.info, self.cancel) {
            return Err(probed.err().unwrap_or(unclear));
        }
        counts.cleared = true;
        match probed? {
            Some(fake) => Err(fake),
            None => Ok(()),
        }
    }

    fn write_and_verify(
        &self,
        counts: &mut Counts,
        verified: &mut bool,
    ) -> Result<Option<[u8; 32]>, TargetFailure> {
        // With a patch, the target's bytes are not the image's: their hash
        // is taken as they are written (docs/architecture.md §11 "Which SHA-256"),
        // when hashes are taken at all.
        let mut own_sha = self
            .patch
            .filter(|_| self.image_hashed)
            .map(|_| Sha256::new());
        // The exclusive write handle stays open until verification ends,
        // so nothing (an automounter) can grab the device before.
        let file = self.open()?;
        let mut held = Vec::new();
        let Some(digests) = &self.digests else {
            let mut writing = Writing::new(&file, None, counts, &mut own_sha, &mut held);
            let image_bytes = self.write(&mut writing, &AtomicBool::new(false))?;
            self.check_image_sha256()?;
            self.write_last(&file, image_bytes, held, None, counts)?;
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
            let mut writing =
                Writing::new(&file, Some(written_tx), counts, &mut own_sha, &mut held);
            // Only with a verifier: the compare's read is the verification.
            writing.compare = CompareFirst::new(self.info.kind == TargetKind::BlockDevice);
            let write_result = self.write(&mut writing, &verify_failed);
            drop(writing);
            let verify_result = handle.join().expect("a verify thread panicked");
            (write_result, verify_result)
        });
        // A verification failure is the cause when the writer stopped for it;
        // but when both were cancelled, the drive is incomplete, which the
        // writer's failure says.
        let (image_bytes, proven) = match (write_result, verify_result) {
            (Err(failure), Err(verify)) if verify.kind == FailureKind::Cancelled => {
                return Err(failure);
            }
            (_, Err(failure)) | (Err(failure), _) => return Err(failure),
            (Ok(_), Ok(Some(proven))) => (proven.image_bytes, proven),
            (Ok(image_bytes), Ok(None)) => {
                return Err(verifier::verify_failure(
                    Some(image_bytes),
                    "verification ended before the image's end; please report this".to_string(),
                ));
            }
        };
        self.check_image_sha256()?;
        self.write_last(&file, image_bytes, held, Some(proven.held), counts)?;
        *verified = true;
        self.target_sha256(own_sha)
    }

    /// Writes (and, with `digests`, verifies) the bytes held back, once
    /// every other byte is written and verified.
    fn write_last(
        &self,
        file: &DeviceIo,
        image_bytes: u64,
        held: Vec<HeldBytes>,
        digests: Option<Vec<verifier::HeldDigest>>,
        counts: &mut Counts,
    ) -> Result<(), TargetFailure> {
        if held.is_empty() {
            return Ok(());
        }
        let held_bytes: u64 = held.iter().map(|h| h.len as u64).sum();
        let last = table_last::Last {
            info: &self.info,
            patch: self.patch,
            opener: self.opener,
            cancel: self.cancel,
            image_bytes,
        };
        table_last::write_and_verify_last(file, last, held, digests)?;
        counts.written += held_bytes;
        Ok(())
    }

    /// The SHA-256 of the target's bytes once the image's has been checked:
    /// the image's own, or, with a patch, `own_sha`'s.
    fn target_sha256(&self, own_sha: Option<Sha256>) -> Result<Option<[u8; 32]>, TargetFailure> {
        let image_sha = self.check_image_sha256()?;
        Ok(own_sha.map_or(image_sha, |sha| Some(sha.finalize().into())))
    }

    /// Writes the used ranges of every chunk (a block device's held back,
    /// [`super::held`]), telling the verifier (if any) what is written,
    /// then syncs. Returns the image length.
    fn write(
        &self,
        writing: &mut Writing<'_>,
        verify_failed: &AtomicBool,
    ) -> Result<u64, TargetFailure> {
        let mut progress =
            ProgressReporter::new(self.events, self.index, Phase::Write, self.size_hint);
        progress.update(0);
        let mut chunks = self.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        let mut prepared = false;
        loop {
            let message = chunks.next(self.cancel);
            if !prepared && matches!(message, Message::Chunk(_) | Message::End { .. }) {
                if self.cancel.load(Ordering::Relaxed) {
                    return Err(self.cancelled(0));
                }
                self.prepare_device(writing.file, writing.counts)?;
                prepared = true;
            }
            match message {
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
                    self.write_chunk(writing, chunk)?;
                    progress.update(writing.counts.position);
                }
                Message::End { image_bytes } => {
                    writing
                        .file
                        .call(self.cancel, move |file| file.finish(image_bytes))
                        .map_err(|_| self.stuck(image_bytes, "a flush of"))?
                        .map_err(target_failure)?;
                    progress.finish(image_bytes);
                    writing.tell(Written::Synced { image_bytes });
                    return Ok(image_bytes);
                }
                // Cancelled while waiting for the image: the drive is
                // incomplete, which its own message says, naming it.
                Message::Failed(failure) if failure.kind == FailureKind::Cancelled => {
                    return Err(self.cancelled(writing.counts.position));
                }
                Message::Failed(failure) => return Err(failure),
            }
        }
    }

    /// Writes one chunk's ranges; those of the held zones are kept for
    /// the end.
    fn write_chunk(
        &self,
        writing: &mut Writing<'_>,
        chunk: Arc<super::chunk::Chunk>,
    ) -> Result<(), TargetFailure> {
        let (offset, len) = (chunk.offset, chunk.len);
        if offset == 0 && self.info.kind == TargetKind::BlockDevice {
            writing.zones = Some(HeldZones::from_first_chunk(chunk.bytes()));
        }
        let used = chunk.used.clone();
        let payload = Arc::new(Payload::for_target(&chunk, self.patch));
        drop(chunk);
        if let Some(sha) = writing.own_sha.as_mut() {
            sha.update(payload.bytes());
        }
        let mut ranges = self.ranges_to_write(&payload, &used);
        if let Some(zones) = &writing.zones {
            let (held, now): (Vec<_>, Vec<_>) = ranges.into_iter().partition(|r| zones.holds(r));
            ranges = now;
            writing
                .held
                .extend(held.iter().map(|r| held_copy(&payload, r)));
        }
        let (ranges, matched) = self.compare_first(writing, &payload, ranges)?;
        if !ranges.is_empty() {
            writing.counts.written += crate::map::total(&ranges);
            // The chunk goes with the call: its buffer is freed or reused
            // only once the kernel is done with it.
            let whole = payload.clone();
            let written = writing
                .file
                .call(self.cancel, move |file| {
                    ranges
                        .iter()
                        .try_for_each(|r| file.write_at(r.start, whole.bytes_of(r)))
                })
                .map_err(|_| self.stuck(offset, "a write to"))?;
            if let Err(error) = written {
                let located = writing
                    .file
                    .locate_write_failure(self.cancel, payload.clone(), error)
                    .map_err(|_| self.stuck(offset, "a write to"))?;
                return Err(target_failure(located));
            }
        }
        writing.counts.position = offset + len as u64;
        for r in &used {
            writing.counts.used += r.end - r.start;
            let (offset, len) = (r.start, (r.end - r.start) as usize);
            let held = writing.zones.as_ref().is_some_and(|z| z.holds(r));
            let digest = matched.iter().find(|m| m.0 == offset).map(|m| m.1);
            writing.tell(match (held, digest) {
                (true, _) => Written::Held { offset, len },
                (false, Some(digest)) => Written::Matched {
                    offset,
                    len,
                    digest,
                },
                (false, None) => Written::Range { offset, len },
            });
        }
        Ok(())
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
}

pub(super) fn target_failure(error: TargetError) -> TargetFailure {
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

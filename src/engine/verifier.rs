//! A target's read-back verification, running on its own thread a fixed
//! distance behind the writer: a bad card is caught early, and the run takes
//! about max(write, read) instead of write + read.
//!
//! Block devices are read with O_DIRECT, so what comes back is what the
//! device holds, never the page cache; staying [`LAG_BYTES`] behind the
//! write position lets a device's small write cache drain first, and the
//! last stretch is read after the writer's fsync. A regular file has no
//! O_DIRECT everywhere (tmpfs): it is read only once it has been synced and
//! its cached pages dropped.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::{Receiver, Sender};

use super::chunk::{CHUNK_BYTES, ChunkDigest, digest_matches};
use super::device_io::DeviceIo;
use super::hasher::DigestReader;
use super::progress::ProgressReporter;
use super::{FailureKind, FlashEvent, Phase, TargetFailure};
use crate::patch::Patch;
use crate::target::{AlignedBuf, TargetInfo, TargetKind, TargetOpener};

/// How far behind the write position the read-back stays while writing.
pub(super) const LAG_BYTES: u64 = 64 << 20;

/// What the writer tells its verifier.
pub(super) enum Written {
    /// `len` bytes at `offset` have been written.
    Range { offset: u64, len: usize },
    /// `len` bytes at `offset` are held back to be written last
    /// ([`super::held`]): their digest is kept for [`Verified::held`].
    Held { offset: u64, len: usize },
    /// The target already held the `len` bytes at `offset`, so they were
    /// not written: the compare's read back had `digest`
    /// ([`super::compare_first`]), checked here in place of a second read.
    Matched {
        offset: u64,
        len: usize,
        digest: ChunkDigest,
    },
    /// Everything is written and synced: the image is `image_bytes` long.
    Synced { image_bytes: u64 },
}

pub(super) struct Verifier<'a> {
    pub index: usize,
    pub info: &'a TargetInfo,
    pub written: Receiver<Written>,
    pub digests: DigestReader,
    pub events: &'a Sender<FlashEvent>,
    pub cancel: &'a AtomicBool,
    /// Set when verification fails, so the writer stops early.
    pub failed: &'a AtomicBool,
    pub opener: &'a dyn TargetOpener,
    /// The target's patch: the read-back must hold its bytes, and with the
    /// image's own put back in their place must match the image's digests.
    pub patch: Option<&'a Patch>,
}

/// What a verifier proved: every range written, up to the image's end; the
/// held ranges' digests are for the writer to check them once written.
pub(super) struct Verified {
    pub image_bytes: u64,
    pub held: Vec<HeldDigest>,
}

/// A range held back to be written last, and the image's digest of it.
pub(super) struct HeldDigest {
    pub offset: u64,
    pub len: usize,
    pub digest: ChunkDigest,
}

impl Verifier<'_> {
    /// Verifies every written range. `Ok(None)` when the writer stopped
    /// before the end (its own error is the target's result).
    pub(super) fn run(mut self) -> Result<Option<Verified>, TargetFailure> {
        let result = self.verify_all();
        if result.is_err() {
            self.failed.store(true, Ordering::Relaxed);
        }
        result
    }

    fn verify_all(&mut self) -> Result<Option<Verified>, TargetFailure> {
        let lag = match self.info.kind {
            TargetKind::BlockDevice => LAG_BYTES,
            TargetKind::File => u64::MAX,
        };
        let mut file: Option<DeviceIo> = None;
        let mut buf = Some(AlignedBuf::zeroed(CHUNK_BYTES));
        let mut pending: VecDeque<(u64, usize, Pending)> = VecDeque::new();
        let mut held = Vec::new();
        let mut written_end = 0u64;
        let mut progress: Option<ProgressReporter> = None;
        let mut verified_end = 0u64;
        loop {
            let synced = match self.written.recv() {
                Ok(Written::Range { offset, len }) => {
                    pending.push_back((offset, len, Pending::Written));
                    written_end = offset + len as u64;
                    None
                }
                Ok(Written::Held { offset, len }) => {
                    pending.push_back((offset, len, Pending::Held));
                    written_end = offset + len as u64;
                    None
                }
                Ok(Written::Matched {
                    offset,
                    len,
                    digest,
                }) => {
                    pending.push_back((offset, len, Pending::Matched(digest)));
                    written_end = offset + len as u64;
                    None
                }
                Ok(Written::Synced { image_bytes }) => Some(image_bytes),
                // The writer stopped early: its error stands.
                Err(_) => return Ok(None),
            };
            if let Some(image_bytes) = synced {
                // From here on, verification is the target's visible phase.
                let mut reporter = ProgressReporter::new(
                    self.events,
                    self.index,
                    Phase::Verify,
                    Some(image_bytes),
                );
                reporter.update(verified_end);
                progress = Some(reporter);
            }
            while let Some(&(offset, len, what)) = pending.front() {
                let due =
                    synced.is_some() || (offset + len as u64).saturating_add(lag) <= written_end;
                if !due {
                    break;
                }
                if self.cancel.load(Ordering::Relaxed) {
                    return Err(self.cancelled(offset, false));
                }
                if what == Pending::Held {
                    // Digests come in range order: this one is kept for
                    // when the range is written, last.
                    let digest = self.next_digest(offset)?;
                    held.push(HeldDigest {
                        offset,
                        len,
                        digest,
                    });
                    pending.pop_front();
                    continue;
                }
                if let Pending::Matched(read_back) = what {
                    let expected = self.next_digest(offset)?;
                    if expected != read_back {
                        return Err(differs(self.info, offset, len));
                    }
                } else {
                    let target = self.open_once(&mut file)?;
                    self.verify_range(target, &mut buf, offset, len)?;
                }
                pending.pop_front();
                verified_end = offset + len as u64;
                if let Some(reporter) = progress.as_mut() {
                    reporter.update(verified_end);
                }
            }
            if let Some(image_bytes) = synced {
                if let Some(reporter) = progress.as_mut() {
                    reporter.finish(image_bytes);
                }
                return Ok(Some(Verified { image_bytes, held }));
            }
        }
    }

    /// The target opened for reading, on its own I/O thread, the first time.
    fn open_once<'f>(&self, file: &'f mut Option<DeviceIo>) -> Result<&'f DeviceIo, TargetFailure> {
        if file.is_none() {
            let opened = self
                .opener
                .open_for_read(self.info)
                .map_err(|e| verify_failure(e.offset(), e.to_string()))?;
            let name = format!("verify-io/{}", super::short_name(self.info));
            *file = Some(DeviceIo::spawn(opened, name));
        }
        Ok(file.as_ref().expect("opened just above"))
    }

    /// The run was cancelled at `offset`, perhaps while a read had not
    /// returned. What the writer wrote is all there (when the writer was
    /// cancelled too, its failure is the one reported), but unchecked.
    fn cancelled(&self, offset: u64, read_stuck: bool) -> TargetFailure {
        let path = self.info.path.display();
        let stuck = if read_stuck {
            format!(" before a read from {path} had returned (the drive is slow or not responding)")
        } else {
            String::new()
        };
        TargetFailure {
            kind: FailureKind::Cancelled,
            offset: Some(offset),
            message: format!(
                "verification cancelled at byte {offset}{stuck}: {path} was written but not verified; check it with `imprint verify` or flash it again"
            ),
        }
    }

    /// Reads `len` bytes at `offset` back and compares them with the
    /// image's digest. `buf` is lent to the target's I/O thread meanwhile
    /// (and lost with it when that thread is abandoned).
    fn verify_range(
        &mut self,
        file: &DeviceIo,
        buf: &mut Option<AlignedBuf>,
        offset: u64,
        len: usize,
    ) -> Result<(), TargetFailure> {
        let mut lent = buf
            .take()
            .unwrap_or_else(|| AlignedBuf::zeroed(CHUNK_BYTES));
        let (read, lent) = file
            .call(self.cancel, move |file| {
                let read = file.read_at(offset, &mut lent, len);
                (read, lent)
            })
            .map_err(|_| self.cancelled(offset, true))?;
        if let Err(error) = read {
            let located = file
                .locate_read_failure(self.cancel, offset, len, error)
                .map_err(|_| self.cancelled(offset, true))?;
            return Err(verify_failure(located.offset(), located.to_string()));
        }
        let buf = buf.insert(lent);
        if let Some(patch) = self.patch
            && let Some(at) = patch.check_and_restore(offset, &mut buf[..len])
        {
            return Err(verify_failure(
                Some(at),
                format!(
                    "verification of {} failed: byte {at} read back is not the configured boot partition's; the drive may be failing or fake, try another drive",
                    self.info.path.display()
                ),
            ));
        }
        let expected = self.next_digest(offset)?;
        check_digest(self.info, &expected, offset, &buf[..len])
    }

    fn next_digest(&mut self, offset: u64) -> Result<ChunkDigest, TargetFailure> {
        self.digests.next(self.cancel).ok_or_else(|| {
            verify_failure(
                Some(offset),
                "the image's checksums stopped before its end; cannot verify".to_string(),
            )
        })
    }
}

/// Whether `bytes`, read back from `info` at `offset`, match `expected`.
pub(super) fn check_digest(
    info: &TargetInfo,
    expected: &ChunkDigest,
    offset: u64,
    bytes: &[u8],
) -> Result<(), TargetFailure> {
    if digest_matches(expected, bytes) {
        return Ok(());
    }
    Err(differs(info, offset, bytes.len()))
}

/// What a verifier queues: a range to read back, one held for the end, or
/// one the target already held (and its read-back digest).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    Written,
    Held,
    Matched(ChunkDigest),
}

/// The `len` bytes read back from `info` at `offset` are not the image's.
fn differs(info: &TargetInfo, offset: u64, len: usize) -> TargetFailure {
    verify_failure(
        Some(offset),
        format!(
            "verification of {} failed: the {len} bytes read back from byte {offset} differ from the image; the drive may be failing or fake, try another drive",
            info.path.display()
        ),
    )
}

pub(super) fn verify_failure(offset: Option<u64>, message: String) -> TargetFailure {
    TargetFailure {
        kind: FailureKind::Verify,
        offset,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::chunk::digest_of;

    /// Feeds a verifier a file whose second chunk differs from the image.
    fn verify_file(image: &[u8], on_disk: &[u8]) -> Result<Option<u64>, TargetFailure> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("target.img");
        std::fs::write(&path, on_disk).unwrap();
        let info = crate::target::inspect(&path).unwrap();
        let (written_tx, written) = crossbeam_channel::unbounded();
        let digests = std::sync::Arc::new(crate::engine::hasher::Digests::default());
        let (events, _events_rx) = crossbeam_channel::unbounded();
        let cancel = AtomicBool::new(false);
        let failed = AtomicBool::new(false);
        for (i, chunk) in image.chunks(CHUNK_BYTES).enumerate() {
            let offset = (i * CHUNK_BYTES) as u64;
            digests.extend([digest_of(chunk)]);
            written_tx
                .send(Written::Range {
                    offset,
                    len: chunk.len(),
                })
                .unwrap();
        }
        digests.close();
        written_tx
            .send(Written::Synced {
                image_bytes: image.len() as u64,
            })
            .unwrap();
        let result = Verifier {
            index: 0,
            info: &info,
            written,
            digests: digests.reader(),
            events: &events,
            cancel: &cancel,
            failed: &failed,
            opener: &crate::target::OpenTargetFile,
            patch: None,
        }
        .run();
        assert_eq!(failed.load(Ordering::Relaxed), result.is_err());
        result.map(|verified| verified.map(|v| v.image_bytes))
    }

    #[test]
    fn a_faithful_target_verifies() {
        let mut image = vec![0u8; CHUNK_BYTES * 2 + 777];
        image[CHUNK_BYTES + 5] = 1;
        assert_eq!(
            verify_file(&image, &image).unwrap(),
            Some(image.len() as u64)
        );
    }

    #[test]
    fn one_changed_byte_fails_naming_its_chunk() {
        let mut image = vec![0u8; CHUNK_BYTES * 2 + 777];
        image[10] = 7;
        let mut on_disk = image.clone();
        on_disk[CHUNK_BYTES + 100] = 1;
        let failure = verify_file(&image, &on_disk).unwrap_err();
        assert_eq!(failure.kind, FailureKind::Verify);
        assert_eq!(failure.offset, Some(CHUNK_BYTES as u64));
        assert!(
            failure.message.contains("differ from the image"),
            "{failure}"
        );
    }

    #[test]
    fn a_changed_byte_in_a_hashed_chunk_fails_too() {
        let image = vec![3u8; CHUNK_BYTES + 10];
        let mut on_disk = image.clone();
        on_disk[CHUNK_BYTES + 9] = 4;
        let failure = verify_file(&image, &on_disk).unwrap_err();
        assert_eq!(failure.offset, Some(CHUNK_BYTES as u64));
    }
}

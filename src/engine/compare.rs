//! `imprint verify`: compare targets with the image byte for byte, without
//! writing. The image streams once; each target's thread reads the same
//! range back (bypassing the page cache) and names the first differing byte.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::Sender;

use super::chunk::{CHUNK_BYTES, Message, Payload};
use super::device_io::DeviceIo;
use super::progress::ProgressReporter;
use super::spool::Cursor;
use super::{FailureKind, FlashEvent, Phase, TargetFailure, TargetOutcome};
use crate::patch::Patch;
use crate::target::{AlignedBuf, TargetInfo, TargetOpener};

pub(super) struct CompareRun<'a> {
    pub index: usize,
    pub info: TargetInfo,
    /// The target's patch: compared in place of the image's bytes.
    pub patch: Option<&'a Patch>,
    pub chunks: Cursor,
    pub size_hint: Option<u64>,
    pub events: &'a Sender<FlashEvent>,
    pub cancel: &'a AtomicBool,
    pub opener: &'a dyn TargetOpener,
}

impl CompareRun<'_> {
    pub(super) fn run(mut self) -> TargetOutcome {
        let mut bytes_compared = 0;
        let mut compared = 0;
        let result = self
            .compare(&mut bytes_compared, &mut compared)
            .map_err(|failure| self.unchanged_when_cancelled(failure));
        let _ = self.events.send(FlashEvent::TargetDone {
            target: self.index,
            result: result.clone(),
            sha256: None,
            written_bytes: 0,
            verified_bytes: compared,
            matched_bytes: 0,
        });
        TargetOutcome {
            target: self.info.path.clone(),
            verified: result.is_ok(),
            result,
            bytes_written: 0,
            written_bytes: 0,
            verified_bytes: compared,
            matched_bytes: 0,
        }
    }

    /// A comparison writes nothing: when it was cancelled, its message
    /// keeps what happened (where, and whether a read was stuck) but says
    /// the drive is as it was, not that it is incomplete.
    fn unchanged_when_cancelled(&self, failure: TargetFailure) -> TargetFailure {
        if failure.kind != FailureKind::Cancelled {
            return failure;
        }
        // The image reader's own message names the flash's consequence.
        let what = failure
            .message
            .split("; the target is incomplete")
            .next()
            .unwrap_or_default()
            .to_string();
        TargetFailure {
            message: format!(
                "{what}: verification of {} was interrupted; the drive is unchanged (verify writes nothing), verify it again",
                self.info.path.display()
            ),
            ..failure
        }
    }

    /// Compares the used ranges of every chunk (all of it with `--full`);
    /// `compared` counts their bytes.
    fn compare(
        &mut self,
        bytes_compared: &mut u64,
        compared: &mut u64,
    ) -> Result<(), TargetFailure> {
        let path = self.info.path.display().to_string();
        let file = self
            .opener
            .open_for_read(&self.info)
            .map_err(|e| verify_failure(e.offset(), e.to_string()))?;
        let file = DeviceIo::spawn(
            file,
            format!("compare-io/{}", super::short_name(&self.info)),
        );
        let mut progress =
            ProgressReporter::new(self.events, self.index, Phase::Verify, self.size_hint);
        let mut buf = Some(AlignedBuf::zeroed(CHUNK_BYTES));
        loop {
            let chunk = match self.chunks.next(self.cancel) {
                Message::Chunk(chunk) => chunk,
                Message::End { image_bytes } => {
                    progress.finish(image_bytes);
                    return Ok(());
                }
                Message::Failed(f) => return Err(f),
            };
            let used = chunk.used.clone();
            let chunk = Payload::for_target(&chunk, self.patch);
            if self.cancel.load(Ordering::Relaxed) {
                return Err(TargetFailure {
                    kind: FailureKind::Cancelled,
                    offset: Some(chunk.offset),
                    message: format!("cancelled at byte {}", chunk.offset),
                });
            }
            let end = chunk.offset + chunk.len as u64;
            if let Some(size) = self.info.size_bytes.or_else(|| file_len(&self.info))
                && end > size
            {
                return Err(verify_failure(
                    Some(size),
                    format!("{path} holds {size} bytes, but the image goes on past that"),
                ));
            }
            for range in &used {
                *compared += self.compare_range(&file, &mut buf, &chunk, range, &path)?;
            }
            *bytes_compared = end;
            progress.update(end);
        }
    }

    /// Reads `range` back from the target and compares it with the image's
    /// bytes in `chunk`; returns how many bytes it compared. `buf` is lent
    /// to the target's I/O thread and comes back with the read.
    fn compare_range(
        &self,
        file: &DeviceIo,
        buf: &mut Option<AlignedBuf>,
        chunk: &Payload,
        range: &Range<u64>,
        path: &str,
    ) -> Result<u64, TargetFailure> {
        let (offset, len) = (range.start, (range.end - range.start) as usize);
        let mut lent = buf
            .take()
            .unwrap_or_else(|| AlignedBuf::zeroed(CHUNK_BYTES));
        let stuck = |_| TargetFailure {
            kind: FailureKind::Cancelled,
            offset: Some(offset),
            message: format!(
                "cancelled at byte {offset} before a read from {path} had returned (the drive is slow or not responding)"
            ),
        };
        let (read, lent) = file
            .call(self.cancel, move |file| {
                let read = file.read_at(offset, &mut lent, len);
                (read, lent)
            })
            .map_err(stuck)?;
        if let Err(error) = read {
            let located = file
                .locate_read_failure(self.cancel, offset, len, error)
                .map_err(stuck)?;
            return Err(verify_failure(located.offset(), located.to_string()));
        }
        let buf = buf.insert(lent);
        let image = chunk.bytes_of(range);
        if let Some(at) = first_difference(image, &buf[..len]) {
            let offset = offset + at as u64;
            return Err(verify_failure(
                Some(offset),
                format!(
                    "{path} differs from the image at byte {offset} (0x{offset:x}): image has 0x{:02x}, drive has 0x{:02x}",
                    image[at], buf[at]
                ),
            ));
        }
        Ok(len as u64)
    }
}

/// The target does not hold the image (or cannot be read to tell).
fn verify_failure(offset: Option<u64>, message: String) -> TargetFailure {
    TargetFailure {
        kind: FailureKind::Verify,
        offset,
        message,
    }
}

fn file_len(info: &TargetInfo) -> Option<u64> {
    std::fs::metadata(&info.path).ok().map(|m| m.len())
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    // Compare in large slices first: memcmp is much faster than a byte loop.
    const STEP: usize = 64 << 10;
    let mut base = 0;
    for (x, y) in a.chunks(STEP).zip(b.chunks(STEP)) {
        if x != y {
            return x.iter().zip(y).position(|(p, q)| p != q).map(|i| base + i);
        }
        base += x.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn finds_the_exact_byte() {
        let a = vec![7u8; 200_000];
        let mut b = a.clone();
        assert_eq!(first_difference(&a, &b), None);
        b[131_073] = 0;
        assert_eq!(first_difference(&a, &b), Some(131_073));
    }
}

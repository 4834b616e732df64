//! Compare-before-write on a block device's used ranges
//! (docs/architecture.md §2): a re-flashed card usually holds most of the
//! image already, and reading is cheaper than writing (faster, and it
//! spares the card's write endurance). A range the card already holds is
//! not written; the read that found it equal is its verification (its
//! digest goes to the verifier in place of a second read).
//!
//! On a fresh card every compare is wasted, so it is adaptive: a compare
//! first reads a short sample of the range, and after a few ranges in a
//! row that differ it stops comparing for a stretch that doubles each time
//! the samples keep missing. A fresh card thus pays a few small reads.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::TargetFailure;
use super::chunk::{ChunkDigest, Payload, digest_of};
use super::device_io::DeviceIo;
use super::writer::TargetRun;
use super::writer_state::Writing;
use crate::target::AlignedBuf;

/// Ranges in a row that differ before comparing pauses.
const MISSES_TO_PAUSE: u32 = 2;
/// The first pause; it doubles up to [`LONGEST_PAUSE`] while samples miss.
const FIRST_PAUSE: u64 = 64 << 20;
const LONGEST_PAUSE: u64 = 1 << 30;
/// The sample read first: a range whose start differs is not read whole.
const SAMPLE_BYTES: usize = 128 << 10;

/// When to compare before writing.
pub(super) struct CompareFirst {
    enabled: bool,
    misses: u32,
    paused_until: u64,
    pause: u64,
}

/// What comparing a range found.
pub(super) enum Compared {
    /// The target holds the range: the digest of what was read back.
    Holds(ChunkDigest),
    /// It does not (or could not be read): write it.
    Differs,
}

impl CompareFirst {
    /// `enabled` on a verified block device only: the read is a
    /// verification, and a file target is cheaper to just write.
    pub(super) fn new(enabled: bool) -> CompareFirst {
        CompareFirst {
            enabled,
            misses: 0,
            paused_until: 0,
            pause: FIRST_PAUSE,
        }
    }

    /// Whether the range at `offset` is worth comparing.
    pub(super) fn due(&self, offset: u64) -> bool {
        self.enabled && offset >= self.paused_until
    }

    /// Notes what comparing the range at `offset` found.
    pub(super) fn note(&mut self, offset: u64, held: bool) {
        if held {
            self.misses = 0;
            self.pause = FIRST_PAUSE;
            return;
        }
        self.misses += 1;
        if self.misses >= MISSES_TO_PAUSE {
            self.paused_until = offset.saturating_add(self.pause);
            self.pause = (self.pause * 2).min(LONGEST_PAUSE);
            // One more miss after the pause pauses again.
            self.misses = MISSES_TO_PAUSE - 1;
        }
    }
}

/// A range the target already held: its offset, and the digest of what
/// was read back there.
pub(super) type Held = (u64, ChunkDigest);

impl TargetRun<'_> {
    /// Splits `ranges` (about to be written) into those still to write and
    /// those the target already holds, with the digests of what was read.
    /// Ranges with this target's patch in them are always written.
    pub(super) fn compare_first(
        &self,
        writing: &mut Writing<'_>,
        payload: &Arc<Payload>,
        ranges: Vec<Range<u64>>,
    ) -> Result<(Vec<Range<u64>>, Vec<Held>), TargetFailure> {
        let patched = self.patch.map(crate::patch::Patch::range);
        let mut write = Vec::with_capacity(ranges.len());
        let mut held = Vec::new();
        for range in ranges {
            let in_patch = patched
                .as_ref()
                .is_some_and(|p| p.start < range.end && range.start < p.end);
            if in_patch || !writing.compare.due(range.start) {
                write.push(range);
                continue;
            }
            let found = compare(writing.file, self.cancel, payload, &range)
                .map_err(|()| self.stuck(range.start, "a read from"))?;
            match found {
                Compared::Holds(digest) => {
                    writing.compare.note(range.start, true);
                    writing.counts.matched += range.end - range.start;
                    held.push((range.start, digest));
                }
                Compared::Differs => {
                    writing.compare.note(range.start, false);
                    write.push(range);
                }
            }
        }
        Ok((write, held))
    }
}

/// Reads `range` back from the target and compares it with `payload`'s
/// bytes, a short sample first. `Err` when the run was cancelled while a
/// read had not returned; a read error is [`Compared::Differs`] (the
/// write that follows reports the drive's failure, if it is one).
pub(super) fn compare(
    file: &DeviceIo,
    cancel: &AtomicBool,
    payload: &Arc<Payload>,
    range: &Range<u64>,
) -> Result<Compared, ()> {
    let len = (range.end - range.start) as usize;
    let sample = len.min(SAMPLE_BYTES);
    let image = payload.bytes_of(range);
    let Some(buf) = read(file, cancel, range.start, sample)? else {
        return Ok(Compared::Differs);
    };
    if buf[..sample] != image[..sample] {
        return Ok(Compared::Differs);
    }
    let buf = if sample == len {
        buf
    } else {
        match read(file, cancel, range.start, len)? {
            Some(buf) => buf,
            None => return Ok(Compared::Differs),
        }
    };
    if buf[..len] != *image {
        return Ok(Compared::Differs);
    }
    // The digest of the bytes read, not of the image's: the verifier checks
    // it against the reader's digests, so a raw image changed on disk while
    // this writer read it still fails (docs/architecture.md §11).
    Ok(Compared::Holds(digest_of(&buf[..len])))
}

/// `len` bytes at `offset`, read on the target's I/O thread; `None` when
/// the read failed.
fn read(
    file: &DeviceIo,
    cancel: &AtomicBool,
    offset: u64,
    len: usize,
) -> Result<Option<AlignedBuf>, ()> {
    let mut buf = AlignedBuf::zeroed(len.next_multiple_of(crate::target::IO_ALIGNMENT));
    let read = file
        .call(cancel, move |file| {
            let read = file.read_at(offset, &mut buf, len);
            (read, buf)
        })
        .map_err(|_| ())?;
    match read {
        (Ok(()), buf) => Ok(Some(buf)),
        (Err(_), _) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_card_pauses_comparing_for_longer_and_longer() {
        let mut policy = CompareFirst::new(true);
        assert!(policy.due(0));
        policy.note(0, false);
        assert!(policy.due(4 << 20), "one miss does not pause");
        policy.note(4 << 20, false);
        assert!(!policy.due(8 << 20));
        let resume = (4 << 20) + FIRST_PAUSE;
        assert!(policy.due(resume));
        policy.note(resume, false);
        assert!(!policy.due(resume + FIRST_PAUSE), "the pause doubled");
        assert!(policy.due(resume + 2 * FIRST_PAUSE));
    }

    #[test]
    fn a_card_that_holds_the_image_is_compared_throughout() {
        let mut policy = CompareFirst::new(true);
        for i in 0..100u64 {
            assert!(policy.due(i << 22));
            policy.note(i << 22, i % 2 == 0);
        }
        assert!(!CompareFirst::new(false).due(0));
    }
}

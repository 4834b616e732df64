//! A patch: bytes that replace the image's own at some offsets while it
//! streams. How a configured boot partition reaches a target; it lives
//! below both `bootcfg` (which makes it) and `engine` (which applies it).
//!
//! A patch belongs to one target (each drive may get its own config.json),
//! so it holds only the [`BLOCK`]s that differ from the image — a few KiB
//! for a config.json — and, for each, the image's own bytes too: a verifier
//! puts those back into what it read, and so checks the rest of the block
//! against the digests of the one reading of the image.

use std::ops::Range;
use std::sync::Arc;

/// The granularity of a patch's runs: a filesystem block and a page, so a
/// run never splits a sector of any drive.
pub(crate) const BLOCK: usize = 4096;

/// The configured bytes of `range` (a boot partition), kept as the runs
/// where they differ from the image's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The offset of the patched region in the image.
    pub offset: u64,
    /// The region's length: all of it is *used* in the map of used bytes,
    /// whatever the runs (docs/architecture.md §11).
    pub len: u64,
    /// Sorted, disjoint, each at a multiple of [`BLOCK`] from `offset`.
    runs: Arc<Vec<Run>>,
}

/// One stretch where the configured bytes differ from the image's.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    offset: u64,
    /// The image's bytes.
    old: Vec<u8>,
    /// The configured bytes, as long as `old`.
    new: Vec<u8>,
}

impl Run {
    fn range(&self) -> Range<u64> {
        self.offset..self.offset + self.new.len() as u64
    }
}

impl Patch {
    /// The patch that turns `original` into `configured` (equally long), both
    /// the bytes of the region at `offset`.
    pub fn diff(offset: u64, original: &[u8], configured: &[u8]) -> Patch {
        assert_eq!(original.len(), configured.len(), "a patch keeps the length");
        let mut builder = PatchBuilder::new(offset, original.len() as u64);
        for (i, (old, new)) in original
            .chunks(BLOCK)
            .zip(configured.chunks(BLOCK))
            .enumerate()
        {
            builder.block(offset + (i * BLOCK) as u64, old, new);
        }
        builder.finish()
    }

    /// The region the patch belongs to (always used in the map).
    pub fn range(&self) -> Range<u64> {
        self.offset..self.end()
    }

    /// The first byte after the patched region.
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }

    /// Bytes that actually differ from the image (a multiple of [`BLOCK`]
    /// but at the region's end): what the patch costs in memory, twice.
    pub fn changed_bytes(&self) -> u64 {
        self.runs.iter().map(|r| r.new.len() as u64).sum()
    }

    /// Whether the patch changes any byte of `range`.
    pub fn touches(&self, range: &Range<u64>) -> bool {
        self.runs
            .iter()
            .any(|r| r.offset < range.end && range.start < r.range().end)
    }

    /// Replaces the bytes of `chunk`, which holds the image's bytes from
    /// `chunk_offset`, that this patch changes.
    pub fn apply(&self, chunk_offset: u64, chunk: &mut [u8]) {
        self.each_overlap(chunk_offset, chunk.len(), |run, in_chunk, in_run| {
            chunk[in_chunk].copy_from_slice(&run.new[in_run]);
        });
    }

    /// Puts the image's own bytes back where `chunk` (the configured bytes
    /// from `chunk_offset`, as read back from a target) is patched, after
    /// checking that they are the configured ones. Returns the offset of the
    /// first byte that is not the configured one, if any.
    pub fn check_and_restore(&self, chunk_offset: u64, chunk: &mut [u8]) -> Option<u64> {
        let mut differs = None;
        self.each_overlap(chunk_offset, chunk.len(), |run, in_chunk, in_run| {
            let read = &mut chunk[in_chunk.clone()];
            if differs.is_none()
                && let Some(at) = read
                    .iter()
                    .zip(&run.new[in_run.clone()])
                    .position(|(a, b)| a != b)
            {
                differs = Some(chunk_offset + (in_chunk.start + at) as u64);
            }
            read.copy_from_slice(&run.old[in_run]);
        });
        differs
    }

    /// Calls `f(run, range in the chunk, range in the run)` for every run
    /// overlapping the chunk of `len` bytes at `chunk_offset`.
    fn each_overlap(
        &self,
        chunk_offset: u64,
        len: usize,
        mut f: impl FnMut(&Run, Range<usize>, Range<usize>),
    ) {
        let chunk_end = chunk_offset.saturating_add(len as u64);
        // Runs are sorted: skip those wholly before the chunk.
        let first = self.runs.partition_point(|r| r.range().end <= chunk_offset);
        for run in &self.runs[first..] {
            let range = run.range();
            if range.start >= chunk_end {
                break;
            }
            let start = chunk_offset.max(range.start);
            let end = chunk_end.min(range.end);
            // Both differences are below the lengths of in-memory buffers.
            let in_chunk = (start - chunk_offset) as usize..(end - chunk_offset) as usize;
            let in_run = (start - range.start) as usize..(end - range.start) as usize;
            f(run, in_chunk, in_run);
        }
    }
}

/// Makes a [`Patch`] from the region's blocks, given in order: what a
/// caller that streams the original bytes (not holding them) uses.
pub(crate) struct PatchBuilder {
    offset: u64,
    len: u64,
    runs: Vec<Run>,
}

impl PatchBuilder {
    /// A patch of the `len` bytes at `offset`, so far changing nothing.
    pub(crate) fn new(offset: u64, len: u64) -> PatchBuilder {
        PatchBuilder {
            offset,
            len,
            runs: Vec::new(),
        }
    }

    /// The block at `at` (after the previous one) holds `old` in the image
    /// and `new` once configured; kept only when they differ, merged with
    /// the previous run when adjacent.
    pub(crate) fn block(&mut self, at: u64, old: &[u8], new: &[u8]) {
        debug_assert_eq!(old.len(), new.len());
        if old == new {
            return;
        }
        match self.runs.last_mut() {
            Some(run) if run.range().end == at => {
                run.old.extend_from_slice(old);
                run.new.extend_from_slice(new);
            }
            _ => self.runs.push(Run {
                offset: at,
                old: old.to_vec(),
                new: new.to_vec(),
            }),
        }
    }

    pub(crate) fn finish(self) -> Patch {
        Patch {
            offset: self.offset,
            len: self.len,
            runs: Arc::new(self.runs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn a_patch_keeps_only_the_blocks_that_differ() {
        let original = bytes(10 * BLOCK + 100, 1);
        let mut configured = original.clone();
        configured[BLOCK + 5] ^= 1;
        configured[2 * BLOCK] ^= 1;
        configured[10 * BLOCK + 99] ^= 1;
        let patch = Patch::diff(8192, &original, &configured);
        assert_eq!(patch.range(), 8192..8192 + 10 * BLOCK as u64 + 100);
        assert_eq!(patch.changed_bytes(), 2 * BLOCK as u64 + 100);
        assert_eq!(patch.runs.len(), 2, "adjacent blocks make one run");
        assert!(patch.touches(&(8192 + BLOCK as u64..8192 + BLOCK as u64 + 1)));
        assert!(!patch.touches(&(8192..8192 + BLOCK as u64)));
    }

    #[test]
    fn a_patch_lands_only_where_it_differs_across_chunk_boundaries() {
        let mut image = bytes(64 * 1024, 7);
        let at = 8192;
        let original = image[at..at + 5 * BLOCK].to_vec();
        let mut configured = original.clone();
        configured[BLOCK - 1..3 * BLOCK + 1].fill(0xAB);
        let patch = Patch::diff(at as u64, &original, &configured);
        let mut expected = image.clone();
        expected[at..at + 5 * BLOCK].copy_from_slice(&configured);
        // Applied in pieces that do not line up with the runs.
        for (i, piece) in image.chunks_mut(3000).enumerate() {
            patch.apply((i * 3000) as u64, piece);
        }
        assert!(image == expected);
        // Read back, checked and restored in other pieces: the image again.
        let mut back = expected.clone();
        for (i, piece) in back.chunks_mut(5000).enumerate() {
            assert_eq!(patch.check_and_restore((i * 5000) as u64, piece), None);
        }
        let mut original_image = expected.clone();
        original_image[at..at + 5 * BLOCK].copy_from_slice(&original);
        assert!(back == original_image);
    }

    #[test]
    fn a_read_back_that_lacks_the_configured_bytes_is_named() {
        let original = vec![0u8; 4 * BLOCK];
        let mut configured = original.clone();
        configured[BLOCK + 10..BLOCK + 20].fill(9);
        let patch = Patch::diff(0, &original, &configured);
        let mut back = configured.clone();
        back[BLOCK + 15] = 8;
        assert_eq!(
            patch.check_and_restore(0, &mut back),
            Some(BLOCK as u64 + 15)
        );
        assert!(back == original, "restored even so");
    }
}

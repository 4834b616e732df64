//! What a flash run is asked to do, and what it reports at the end.

use std::path::PathBuf;
use std::sync::Arc;

use super::TargetFailure;
use crate::source::ImageSource;

/// Bytes that replace the image's own bytes at `offset` while it streams:
/// how a configured boot partition reaches the targets, so that the hashes
/// and the read-back verification cover the configured image.
#[derive(Debug, Clone)]
pub struct Patch {
    pub offset: u64,
    pub bytes: Arc<Vec<u8>>,
}

impl Patch {
    /// Replaces the bytes of `chunk`, which holds the image's bytes from
    /// `chunk_offset`, that this patch covers.
    pub fn apply(&self, chunk_offset: u64, chunk: &mut [u8]) {
        let chunk_end = chunk_offset.saturating_add(chunk.len() as u64);
        let patch_end = self.offset.saturating_add(self.bytes.len() as u64);
        let start = chunk_offset.max(self.offset);
        let end = chunk_end.min(patch_end);
        if start >= end {
            return;
        }
        // Both differences are below the lengths of in-memory buffers.
        let in_chunk = (start - chunk_offset) as usize..(end - chunk_offset) as usize;
        let in_patch = (start - self.offset) as usize..(end - self.offset) as usize;
        chunk[in_chunk].copy_from_slice(&self.bytes[in_patch]);
    }

    /// The first byte after the patch.
    pub fn end(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }
}

/// One flash run: an image, its targets, and how to check the result.
#[derive(Debug, Clone)]
pub struct FlashJob {
    pub source: ImageSource,
    /// Block devices or regular files, in the order the user named them.
    pub targets: Vec<PathBuf>,
    /// Read every target back and compare it with the image.
    pub verify: bool,
    /// The SHA-256 (hex) the decompressed, patched image must have.
    pub expected_sha256: Option<String>,
    pub patch: Option<Patch>,
    /// Write and verify every byte (`--full`), not only the used ranges of
    /// the map of used bytes (`crate::map`).
    pub full: bool,
}

/// The result of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOutcome {
    pub target: PathBuf,
    pub result: Result<(), TargetFailure>,
    /// How far into the image this target was written (a position).
    pub bytes_written: u64,
    /// Bytes actually written: the used ranges only, unless `--full`.
    pub written_bytes: u64,
    /// Bytes read back and compared.
    pub verified_bytes: u64,
    /// Whether every written byte was read back and matched.
    pub verified: bool,
}

/// The result of a whole run.
#[derive(Debug, Clone)]
pub struct FlashReport {
    pub targets: Vec<TargetOutcome>,
    pub image_sha256: Option<String>,
    /// The image's length; `None` when it could not be read to its end.
    pub image_bytes: Option<u64>,
}

impl FlashReport {
    pub fn succeeded(&self) -> usize {
        self.targets.iter().filter(|t| t.result.is_ok()).count()
    }

    pub fn failed(&self) -> usize {
        self.targets.len() - self.succeeded()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_lands_only_where_it_overlaps() {
        let patch = Patch {
            offset: 6,
            bytes: Arc::new(vec![1, 2, 3, 4]),
        };
        let mut first = [0u8; 8];
        patch.apply(0, &mut first);
        assert_eq!(first, [0, 0, 0, 0, 0, 0, 1, 2]);
        let mut second = [0u8; 8];
        patch.apply(8, &mut second);
        assert_eq!(second, [3, 4, 0, 0, 0, 0, 0, 0]);
        let mut third = [0u8; 8];
        patch.apply(16, &mut third);
        assert_eq!(third, [0u8; 8]);
    }
}

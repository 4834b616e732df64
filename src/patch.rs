//! A patch: bytes that replace the image's own at an offset while it
//! streams. How a configured boot partition reaches the targets; it lives
//! below both `bootcfg` (which makes it) and `engine` (which applies it).

use std::sync::Arc;

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

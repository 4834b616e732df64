//! Apply a [`Patch`] to the image's bytes as they stream: the configured
//! boot partition replaces the original one, every other byte passes as is.

use std::io::{self, Read};

use crate::engine::Patch;

/// Replaces the bytes of `chunk`, which holds the image's bytes from
/// `chunk_offset`, that `patch` covers.
pub fn apply_patch(chunk: &mut [u8], chunk_offset: u64, patch: &Patch) {
    let chunk_end = chunk_offset.saturating_add(chunk.len() as u64);
    let patch_end = patch.offset.saturating_add(patch.bytes.len() as u64);
    let start = chunk_offset.max(patch.offset);
    let end = chunk_end.min(patch_end);
    if start >= end {
        return;
    }
    // Both differences are below the lengths of in-memory buffers.
    let in_chunk = (start - chunk_offset) as usize..(end - chunk_offset) as usize;
    let in_patch = (start - patch.offset) as usize..(end - patch.offset) as usize;
    chunk[in_chunk].copy_from_slice(&patch.bytes[in_patch]);
}

/// A reader of the image with `patch` applied.
pub struct PatchedReader<R> {
    inner: R,
    position: u64,
    patch: Patch,
}

impl<R: Read> PatchedReader<R> {
    /// `inner` reads the image from its first byte.
    pub fn new(inner: R, patch: Patch) -> Self {
        PatchedReader {
            inner,
            position: 0,
            patch,
        }
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Whether the whole patch has been read (an image that ends inside its
    /// boot partition cannot have been configured).
    pub fn patch_complete(&self) -> bool {
        self.position >= self.patch.offset + self.patch.bytes.len() as u64
    }
}

impl<R: Read> Read for PatchedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        apply_patch(&mut buf[..n], self.position, &self.patch);
        self.position += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn replaces_exactly_the_patched_range_across_reads() {
        let image = [0u8; 100];
        let patch = Patch {
            offset: 30,
            bytes: Arc::new(vec![9u8; 20]),
        };
        let mut reader = PatchedReader::new(&image[..], patch);
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert!(reader.patch_complete());
        let expected: Vec<u8> = (0..100)
            .map(|i| if (30..50).contains(&i) { 9 } else { 0 })
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_chunk_outside_the_patch_is_untouched() {
        let patch = Patch {
            offset: 10,
            bytes: Arc::new(vec![1u8; 5]),
        };
        let mut chunk = [0u8; 10];
        apply_patch(&mut chunk, 15, &patch);
        assert_eq!(chunk, [0u8; 10]);
        apply_patch(&mut chunk, 0, &patch);
        assert_eq!(chunk, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut chunk = [0u8; 10];
        apply_patch(&mut chunk, 8, &patch);
        assert_eq!(chunk, [0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
    }
}

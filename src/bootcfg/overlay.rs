//! Apply a [`Patch`] to the image's bytes as they stream: the configured
//! boot partition replaces the original one, every other byte passes as is.

use std::io::{self, Read};

use crate::patch::Patch;

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
        self.position >= self.patch.end()
    }
}

impl<R: Read> Read for PatchedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.patch.apply(self.position, &mut buf[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_exactly_the_patched_range_across_reads() {
        let image = [0u8; 100];
        let patch = Patch::diff(30, &[0u8; 20], &[9u8; 20]);
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
}

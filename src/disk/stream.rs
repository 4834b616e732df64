//! Positioned reads over a forward-only stream (a decompressing reader), for
//! reading partition tables and partitions without holding the image.
//!
//! Decompressors cannot seek, so every read must start at or after the end of
//! the previous one; bytes in between are read and dropped. A caller that
//! needs an earlier region opens a fresh stream.

use std::io::{self, Read};

use super::DiskError;

/// Bytes dropped per read while skipping forward.
const SKIP_BUFFER_LEN: usize = 1 << 20;

/// A stream with a known position that only reads forward.
pub(crate) struct ForwardReader<R> {
    inner: R,
    position: u64,
}

impl<R: Read> ForwardReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        ForwardReader { inner, position: 0 }
    }

    /// Byte offset of the next byte the stream will give.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// Fills `buf` with the image's bytes at `offset`, which must not be
    /// before [`ForwardReader::position`].
    pub(crate) fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        self.skip_to(offset)?;
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => {
                    return Err(DiskError::ImageTooShort {
                        offset: offset + buf.len() as u64,
                        image_len: self.position,
                    });
                }
                Ok(n) => {
                    filled += n;
                    self.position += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(DiskError::ReadImage {
                        offset: self.position,
                        cause: source,
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads up to `len` bytes at `offset` (fewer when the image ends first).
    pub(crate) fn read_up_to_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, DiskError> {
        self.skip_to(offset)?;
        let mut out = Vec::with_capacity(len);
        let read = (&mut self.inner)
            .take(len as u64)
            .read_to_end(&mut out)
            .map_err(|source| DiskError::ReadImage {
                offset: self.position,
                cause: source,
            })?;
        self.position += read as u64;
        Ok(out)
    }

    fn skip_to(&mut self, offset: u64) -> Result<(), DiskError> {
        if offset < self.position {
            // Callers order their reads; reaching this is a malformed layout
            // (a table pointing backwards), reported as such.
            return Err(DiskError::ReadImage {
                offset,
                cause: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "cannot go back to byte offset {offset} in a stream already at {}",
                        self.position
                    ),
                ),
            });
        }
        let mut scratch = vec![0u8; SKIP_BUFFER_LEN.min((offset - self.position) as usize)];
        while self.position < offset {
            let want = scratch.len().min((offset - self.position) as usize);
            match self.inner.read(&mut scratch[..want]) {
                Ok(0) => {
                    return Err(DiskError::ImageTooShort {
                        offset,
                        image_len: self.position,
                    });
                }
                Ok(n) => self.position += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(DiskError::ReadImage {
                        offset: self.position,
                        cause: source,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forward_and_refuses_to_go_back() {
        let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut reader = ForwardReader::new(&data[..]);
        let mut buf = [0u8; 4];
        reader.read_exact_at(10, &mut buf).unwrap();
        assert_eq!(buf, [10, 11, 12, 13]);
        reader.read_exact_at(3000, &mut buf).unwrap();
        assert_eq!(buf[0], (3000 % 256) as u8);
        assert!(reader.read_exact_at(100, &mut buf).is_err());
        assert!(matches!(
            reader.read_exact_at(4998, &mut buf),
            Err(DiskError::ImageTooShort { .. })
        ));
    }

    #[test]
    fn read_up_to_stops_at_the_end() {
        let data = [7u8; 100];
        let mut reader = ForwardReader::new(&data[..]);
        assert_eq!(reader.read_up_to_at(90, 50).unwrap().len(), 10);
    }
}

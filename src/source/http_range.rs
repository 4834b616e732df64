//! A file on a server read at any offset through range requests, so that
//! the readers of a file's tail (the xz index, the zip central directory)
//! work on a URL as on a file: they learn the decompressed size, or choose
//! the image in an archive, before the body streams.
//!
//! Reads fetch aligned blocks and keep the few last ones: those readers go
//! back and forth over a small region near the end, which then costs a
//! handful of requests, not one per read.

use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};

use super::http::{RangeError, Remote};

/// Bytes fetched per range request.
const BLOCK_BYTES: u64 = 64 << 10;
/// Blocks kept; the xz index or a zip central directory is usually one or two.
const BLOCKS_KEPT: usize = 16;

/// Reads the file `remote` of `len` bytes at any offset.
pub(super) struct RangeReader<'a> {
    remote: &'a Remote,
    len: u64,
    pos: u64,
    blocks: VecDeque<(u64, Vec<u8>)>,
}

impl<'a> RangeReader<'a> {
    pub(super) fn new(remote: &'a Remote, len: u64) -> Self {
        RangeReader {
            remote,
            len,
            pos: 0,
            blocks: VecDeque::new(),
        }
    }

    /// The block starting at `start`, fetched if not kept.
    fn block(&mut self, start: u64) -> io::Result<&[u8]> {
        if let Some(i) = self.blocks.iter().position(|(s, _)| *s == start) {
            return Ok(&self.blocks[i].1);
        }
        let end = (start + BLOCK_BYTES).min(self.len);
        let mut body = self
            .remote
            .get_range(start, Some(end))
            .map_err(|e| match e {
                RangeError::WholeFile => {
                    io::Error::other("the server sent the whole file when asked for a part of it")
                }
                RangeError::Mismatch(why) | RangeError::Failed(why) => io::Error::other(why),
            })?;
        let mut data = Vec::with_capacity((end - start) as usize);
        body.read_to_end(&mut data)?;
        if data.len() as u64 != end - start {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server sent a shorter part of the file than asked for",
            ));
        }
        if self.blocks.len() == BLOCKS_KEPT {
            self.blocks.pop_front();
        }
        self.blocks.push_back((start, data));
        Ok(&self.blocks.back().expect("just pushed").1)
    }
}

impl Read for RangeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let start = self.pos - self.pos % BLOCK_BYTES;
        let at = (self.pos - start) as usize;
        let block = self.block(start)?;
        let n = buf.len().min(block.len() - at);
        buf[..n].copy_from_slice(&block[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangeReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

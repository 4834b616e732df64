//! The cache file's reads and writes: zeros stay holes.

use std::fs::File;
use std::io;

use super::{Chunk, is_all_zero};
use crate::platform;

/// The cache-file block: all-zero blocks are left as holes.
const BLOCK: usize = 4096;

/// Writes the non-zero blocks of `chunk` at its offset in the cache file:
/// zeros stay holes.
pub(super) fn store(file: &File, chunk: &Chunk) -> io::Result<()> {
    let bytes = chunk.bytes();
    let mut at = 0;
    while at < bytes.len() {
        // A run of non-zero blocks, written at once.
        let start = at;
        while at < bytes.len() && !is_all_zero(&bytes[at..(at + BLOCK).min(bytes.len())]) {
            at = (at + BLOCK).min(bytes.len());
        }
        if at > start {
            platform::write_all_at(file, &bytes[start..at], chunk.offset + start as u64)?;
        }
        at = (at + BLOCK).min(bytes.len());
    }
    Ok(())
}

/// Reads `buf.len()` bytes at `offset`; bytes past the file's end (a
/// trailing hole) are zeros.
pub(super) fn read_filling_holes(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match platform::read_at(file, &mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf[filled..].fill(0);
    Ok(())
}

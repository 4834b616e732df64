//! What a drive holds, as a record keeps it: its used ranges (the same map
//! the run wrote and verified, docs/architecture.md §2 "Only used bytes")
//! cut into pieces of at most [`LEAF_BYTES`], a SHA-256 each — enough for
//! `verify-drive` to check the drive later without the image, and to name
//! the piece that changed. Both directions read the drive with O_DIRECT,
//! read-only.

use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hex::hex as to_hex;
use crate::map::Mapper;
use crate::target::{self, AlignedBuf, TargetFile};

/// The longest piece one hash covers: small enough that a changed byte is
/// placed within 16 MiB, large enough that a 32 GB image is ~2000 hashes.
pub(crate) const LEAF_BYTES: u64 = 16 << 20;
/// One read: 4 MiB, as the engine's chunks.
const READ_BYTES: usize = 4 << 20;

/// One piece of the used bytes and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeHash {
    pub start: u64,
    pub len: u64,
    pub sha256: String,
}

/// A drive open to be read back, and a buffer for it.
struct Reader {
    file: TargetFile,
    buf: AlignedBuf,
}

impl Reader {
    fn open(path: &Path) -> Result<Reader, String> {
        let info = target::inspect(path)?;
        let file = TargetFile::open_for_read(&info).map_err(|e| e.to_string())?;
        // Room for a read rounded up to any sector size.
        let buf = AlignedBuf::zeroed(READ_BYTES + 4096);
        Ok(Reader { file, buf })
    }

    fn read(&mut self, offset: u64, len: usize) -> Result<&[u8], String> {
        self.file
            .read_at(offset, &mut self.buf, len)
            .map_err(|e| e.to_string())?;
        Ok(&self.buf[..len])
    }
}

/// Reads the first `image_bytes` of the drive at `path` and hashes its used
/// ranges: those the map finds in the drive's own bytes (its tables and
/// filesystems are the image's) with `forced` (a configured boot
/// partition, a bmap's ranges), or every byte when `full`.
pub(crate) fn hash_drive(
    path: &Path,
    image_bytes: u64,
    forced: Vec<Range<u64>>,
    full: bool,
) -> Result<Vec<RangeHash>, String> {
    let mut reader = Reader::open(path)?;
    let mut mapper = (!full).then(|| Mapper::new(forced));
    let mut leaves = Leaves::default();
    let mut offset = 0;
    while offset < image_bytes {
        let len = (image_bytes - offset).min(READ_BYTES as u64) as usize;
        let bytes = reader.read(offset, len)?;
        let used = match mapper.as_mut() {
            Some(mapper) => mapper.used_in(offset, bytes),
            None => std::iter::once(offset..offset + len as u64).collect(),
        };
        for range in used {
            let at = (range.start - offset) as usize..(range.end - offset) as usize;
            leaves.add(range.start, &bytes[at]);
        }
        offset += len as u64;
    }
    Ok(leaves.finish())
}

/// The pieces of `ranges` whose bytes on the drive at `path` no longer hash
/// to what they say, in order; `Err` when the drive cannot be read.
pub(crate) fn changed_ranges(
    path: &Path,
    ranges: &[RangeHash],
    cancel: &AtomicBool,
) -> Result<Vec<RangeHash>, String> {
    let mut reader = Reader::open(path)?;
    let mut changed = Vec::new();
    for range in ranges {
        if cancel.load(Ordering::Relaxed) {
            return Err("interrupted; the drive was not changed".into());
        }
        let mut hasher = Sha256::new();
        let mut at = range.start;
        let end = range.start + range.len;
        while at < end {
            let len = (end - at).min(READ_BYTES as u64) as usize;
            hasher.update(reader.read(at, len)?);
            at += len as u64;
        }
        if to_hex(&hasher.finalize()) != range.sha256.to_ascii_lowercase() {
            changed.push(range.clone());
        }
    }
    Ok(changed)
}

/// Used bytes, given in order, cut into hashed pieces.
#[derive(Default)]
struct Leaves {
    done: Vec<RangeHash>,
    open: Option<(u64, u64, Sha256)>,
}

impl Leaves {
    fn add(&mut self, mut at: u64, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if let Some((start, len, _)) = &self.open
                && (start + len != at || *len == LEAF_BYTES)
            {
                self.close();
            }
            let (_, len, hasher) = self.open.get_or_insert_with(|| (at, 0, Sha256::new()));
            let take = ((LEAF_BYTES - *len) as usize).min(bytes.len());
            hasher.update(&bytes[..take]);
            *len += take as u64;
            at += take as u64;
            bytes = &bytes[take..];
        }
    }

    fn close(&mut self) {
        if let Some((start, len, hasher)) = self.open.take() {
            self.done.push(RangeHash {
                start,
                len,
                sha256: to_hex(&hasher.finalize()),
            });
        }
    }

    fn finish(mut self) -> Vec<RangeHash> {
        self.close();
        self.done
    }
}

#[cfg(test)]
#[path = "ranges_tests.rs"]
mod tests;

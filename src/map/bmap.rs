//! bmap files: bmaptool's XML block map of an image (formats 1.0 to 2.0),
//! which lists the image's mapped blocks, each range with a checksum.
//!
//! A bmap is a publisher's statement about the image, read from an
//! untrusted file: everything in it is checked (the file's own checksum,
//! numbers that fit together, ranges in order inside the image) and
//! anything wrong is a [`BmapError`] naming the file, never a panic.
//!
//! A bmap never makes Imprint write less than the map of used bytes:
//! made from an image's holes, it misses ext4's zeroed but allocated
//! metadata, so its ranges are added to the filesystems' map (their union,
//! docs/architecture.md §11). What it adds is a check: each range's checksum is
//! compared with the image's bytes as they stream past ([`BmapChecker`]),
//! and the image size is known up front.
//!
//! Formats: 1.0–1.2 carry no checksums; 1.3 carries SHA-1 (`BmapFileSHA1`,
//! a `sha1` attribute per range); 1.4 (a mistaken early name of 2.0) and
//! 2.x name theirs in `ChecksumType` (`BmapFileChecksum`, `chksum`). The
//! file's own checksum is taken over the file with that value replaced by
//! as many `0` characters, as bmaptool writes it.

use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A larger bmap is not one: bmaptool writes about 60 bytes per range, so
/// this holds a million ranges.
pub(crate) const MAX_BMAP_BYTES: u64 = 64 << 20;
/// The hash a bmap's checksums use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumType {
    Sha1,
    Sha256,
}

impl ChecksumType {
    /// Digest length in bytes.
    fn len(self) -> usize {
        match self {
            ChecksumType::Sha1 => 20,
            ChecksumType::Sha256 => 32,
        }
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        let mut hasher = RangeHasher::new(self);
        hasher.update(bytes);
        hasher.finish()
    }
}

/// One `<Range>`: blocks `first..=last`, and their checksum when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BmapRange {
    pub first: u64,
    pub last: u64,
    pub checksum: Option<Vec<u8>>,
}

/// A parsed, checked bmap file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bmap {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    /// `major.minor`, as the file says.
    pub version: String,
    /// The size of the image it describes, in bytes.
    pub image_size: u64,
    pub block_size: u64,
    /// `MappedBlocksCount`, as the file says (informational).
    pub mapped_blocks: u64,
    /// `None` in formats before 1.3, which carry no checksums.
    pub checksum_type: Option<ChecksumType>,
    /// Sorted, disjoint, inside the image.
    pub ranges: Vec<BmapRange>,
}

/// Why a bmap file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BmapError {
    #[error(
        "cannot read the bmap file {}: {source}; name another with --bmap FILE, or pass --no-bmap to flash without one",
        path.display()
    )]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "the bmap file {} is malformed: {detail}; download it again, or pass --no-bmap to flash without it",
        path.display()
    )]
    Malformed { path: PathBuf, detail: String },
    #[error(
        "{} beside the image is named like its bmap file but is {what}, not a file; it was not read (it could wait for ever); remove or rename it, name the bmap with --bmap FILE, or pass --no-bmap",
        path.display()
    )]
    NotAFile { path: PathBuf, what: &'static str },
}

/// Refuses `path` found beside the image unless it is a regular file
/// (through symlinks): a FIFO would block the open, a device would be read
/// as XML. Only its metadata is looked at; nothing is opened.
pub(crate) fn check_is_file(path: &Path) -> Result<(), BmapError> {
    use crate::platform::{NodeKind, node_kind};
    let Ok(meta) = std::fs::metadata(path) else {
        // Gone, or a dangling link: reading it names the problem.
        return Ok(());
    };
    let what = match node_kind(&meta) {
        NodeKind::File => return Ok(()),
        NodeKind::Dir => "a folder",
        NodeKind::Pipe => "a FIFO (named pipe)",
        NodeKind::Socket => "a socket",
        NodeKind::BlockDevice | NodeKind::CharDevice => "a device",
        NodeKind::Other => "not a regular file",
    };
    Err(BmapError::NotAFile {
        path: path.to_path_buf(),
        what,
    })
}

/// A bmap range or the image's length disagrees with the image: the image
/// or its bmap is damaged (or they do not belong together).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BmapMismatch {
    #[error(
        "bmap range {first}-{last} (bytes {start} to {end}) does not match the image: the image or its .bmap {} is damaged; download both again",
        path.display()
    )]
    Range {
        path: PathBuf,
        first: u64,
        last: u64,
        start: u64,
        end: u64,
    },
    #[error(
        "the image is {actual} bytes long but its .bmap {} describes {expected} bytes: the .bmap belongs to another image; use the one published with it, or pass --no-bmap",
        path.display()
    )]
    Size {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
}

impl Bmap {
    /// Reads and checks the bmap file at `path`.
    pub fn load(path: &Path) -> Result<Bmap, BmapError> {
        let read_error = |source| BmapError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = crate::platform::open_as_user(path, crate::platform::UserOpen::Read)
            .map_err(read_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_BMAP_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_BMAP_BYTES {
            return Err(malformed(
                path,
                format!("it is larger than {MAX_BMAP_BYTES} bytes"),
            ));
        }
        Bmap::parse(path, &bytes)
    }

    /// Parses and checks the bytes of a bmap file read from `path`.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Bmap, BmapError> {
        Bmap::parse_with(path, bytes, OwnChecksum::Check)
    }

    /// The image bytes of `range`: its blocks, the last one cut at the
    /// image's end.
    pub fn bytes_of(&self, range: &BmapRange) -> Range<u64> {
        let start = range.first.saturating_mul(self.block_size);
        let end = (range.last.saturating_add(1))
            .saturating_mul(self.block_size)
            .min(self.image_size);
        start..end
    }

    /// The image bytes of every range, in order.
    pub fn byte_ranges(&self) -> Vec<Range<u64>> {
        self.ranges.iter().map(|r| self.bytes_of(r)).collect()
    }
}

/// Whether [`Bmap::parse_with`] checks the file's own checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnChecksum {
    Check,
    /// Only for fuzzing.
    Skip,
}

fn malformed(path: &Path, detail: String) -> BmapError {
    BmapError::Malformed {
        path: path.to_path_buf(),
        detail,
    }
}

#[path = "bmap_beside.rs"]
mod beside;
#[path = "bmap_check.rs"]
mod check;
#[path = "bmap_parse.rs"]
mod parse;

pub(crate) use beside::beside;
pub(crate) use check::BmapChecker;
use check::{RangeHasher, check_file_checksum};
use parse::{child_text, parse_hex};

#[cfg(test)]
#[path = "bmap_tests.rs"]
mod tests;

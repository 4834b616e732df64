//! Telling an incomplete download from a damaged file before anything is
//! erased. Two formats say where they end: an .xz file ends with a 12-byte
//! stream footer whose last two bytes are "YZ" (then only NUL padding), and
//! a zip archive ends with its central directory, found through the
//! end-of-central-directory record ("PK\x05\x06") within the last 64 KiB
//! and 22 bytes. A file cut short by a failed or unfinished download lacks
//! them, whatever its first bytes say. The decoder would only find out at
//! the end of the data, after the drives were erased.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::source::ImageFormat;

/// The end-of-central-directory record's signature.
const ZIP_END_MAGIC: &[u8] = b"PK\x05\x06";
/// The record (22 bytes) and the longest archive comment after it.
const ZIP_END_SPAN_BYTES: u64 = 22 + 0xFFFF;
/// An .xz stream footer ends with these two bytes.
const XZ_FOOTER_MAGIC: &[u8] = b"YZ";
/// How much NUL stream padding is stepped over before giving up.
const XZ_MAX_PADDING_BYTES: u64 = 64 << 10;

/// Whether the local file at `path`, in `format`, lacks the end its format
/// must have: cut short, so "download it again" is the whole advice.
/// `false` when the format records no end, or the file cannot be read (the
/// reader then reports what is wrong).
pub(super) fn is_cut_short(path: &Path, format: ImageFormat) -> bool {
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return false;
    };
    let span = match format {
        ImageFormat::Xz => XZ_MAX_PADDING_BYTES + 12,
        ImageFormat::Zip => ZIP_END_SPAN_BYTES,
        _ => return false,
    };
    let start = len.saturating_sub(span);
    let mut tail = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut tail).is_err() {
        return false;
    }
    match format {
        ImageFormat::Xz => !xz_has_footer(&tail),
        _ => !tail
            .windows(ZIP_END_MAGIC.len())
            .any(|w| w == ZIP_END_MAGIC),
    }
}

/// Whether `tail` (the end of an .xz file) ends with a footer, after the
/// stream padding (NUL bytes in multiples of four) the format allows.
fn xz_has_footer(tail: &[u8]) -> bool {
    let mut end = tail.len();
    while end >= 4 && tail[end - 4..end] == [0; 4] {
        end -= 4;
    }
    end >= 12 && &tail[end - 2..end] == XZ_FOOTER_MAGIC
}

#[cfg(test)]
#[path = "incomplete_tests.rs"]
mod tests;

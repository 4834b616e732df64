//! A lower bound of a gzip image's decompressed size, from its trailer.
//!
//! gzip records no size up front; each member ends with ISIZE, its
//! decompressed length modulo 4 GiB. The last member's ISIZE is never more
//! than the whole image (docs/architecture.md §11): later members only add, and the
//! modulo only takes away. So a drive smaller than it can be refused before
//! it is erased. But a truncated download ends in compressed bytes, not a
//! trailer, and those read as a random ISIZE; the bound is therefore used
//! only when it is consistent with the file's length ([`plausible`]): never
//! below what the compressed bytes must decompress to, never above what a
//! disk image plausibly compresses from.

use std::io::{Read, Seek, SeekFrom};

/// The smallest gzip member: a 10-byte header, an empty deflate block,
/// an 8-byte trailer.
const MIN_MEMBER_BYTES: u64 = 20;
/// Data that does not compress grows by at most 5 bytes per 65535 in
/// stored blocks, but by up to 1/8 when a fast encoder codes it as
/// literals (9 bits a byte): it is never smaller decompressed than 7/8 of
/// its compressed size, less the header (which may carry a file name).
const EXPANSION_DIVISOR: u64 = 8;
const HEADER_ALLOWANCE_BYTES: u64 = 4096;
/// deflate's best: 258 bytes from one length code of about 2 bits, so
/// about 1032 to 1. An ISIZE above this many times the file is impossible,
/// so it is the random bytes of a truncated file.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// ISIZE of the last member of the gzip file `file` of `len` bytes, when it
/// is plausible for a file of that length.
pub(super) fn lower_bound<R: Read + Seek>(file: &mut R, len: u64) -> Option<u64> {
    if len < MIN_MEMBER_BYTES {
        return None;
    }
    let mut isize = [0u8; 4];
    file.seek(SeekFrom::Start(len - 4)).ok()?;
    file.read_exact(&mut isize).ok()?;
    let isize = u64::from(u32::from_le_bytes(isize));
    plausible(isize, len).then_some(isize)
}

/// Whether `isize` can be the decompressed length of a single member of
/// `len` compressed bytes within deflate's limits. Images over 4 GiB or of several members may
/// fail this (then there is no bound) but never pass it with a bound
/// larger than the image.
fn plausible(isize: u64, len: u64) -> bool {
    let smallest = len
        .saturating_sub(len / EXPANSION_DIVISOR)
        .saturating_sub(HEADER_ALLOWANCE_BYTES);
    isize >= smallest && isize <= len.saturating_mul(MAX_DEFLATE_RATIO)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn bound(file: &[u8]) -> Option<u64> {
        lower_bound(&mut Cursor::new(file), file.len() as u64)
    }

    #[test]
    fn a_whole_file_gives_its_size() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 / 5) as u8).collect();
        assert_eq!(bound(&gzip(&data)), Some(3_000_000));
    }

    #[test]
    fn incompressible_data_still_counts() {
        let data = crate::test_random::low_bytes(1_000_000, 0x2545_F491_4F6C_DD1D);
        assert_eq!(bound(&gzip(&data)), Some(1_000_000));
    }

    #[test]
    fn several_members_give_at_most_the_whole() {
        // ISIZE is the last member's: a lower bound of the whole when it
        // is plausible for the file's length (pinned: "no bound" would
        // pass a broken reader too)…
        let mut file = gzip(&vec![1u8; 2_000_000]);
        file.extend(gzip(&vec![2u8; 1_000_000]));
        assert_eq!(bound(&file), Some(1_000_000));
        // …and none when it is too small to be the whole file's.
        let mut file = gzip(&vec![1u8; 2_000_000]);
        file.extend(gzip(&[2u8; 1000]));
        assert_eq!(bound(&file), None);
    }

    #[test]
    fn implausible_sizes_are_not_bounds() {
        assert!(!plausible(10, 1_000_000));
        assert!(!plausible(1_033_000_000, 1_000_000));
        assert!(plausible(1_000_000, 1_000_000));
        assert!(plausible(1_000_000_000, 1_000_000));
        assert!(bound(&[0x1f, 0x8b, 8, 0]).is_none());
    }
}

//! The decompressed size of an .xz file, read from its indexes without
//! decompressing anything.
//!
//! Every .xz stream ends with an index (the compressed and uncompressed size
//! of each block) and a 12-byte footer that gives the index size. Walking
//! from the end of the file, footer → index → start of stream, finds every
//! concatenated stream; the image size is the sum of their uncompressed
//! sizes. Anything unexpected yields `None`: this is only a hint, and the
//! decoder reports real damage when the data is read.

use std::io::{self, Read, Seek, SeekFrom};

const HEADER_MAGIC: &[u8] = &[0xFD, b'7', b'z', b'X', b'Z', 0x00];
const FOOTER_MAGIC: &[u8] = b"YZ";
const HEADER_LEN_BYTES: u64 = 12;
const FOOTER_LEN_BYTES: u64 = 12;
/// The index lists ~2–20 bytes per block; even a 1 TiB image in 1 MiB blocks
/// stays far below this. Bigger claims come from damaged footers.
const MAX_INDEX_LEN_BYTES: u64 = 64 << 20;

/// The sum of the uncompressed sizes of every stream in the .xz file `file`
/// of `file_len_bytes` bytes, or `None` if the indexes cannot be read.
pub(crate) fn uncompressed_size<R: Read + Seek>(file: &mut R, file_len_bytes: u64) -> Option<u64> {
    let mut end = file_len_bytes;
    let mut total_bytes = 0u64;
    while end > 0 {
        end = skip_stream_padding(file, end).ok()?;
        if end == 0 {
            break;
        }
        let stream = read_stream_sizes(file, end)?;
        total_bytes = total_bytes.checked_add(stream.uncompressed_bytes)?;
        end = stream.start_offset;
    }
    Some(total_bytes)
}

/// What the index of one stream says.
#[derive(Debug, PartialEq, Eq)]
struct StreamSizes {
    start_offset: u64,
    uncompressed_bytes: u64,
}

/// Steps back over NUL padding in four-byte words before offset `end`.
fn skip_stream_padding<R: Read + Seek>(file: &mut R, mut end: u64) -> io::Result<u64> {
    let mut word = [0u8; 4];
    while end >= 4 {
        read_at(file, end - 4, &mut word)?;
        if word != [0; 4] {
            break;
        }
        end -= 4;
    }
    Ok(end)
}

/// Reads the footer ending at `end` and the index before it.
fn read_stream_sizes<R: Read + Seek>(file: &mut R, end: u64) -> Option<StreamSizes> {
    let footer_offset = end.checked_sub(FOOTER_LEN_BYTES)?;
    let mut footer = [0u8; FOOTER_LEN_BYTES as usize];
    read_at(file, footer_offset, &mut footer).ok()?;
    if &footer[10..] != FOOTER_MAGIC || crc32(&footer[4..10]) != le_u32(&footer[..4]) {
        return None;
    }
    let index_len = (u64::from(le_u32(&footer[4..8])) + 1) * 4;
    if index_len > MAX_INDEX_LEN_BYTES {
        return None;
    }
    let index_offset = footer_offset.checked_sub(index_len)?;
    let mut index = vec![0u8; usize::try_from(index_len).ok()?];
    read_at(file, index_offset, &mut index).ok()?;
    let blocks = parse_index(&index)?;

    let stream_start = index_offset
        .checked_sub(blocks.padded_blocks_bytes)?
        .checked_sub(HEADER_LEN_BYTES)?;
    let mut magic = [0u8; HEADER_MAGIC.len()];
    read_at(file, stream_start, &mut magic).ok()?;
    (magic == HEADER_MAGIC).then_some(StreamSizes {
        start_offset: stream_start,
        uncompressed_bytes: blocks.uncompressed_bytes,
    })
}

/// Totals over the records of one index.
#[derive(Debug, PartialEq, Eq)]
struct IndexTotals {
    /// Compressed size of the blocks, each padded to four bytes as stored.
    padded_blocks_bytes: u64,
    uncompressed_bytes: u64,
}

/// Parses an index: indicator 0x00, record count, (unpadded size,
/// uncompressed size) per block, padding to four bytes, CRC32.
fn parse_index(index: &[u8]) -> Option<IndexTotals> {
    let (body, crc) = index.split_at_checked(index.len().checked_sub(4)?)?;
    if crc32(body) != le_u32(crc) || body.first() != Some(&0) {
        return None;
    }
    let mut pos = 1;
    let record_count = read_vli(body, &mut pos)?;
    let mut totals = IndexTotals {
        padded_blocks_bytes: 0,
        uncompressed_bytes: 0,
    };
    for _ in 0..record_count {
        let unpadded = read_vli(body, &mut pos)?;
        let uncompressed = read_vli(body, &mut pos)?;
        totals.padded_blocks_bytes = totals
            .padded_blocks_bytes
            .checked_add(unpadded.checked_add(3)? & !3)?;
        totals.uncompressed_bytes = totals.uncompressed_bytes.checked_add(uncompressed)?;
    }
    let padding = body.get(pos..)?;
    (padding.len() < 4 && padding.iter().all(|&b| b == 0) && (pos + padding.len()) % 4 == 0)
        .then_some(totals)
}

/// Reads one xz variable-length integer (7 bits per byte, at most 9 bytes).
fn read_vli(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..63).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn read_at<R: Read + Seek>(file: &mut R, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(word)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use liblzma::write::XzEncoder;
    use std::io::{Cursor, Write};

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut encoder = XzEncoder::new(Vec::new(), 0);
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn size_of(file: &[u8]) -> Option<u64> {
        uncompressed_size(&mut Cursor::new(file), file.len() as u64)
    }

    #[test]
    fn one_stream() {
        assert_eq!(size_of(&xz(&[7u8; 100_000])), Some(100_000));
        assert_eq!(size_of(&xz(b"")), Some(0));
    }

    #[test]
    fn sums_concatenated_streams_and_skips_padding() {
        let mut file = xz(&[1u8; 4096]);
        file.extend_from_slice(&[0; 12]);
        file.extend(xz(&[2u8; 1000]));
        file.extend_from_slice(&[0; 4]);
        assert_eq!(size_of(&file), Some(5096));
    }

    #[test]
    fn damaged_or_truncated_files_give_no_hint() {
        let file = xz(&[3u8; 50_000]);
        assert_eq!(size_of(&file[..file.len() - 1]), None);
        let mut flipped = file.clone();
        let index_byte = flipped.len() - 14;
        flipped[index_byte] ^= 0x40;
        assert_eq!(size_of(&flipped), None);
        assert_eq!(size_of(b"not xz at all, just some bytes"), None);
    }

    #[test]
    fn vli_decoding() {
        let mut pos = 0;
        assert_eq!(read_vli(&[0x7F], &mut pos), Some(127));
        pos = 0;
        assert_eq!(read_vli(&[0x80, 0x01], &mut pos), Some(128));
        assert_eq!(pos, 2);
        pos = 0;
        assert_eq!(read_vli(&[0xFF; 10], &mut pos), None);
        pos = 0;
        assert_eq!(read_vli(&[0x80], &mut pos), None);
    }
}

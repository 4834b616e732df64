//! The decompressed size of a .zst file, from its frame headers.
//!
//! A zstd file is a sequence of frames (zstd(1) writes one, pzstd and
//! streaming writers several, plus skippable frames). Each frame header may
//! state its content size; the image size is their sum. Finding the next
//! frame means stepping over the frame's block headers (3 bytes per block of
//! at most 128 KiB), which costs one small read per block and no
//! decompression. A frame without a content size makes the hint `None`.

use std::io::{self, Read, Seek, SeekFrom};

const FRAME_MAGIC: u32 = 0xFD2F_B528;
const SKIPPABLE_MAGIC_MASK: u32 = 0xFFFF_FFF0;
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;
const BLOCK_HEADER_LEN_BYTES: u64 = 3;
const CHECKSUM_LEN_BYTES: u64 = 4;

/// The sum of the content sizes of every frame in `file` of
/// `file_len_bytes` bytes, or `None` when a frame does not state it or the
/// file is not well-formed.
pub(crate) fn content_size<R: Read + Seek>(file: &mut R, file_len_bytes: u64) -> Option<u64> {
    let mut offset = 0u64;
    let mut total_bytes = 0u64;
    while offset < file_len_bytes {
        let frame = read_frame(file, offset).ok()??;
        total_bytes = total_bytes.checked_add(frame.content_bytes)?;
        offset = frame.end_offset;
    }
    (offset == file_len_bytes).then_some(total_bytes)
}

struct Frame {
    end_offset: u64,
    content_bytes: u64,
}

/// Reads the frame starting at `offset`; `Ok(None)` when its content size is
/// unknown or the header is invalid.
fn read_frame<R: Read + Seek>(file: &mut R, offset: u64) -> io::Result<Option<Frame>> {
    file.seek(SeekFrom::Start(offset))?;
    let magic = read_le(file, 4)? as u32;
    if magic & SKIPPABLE_MAGIC_MASK == SKIPPABLE_MAGIC {
        let skipped_len = read_le(file, 4)?;
        return Ok(Some(Frame {
            end_offset: offset + 8 + skipped_len,
            content_bytes: 0,
        }));
    }
    if magic != FRAME_MAGIC {
        return Ok(None);
    }
    let descriptor = read_le(file, 1)? as u8;
    let content_size_flag = descriptor >> 6;
    let single_segment = descriptor & 0x20 != 0;
    let has_checksum = descriptor & 0x04 != 0;
    if descriptor & 0x08 != 0 {
        return Ok(None); // reserved bit: not a frame we understand
    }
    let window_len = if single_segment { 0 } else { 1 };
    let dict_id_len = [0, 1, 2, 4][usize::from(descriptor & 0x03)];
    let content_size_len = match (content_size_flag, single_segment) {
        (0, false) => return Ok(None), // size not recorded
        (0, true) => 1,
        (1, _) => 2,
        (2, _) => 4,
        _ => 8,
    };
    file.seek(SeekFrom::Current(window_len + dict_id_len))?;
    let mut content_bytes = read_le(file, content_size_len)?;
    if content_size_len == 2 {
        // The two-byte field is stored minus 256.
        content_bytes += 256;
    }

    let mut block_offset = offset + 4 + 1 + (window_len + dict_id_len) as u64 + content_size_len;
    loop {
        file.seek(SeekFrom::Start(block_offset))?;
        let header = read_le(file, BLOCK_HEADER_LEN_BYTES)?;
        let is_last = header & 1 != 0;
        let block_len = header >> 3;
        let stored_len = match (header >> 1) & 0x03 {
            0 | 2 => block_len, // raw or compressed: the bytes follow
            1 => 1,             // RLE: one byte repeated
            _ => return Ok(None),
        };
        block_offset += BLOCK_HEADER_LEN_BYTES + stored_len;
        if is_last {
            break;
        }
    }
    if has_checksum {
        block_offset += CHECKSUM_LEN_BYTES;
    }
    Ok(Some(Frame {
        end_offset: block_offset,
        content_bytes,
    }))
}

/// Reads a little-endian unsigned integer of `len_bytes` (at most 8) bytes.
fn read_le<R: Read>(file: &mut R, len_bytes: u64) -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    let len = usize::try_from(len_bytes.min(8)).unwrap_or(8);
    file.read_exact(&mut bytes[..len])?;
    Ok(u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn size_of(file: &[u8]) -> Option<u64> {
        content_size(&mut Cursor::new(file), file.len() as u64)
    }

    fn pseudo_random(len: usize) -> Vec<u8> {
        crate::test_random::low_bytes(len, 0x9E37_79B9_7F4A_7C15)
    }

    #[test]
    fn one_frame_of_many_blocks() {
        let data = pseudo_random(600_000);
        let file = zstd::bulk::compress(&data[..], 3).unwrap();
        assert_eq!(size_of(&file), Some(600_000));
    }

    #[test]
    fn sums_frames_and_skips_skippable_frames() {
        let mut file = vec![0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3];
        file.extend(zstd::bulk::compress(&[0u8; 70_000][..], 1).unwrap());
        file.extend(zstd::bulk::compress(&b"tail"[..], 19).unwrap());
        assert_eq!(size_of(&file), Some(70_004));
    }

    #[test]
    fn frames_without_content_size_give_no_hint() {
        // The streaming encoder does not know the size in advance.
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        std::io::Write::write_all(&mut encoder, &[5u8; 1000]).unwrap();
        let file = encoder.finish().unwrap();
        assert_eq!(size_of(&file), None);
    }

    #[test]
    fn truncated_file_gives_no_hint() {
        let file = zstd::bulk::compress(&pseudo_random(300_000)[..], 3).unwrap();
        assert_eq!(size_of(&file[..file.len() - 10]), None);
    }
}

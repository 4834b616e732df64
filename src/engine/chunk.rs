//! Chunks of the decompressed image, shared by every consumer through an
//! `Arc` (the spool bounds how many are in memory), the bytes a target
//! writes of one (its patch applied), and their digests.

use std::ops::Range;
use std::sync::Arc;

use crossbeam_channel::Sender;

use super::TargetFailure;
use crate::patch::Patch;
use crate::target::AlignedBuf;

/// Bytes per chunk: large enough that per-chunk costs (channel hops, system
/// calls, events) vanish, small enough that a spool of them stays cheap.
pub(crate) const CHUNK_BYTES: usize = 4 << 20;

/// A piece of the image at `offset`. When the last holder drops it, its
/// buffer goes back to `home` (the spool's few spare buffers) if there is
/// room there, so that the reader rarely allocates.
pub(crate) struct Chunk {
    pub offset: u64,
    pub len: usize,
    /// The ranges of this chunk to write and verify (image offsets, sorted,
    /// [`crate::map::ALIGN`]ed but for the image's end): all of it with
    /// `--full`, else what the map of used bytes says (`crate::map`).
    pub used: Vec<Range<u64>>,
    buf: Option<AlignedBuf>,
    home: Option<Sender<AlignedBuf>>,
}

impl Chunk {
    pub(crate) fn new(
        offset: u64,
        len: usize,
        buf: AlignedBuf,
        home: Option<Sender<AlignedBuf>>,
    ) -> Chunk {
        Chunk {
            offset,
            len,
            used: std::iter::once(offset..offset + len as u64).collect(),
            buf: Some(buf),
            home,
        }
    }

    /// The image bytes of this chunk.
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.buf {
            Some(buf) => &buf[..self.len],
            None => &[],
        }
    }

    /// The image bytes of `range`, which lies within this chunk.
    pub(crate) fn bytes_of(&self, range: &Range<u64>) -> &[u8] {
        let from = (range.start - self.offset) as usize;
        let to = (range.end - self.offset) as usize;
        &self.bytes()[from..to]
    }
}

/// The parts of `whole` outside `used` (sorted ranges within it).
pub(super) fn unused(whole: Range<u64>, used: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut free = Vec::new();
    let mut cursor = whole.start;
    for r in used {
        if r.start > cursor {
            free.push(cursor..r.start);
        }
        cursor = cursor.max(r.end);
    }
    if cursor < whole.end {
        free.push(cursor..whole.end);
    }
    free
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let (Some(buf), Some(home)) = (self.buf.take(), &self.home) {
            // A full home, or one gone with its run: the buffer is freed.
            let _ = home.try_send(buf);
        }
    }
}

/// The bytes a target writes for a chunk: the shared chunk itself, or,
/// where the target's patch changes it, a private copy with the patch
/// applied (the shared chunk keeps the image's own bytes for the others).
pub(super) struct Payload {
    pub offset: u64,
    pub len: usize,
    data: PayloadData,
}

enum PayloadData {
    Shared(Arc<Chunk>),
    Own(AlignedBuf),
}

impl Payload {
    /// What a target with `patch` writes of `chunk`.
    pub(super) fn for_target(chunk: &Arc<Chunk>, patch: Option<&Patch>) -> Payload {
        let (offset, len) = (chunk.offset, chunk.len);
        let data = match patch {
            Some(patch) if patch.touches(&(offset..offset + len as u64)) => {
                let mut own = AlignedBuf::zeroed(len);
                own.copy_from_slice(chunk.bytes());
                patch.apply(offset, &mut own);
                PayloadData::Own(own)
            }
            _ => PayloadData::Shared(chunk.clone()),
        };
        Payload { offset, len, data }
    }

    pub(super) fn bytes(&self) -> &[u8] {
        match &self.data {
            PayloadData::Shared(chunk) => chunk.bytes(),
            PayloadData::Own(buf) => &buf[..self.len],
        }
    }

    /// The bytes of `range`, which lies within this chunk.
    pub(super) fn bytes_of(&self, range: &Range<u64>) -> &[u8] {
        let from = (range.start - self.offset) as usize;
        let to = (range.end - self.offset) as usize;
        &self.bytes()[from..to]
    }
}

/// What a consumer of the image gets next from the spool.
pub(crate) enum Message {
    Chunk(Arc<Chunk>),
    /// The image ended cleanly after `image_bytes` bytes.
    End {
        image_bytes: u64,
    },
    /// The image could not be read to its end (or the run was cancelled).
    Failed(TargetFailure),
}

/// XXH3-128 of one used range, or the fact that it is all zeros (most of a
/// disk image is): checking a read-back range for zeros is far cheaper than
/// hashing it.
///
/// Verification guards against drives that lose, shift or invent bytes, not
/// against an adversary forging a collision, so a 128-bit non-cryptographic
/// hash is enough; XXH3 runs about ten times faster than SHA-256 (and than
/// single-threaded BLAKE3) on the machines measured, which matters because
/// every used byte is hashed once and every target's read-back once more
/// (docs/architecture.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChunkDigest {
    Zero,
    Xxh3(u128),
}

/// Whether every byte of `bytes` is zero, a machine word at a time.
// The one unsafe of the engine: viewing bytes as words is sound for any
// bytes, and is what makes zero detection fast on the hot path.
#[allow(unsafe_code)]
pub(super) fn is_all_zero(bytes: &[u8]) -> bool {
    let (head, words, tail) = {
        // SAFETY: any byte pattern is a valid u64.
        unsafe { bytes.align_to::<u64>() }
    };
    head.iter().all(|&b| b == 0)
        && words
            .chunks(8)
            .all(|w| w.iter().fold(0, |acc, &x| acc | x) == 0)
        && tail.iter().all(|&b| b == 0)
}

/// The digest of a chunk's bytes.
pub(super) fn digest_of(bytes: &[u8]) -> ChunkDigest {
    if is_all_zero(bytes) {
        ChunkDigest::Zero
    } else {
        ChunkDigest::Xxh3(xxhash_rust::xxh3::xxh3_128(bytes))
    }
}

/// Whether `bytes` have the digest `expected`.
pub(super) fn digest_matches(expected: &ChunkDigest, bytes: &[u8]) -> bool {
    match expected {
        ChunkDigest::Zero => is_all_zero(bytes),
        ChunkDigest::Xxh3(hash) => xxhash_rust::xxh3::xxh3_128(bytes) == *hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_detection_sees_a_single_set_bit_anywhere() {
        let mut bytes = vec![0u8; 4096 + 3];
        assert!(is_all_zero(&bytes));
        assert!(is_all_zero(&bytes[1..]));
        for at in [0, 1, 7, 8, 100, 4095, 4096, 4098] {
            bytes[at] = 0x10;
            assert!(!is_all_zero(&bytes), "byte {at}");
            assert!(!is_all_zero(&bytes[1.min(at)..]), "byte {at}, unaligned");
            bytes[at] = 0;
        }
    }

    #[test]
    fn the_verification_digest_sees_one_flipped_bit_anywhere() {
        let bytes: Vec<u8> = (0..CHUNK_BYTES).map(|i| (i * 7 + i / 4093) as u8).collect();
        let digest = digest_of(&bytes);
        assert!(matches!(digest, ChunkDigest::Xxh3(_)));
        assert!(digest_matches(&digest, &bytes));
        let mut changed = bytes.clone();
        for at in [0, 1, 4095, CHUNK_BYTES / 2, CHUNK_BYTES - 1] {
            changed[at] ^= 0x04;
            assert!(!digest_matches(&digest, &changed), "byte {at}");
            changed[at] ^= 0x04;
        }
        // Shifted by one byte (a drive that drops a byte): different too.
        assert!(!digest_matches(&digest, &[&bytes[1..], &[0][..]].concat()));
        // A range of zeros is told by its bytes, not by a hash.
        assert_eq!(digest_of(&[0; 4096]), ChunkDigest::Zero);
        assert!(!digest_matches(&ChunkDigest::Zero, &changed[..4096]));
    }

    #[test]
    fn a_chunk_returns_its_buffer_home_when_there_is_room() {
        let (home, spare) = crossbeam_channel::bounded(1);
        drop(Chunk::new(
            0,
            10,
            AlignedBuf::zeroed(4096),
            Some(home.clone()),
        ));
        drop(Chunk::new(0, 10, AlignedBuf::zeroed(4096), Some(home)));
        assert_eq!(spare.len(), 1, "the second is freed, not queued");
        assert_eq!(spare.recv().unwrap().len(), 4096);
    }
}

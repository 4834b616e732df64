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

/// SHA-256 of one chunk, or the fact that it is all zeros (most of a disk
/// image is): checking a read-back chunk for zeros is far cheaper than
/// hashing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChunkDigest {
    Zero,
    Sha256([u8; 32]),
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
    use sha2::Digest;
    if is_all_zero(bytes) {
        ChunkDigest::Zero
    } else {
        ChunkDigest::Sha256(sha2::Sha256::digest(bytes).into())
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

//! Where a stream must end: a stream of unknown length (a pipe, a download
//! without a length, a compressed image that records none) is complete only
//! when it reaches the end its own partition tables imply — the end of its
//! last partition, or of its GPT's backup header. A shorter one was cut
//! short, and whatever was written or hashed from it is not the image
//! (docs/architecture.md §2).

use std::io::Read;

use super::partitions::TABLE_PREFIX_LEN;
use super::tables::read_tables;

/// A stream that ended before the end its tables imply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the image ended at byte {ended_at}, before byte {implied_end} where its partition table says it ends (the end of its last partition or of its GPT): the stream was cut short (a broken pipe or download); get the whole image and try again"
)]
pub(crate) struct CutShort {
    pub ended_at: u64,
    pub implied_end: u64,
}

/// The end the tables at the start of `image` (read from its first byte)
/// imply, when they say one.
pub(crate) fn implied_end_of(image: impl Read) -> Option<u64> {
    let mut prefix = Vec::with_capacity(TABLE_PREFIX_LEN);
    image
        .take(TABLE_PREFIX_LEN as u64)
        .read_to_end(&mut prefix)
        .ok()?;
    let mut end = StreamEnd::default();
    end.feed(0, &prefix);
    end.implied_end()
}

/// Keeps the first bytes of a stream to learn where it must end.
#[derive(Debug, Default)]
pub(crate) struct StreamEnd {
    prefix: Vec<u8>,
}

impl StreamEnd {
    /// Takes the stream's next `bytes`, which start at `offset`.
    pub(crate) fn feed(&mut self, offset: u64, bytes: &[u8]) {
        let have = self.prefix.len();
        if offset != have as u64 || have >= TABLE_PREFIX_LEN {
            return;
        }
        let take = bytes.len().min(TABLE_PREFIX_LEN - have);
        self.prefix.extend_from_slice(&bytes[..take]);
    }

    /// The end the stream's tables imply, when they say one.
    pub(crate) fn implied_end(&self) -> Option<u64> {
        read_tables(&self.prefix)
            .ok()
            .map(|tables| tables.implied_end)
            .filter(|end| *end > 0)
    }

    /// Checks a stream that ended at `ended_at`.
    pub(crate) fn check(&self, ended_at: u64) -> Result<(), CutShort> {
        match self.implied_end() {
            Some(implied_end) if ended_at < implied_end => Err(CutShort {
                ended_at,
                implied_end,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_ending_before_its_last_partition_is_cut_short() {
        let mut image = vec![0u8; 3 << 20];
        image[446 + 4] = 0x83;
        image[446 + 8..446 + 12].copy_from_slice(&2048u32.to_le_bytes());
        image[446 + 12..446 + 16].copy_from_slice(&4096u32.to_le_bytes());
        image[510] = 0x55;
        image[511] = 0xAA;
        let mut end = StreamEnd::default();
        for (i, piece) in image.chunks(100_000).enumerate() {
            end.feed(i as u64 * 100_000, piece);
        }
        assert_eq!(end.implied_end(), Some(3 << 20));
        assert_eq!(end.check(3 << 20), Ok(()));
        let cut = end.check(1 << 20).unwrap_err();
        assert!(
            cut.to_string()
                .contains("ended at byte 1048576, before byte 3145728")
        );
        // No table: nothing to say.
        assert_eq!(StreamEnd::default().check(5), Ok(()));
    }
}

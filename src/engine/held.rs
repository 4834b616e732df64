//! The bytes a block-device target gets last: the image's first MiB (its
//! partition tables) and the block holding a GPT's backup header. They are
//! written and verified only once every other byte is, so a card whose run
//! failed or was cancelled has no partition table and cannot be mistaken
//! for a good one (docs/architecture.md §11 "The first MiB last").
//!
//! The reader splits used ranges at these zones' edges, so that each range
//! — and its digest — lies wholly inside or wholly outside them; the writer
//! finds the same zones from the same first chunk.

use std::ops::Range;

/// The start of the disk a target gets last, and the end cleared first.
pub(crate) const FIRST_MIB: u64 = 1 << 20;

/// The size of the block a GPT's backup header is held back in: the
/// largest logical sector in use, so the header's sector is inside it.
const HEADER_BLOCK: u64 = 4096;

/// Where the bytes held back lie in one image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct HeldZones {
    /// The block holding the GPT's backup header, when the image's primary
    /// header names one beyond the first MiB.
    backup_header: Option<Range<u64>>,
}

impl HeldZones {
    /// The zones of an image whose first bytes (its first chunk) are
    /// `first`. A primary GPT header is looked for at LBA 1 of 512- and
    /// 4096-byte sectors; its `AlternateLBA` places the backup header.
    pub(super) fn from_first_chunk(first: &[u8]) -> HeldZones {
        let backup_header = [512u64, 4096].into_iter().find_map(|sector| {
            let header = first.get(sector as usize..sector as usize + 40)?;
            if &header[..8] != b"EFI PART" {
                return None;
            }
            let alternate = u64::from_le_bytes(header[32..40].try_into().ok()?);
            let at = alternate.checked_mul(sector)?;
            let start = at - at % HEADER_BLOCK;
            if start < FIRST_MIB {
                return None;
            }
            Some(start..start.checked_add(HEADER_BLOCK)?)
        });
        HeldZones { backup_header }
    }

    fn zones(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        std::iter::once(0..FIRST_MIB).chain(self.backup_header.clone())
    }

    /// Whether `range` (one of [`HeldZones::split`]'s) is held back.
    pub(super) fn holds(&self, range: &Range<u64>) -> bool {
        self.zones()
            .any(|zone| range.start >= zone.start && range.end <= zone.end)
    }

    /// `used` with every range cut at the zones' edges.
    pub(super) fn split(&self, used: Vec<Range<u64>>) -> Vec<Range<u64>> {
        let edges: Vec<u64> = self.zones().flat_map(|z| [z.start, z.end]).collect();
        let mut out = Vec::with_capacity(used.len() + 2);
        for range in used {
            let mut start = range.start;
            let mut cuts: Vec<u64> = edges
                .iter()
                .copied()
                .filter(|&e| e > range.start && e < range.end)
                .collect();
            cuts.sort_unstable();
            for cut in cuts {
                out.push(start..cut);
                start = cut;
            }
            out.push(start..range.end);
        }
        out
    }
}

#[cfg(test)]
#[path = "held_tests.rs"]
mod tests;

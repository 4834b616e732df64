//! The structures that cover an image's bytes (partition table entries,
//! the extended partition) and the ranges no filesystem may call free:
//! "free means free everywhere" (docs/architecture.md §2). A byte is free
//! only when every structure covering it says so; where two differing
//! structures overlap (a partition nested in another, an EFI image inside
//! an ISO, a hybrid MBR's entry that is not the GPT's) nobody knows whose
//! free space it is, so both ranges are used. An entry present in two
//! tables with the same range is one partition.

use std::ops::Range;

/// What a structure is, for the one overlap that is by design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A partition of the MBR (primary) or the GPT.
    Partition,
    /// The MBR's extended partition, which holds the logical ones.
    Container,
    /// A partition of the EBR chain, inside the extended partition.
    Logical,
}

/// The structures seen so far and the vetoed ranges.
#[derive(Default)]
pub(super) struct Layout {
    parts: Vec<(Range<u64>, Kind)>,
    vetoed: Vec<Range<u64>>,
}

impl Layout {
    /// Records the structure `range`: whether it is new (not the same range
    /// as one already recorded, so its filesystem is yet to be read), and
    /// the ranges it makes used by overlapping others.
    pub fn add(&mut self, range: Range<u64>, kind: Kind) -> (bool, Vec<Range<u64>>) {
        if range.start >= range.end {
            return (false, Vec::new());
        }
        if self.parts.iter().any(|(r, _)| *r == range) {
            return (false, Vec::new());
        }
        let mut vetoes = Vec::new();
        for (other, other_kind) in &self.parts {
            let nested_by_design = matches!(
                (kind, *other_kind),
                (Kind::Logical, Kind::Container) | (Kind::Container, Kind::Logical)
            );
            if !nested_by_design && overlaps(other, &range) {
                vetoes.push(other.clone());
                vetoes.push(range.clone());
            }
        }
        self.parts.push((range, kind));
        (true, vetoes)
    }

    /// Makes `range` used whatever any filesystem says.
    pub fn veto(&mut self, range: Range<u64>) {
        if range.start < range.end {
            self.vetoed.push(range);
        }
    }

    /// `range` minus every vetoed range.
    pub fn allowed(&self, range: Range<u64>) -> Vec<Range<u64>> {
        let mut pieces = vec![range];
        for veto in &self.vetoed {
            pieces = pieces
                .into_iter()
                .flat_map(|piece| minus(piece, veto))
                .collect();
        }
        pieces
    }
}

fn overlaps(a: &Range<u64>, b: &Range<u64>) -> bool {
    a.start < b.end && b.start < a.end
}

/// `piece` minus `cut`: up to two ranges.
pub(super) fn minus(piece: Range<u64>, cut: &Range<u64>) -> Vec<Range<u64>> {
    if !overlaps(&piece, cut) {
        return vec![piece];
    }
    [piece.start..cut.start, cut.end..piece.end]
        .into_iter()
        .filter(|r| r.start < r.end)
        .collect()
}

//! The structures that cover an image's bytes (partition table entries,
//! the extended partition) and the ranges no filesystem may call free:
//! "free means free everywhere" (docs/architecture.md §2). A byte is free
//! only when every structure covering it says so; where two differing
//! structures overlap (a partition nested in another, an EFI image inside
//! an ISO, a hybrid MBR's entry that is not the GPT's) nobody knows whose
//! free space it is, so both ranges are used. An entry present in two
//! tables with the same range is one partition. The mapper's side is here
//! too: the tables that count become structures, and each partition's
//! volume descriptors are read for an ISO 9660 / UDF signature.

use std::ops::Range;

use super::{ALIGN, Findings, Mapper, Want, probe};
use crate::disk::{Partition, is_optical_volume, optical, read_tables};

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
    pub(super) fn add(&mut self, range: Range<u64>, kind: Kind) -> (bool, Vec<Range<u64>>) {
        if range.start >= range.end {
            return (false, Vec::new());
        }
        if self.parts.iter().any(|(r, _)| *r == range) {
            return (false, Vec::new());
        }
        let mut vetoes = Vec::new();
        for (other, other_kind) in &self.parts {
            // A logical partition lies inside the extended partition; one
            // reaching out of it is an overlap like any other.
            let inside = |inner: &Range<u64>, outer: &Range<u64>| {
                outer.start <= inner.start && inner.end <= outer.end
            };
            let nested_by_design = match (kind, *other_kind) {
                (Kind::Logical, Kind::Container) => inside(&range, other),
                (Kind::Container, Kind::Logical) => inside(other, &range),
                _ => false,
            };
            if !nested_by_design && overlaps(other, &range) {
                vetoes.push(other.clone());
                vetoes.push(range.clone());
            }
        }
        self.parts.push((range, kind));
        (true, vetoes)
    }

    /// The partitions seen (not the extended container), in table order.
    pub(super) fn partitions(&self) -> Vec<Range<u64>> {
        self.parts
            .iter()
            .filter(|(_, kind)| *kind != Kind::Container)
            .map(|(range, _)| range.clone())
            .collect()
    }

    /// Makes `range` used whatever any filesystem says.
    pub(super) fn veto(&mut self, range: Range<u64>) {
        if range.start < range.end {
            self.vetoed.push(range);
        }
    }

    /// `range` minus every vetoed range.
    pub(super) fn allowed(&self, range: Range<u64>) -> Vec<Range<u64>> {
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

impl Mapper {
    /// The partitions of the tables that count, the extended partition and
    /// the first EBR; an ISO 9660 / UDF image is used whole.
    pub(super) fn answer_table(&mut self, bytes: &[u8], out: &mut Findings) {
        let Ok(tables) = read_tables(bytes) else {
            return;
        };
        if is_optical_volume(bytes) {
            self.veto(0..u64::MAX);
            return;
        }
        for p in tables.mbr.iter().chain(&tables.gpt) {
            self.add_structure(p, Kind::Partition, out);
        }
        if let Some(extended) = tables.extended {
            self.add_range(extended.clone(), Kind::Container, out);
            let lba = extended.start / 512;
            out.request(
                extended.start,
                512,
                Want::Ebr {
                    lba,
                    extended: lba,
                    number: 5,
                },
            );
        }
    }

    pub(super) fn add_structure(&mut self, p: &Partition, kind: Kind, out: &mut Findings) {
        self.add_range(p.offset..p.end(), kind, out);
    }

    /// Records a structure; a new partition's filesystem and volume
    /// descriptors are asked for. Its first [`optical::PROBE_LEN`] bytes are
    /// used until the descriptors are known (they are the boot sector, the
    /// superblock and the first metadata anyway).
    fn add_range(&mut self, part: Range<u64>, kind: Kind, out: &mut Findings) {
        let (new, vetoes) = self.layout.add(part.clone(), kind);
        for range in vetoes {
            self.veto(range);
        }
        if !new || kind == Kind::Container {
            return;
        }
        let head = part.start
            ..part
                .end
                .min(part.start.saturating_add(optical::PROBE_LEN as u64));
        self.veto(head.clone());
        if head.end - head.start > optical::DESCRIPTORS_START as u64 {
            let len = (head.end - head.start) as usize;
            out.request(part.start, len, Want::Optical { part: part.clone() });
        }
        probe(out, part);
    }

    /// Makes `range` used whatever any filesystem says, from now on: the
    /// free ranges already known within it are dropped.
    pub(super) fn veto(&mut self, range: Range<u64>) {
        let hit: Vec<(u64, u64)> = self
            .free
            .range(..range.end)
            .filter(|(_, e)| **e > range.start)
            .map(|(s, e)| (*s, *e))
            .collect();
        for (s, e) in hit {
            self.free.remove(&s);
            for kept in minus(s..e, &range) {
                let start = kept.start.next_multiple_of(ALIGN);
                let end = kept.end / ALIGN * ALIGN;
                if start < end {
                    self.free.insert(start, end);
                }
            }
        }
        self.layout.veto(range);
    }
}

/// `piece` minus `cut`: up to two ranges.
fn minus(piece: Range<u64>, cut: &Range<u64>) -> Vec<Range<u64>> {
    if !overlaps(&piece, cut) {
        return vec![piece];
    }
    [piece.start..cut.start, cut.end..piece.end]
        .into_iter()
        .filter(|r| r.start < r.end)
        .collect()
}

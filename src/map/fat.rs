//! The free clusters of a FAT12/16/32 filesystem, from its boot sector and
//! its active FAT, read in pieces as they stream past (a FAT32's table can
//! be tens of MiB; no piece is held longer than it takes to scan it).
//!
//! The reserved sectors, every FAT copy and the FAT12/16 root directory lie
//! before the data area and stay used. Anything after the last cluster
//! stays used. A cluster is free when its entry is zero in every FAT copy
//! (they mirror each other; one that disagrees is not understood, so the
//! cluster is used) — except on a FAT32 whose BPB_ExtFlags turn mirroring
//! off: then only the FAT they name is kept up to date (the others may say
//! free where it says used), that one alone is read, and a FAT that does
//! not exist makes the partition used.

use std::ops::Range;

use super::{Findings, Want, le16, le32};
use crate::disk::FatGeometry;

/// Bytes of the FAT per request: a multiple of 3 (two FAT12 entries) and of
/// 4 (one FAT32 entry), so no entry straddles two pieces.
const PIECE: u64 = 48 << 10;
/// The FAT12 / FAT16 limits on the number of clusters (Microsoft's spec).
const FAT12_MAX: u64 = 4085;
const FAT16_MAX: u64 = 65525;
/// FAT32's BPB_ExtFlags: bit 7 set means mirroring is off and only the FAT
/// numbered by bits 0–3 is active.
const EXT_FLAGS: usize = 0x28;
const MIRRORING_OFF: u64 = 0x80;
const ACTIVE_FAT: u64 = 0x0F;
/// Where an ext superblock's magic number lies in a partition.
const EXT_MAGIC_AT: usize = 1024 + 0x38;
const EXT_MAGIC: u64 = 0xEF53;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fat12,
    Fat16,
    Fat32,
}

pub(super) struct FatFs {
    kind: Kind,
    /// Image offsets of the FAT copies read, in the order they stream.
    fat_starts: Vec<u64>,
    /// Free runs of clusters that the copies read before `copy` agree on
    /// (sorted), and those copy `copy` agrees with them on so far.
    agreed: Vec<Range<u64>>,
    agreeing: Vec<Range<u64>>,
    copy: usize,
    /// Image offset of cluster 2.
    data_start: u64,
    cluster_bytes: u64,
    /// Clusters 2 .. 2 + clusters exist.
    clusters: u64,
    part_end: u64,
}

impl FatFs {
    /// The FAT filesystem whose boot sector starts `probe`, the first bytes
    /// of the partition `part`; `None` when it is not one.
    pub(super) fn from_probe(part: Range<u64>, probe: &[u8]) -> Option<FatFs> {
        let bs = probe.get(..512)?;
        // An ext filesystem the ext parser would not map (a checksum that
        // fails, a journal to replay) is not taken for a FAT because its
        // unused first sector looks like one: it stays used.
        if bs[510..512] != [0x55, 0xAA] || le16(probe, EXT_MAGIC_AT) == EXT_MAGIC {
            return None;
        }
        let geometry = FatGeometry::read(bs)?;
        let sector = geometry.bytes_per_sector;
        let per_cluster = geometry.sectors_per_cluster;
        let reserved = geometry.reserved_sectors;
        let fats = geometry.fats;
        let total = geometry.total_sectors;
        let fat_sectors = geometry.sectors_per_fat;
        let plausible = matches!(sector, 512 | 1024 | 2048 | 4096)
            && per_cluster.is_power_of_two()
            && per_cluster <= 128
            && reserved > 0
            && (1..=4).contains(&fats)
            && fat_sectors > 0;
        if !plausible {
            return None;
        }
        let meta_sectors = geometry.data_start_sector();
        if total <= meta_sectors || total * sector > part.end - part.start {
            return None;
        }
        let clusters = (total - meta_sectors) / per_cluster;
        let kind = match clusters {
            n if n < FAT12_MAX => Kind::Fat12,
            n if n < FAT16_MAX => Kind::Fat16,
            _ => Kind::Fat32,
        };
        if (kind == Kind::Fat32) != geometry.fat32_form {
            return None;
        }
        let flags = le16(bs, EXT_FLAGS);
        let copies = if kind == Kind::Fat32 && flags & MIRRORING_OFF != 0 {
            let active = flags & ACTIVE_FAT;
            active..active + 1
        } else {
            0..fats
        };
        if copies.end > fats {
            return None;
        }
        let fat_starts = copies
            .map(|copy| part.start + (reserved + copy * fat_sectors) * sector)
            .collect();
        let fs = FatFs {
            kind,
            fat_starts,
            agreed: Vec::new(),
            agreeing: Vec::new(),
            copy: 0,
            data_start: part.start + meta_sectors * sector,
            cluster_bytes: per_cluster * sector,
            clusters,
            part_end: part.end,
        };
        // The FAT must hold an entry for every cluster.
        (fs.fat_bytes() <= fat_sectors * sector).then_some(fs)
    }

    /// Bytes of the FAT that hold the entries of clusters 0 .. 2 + clusters.
    fn fat_bytes(&self) -> u64 {
        let entries = self.clusters + 2;
        match self.kind {
            Kind::Fat12 => (entries * 3).div_ceil(2),
            Kind::Fat16 => entries * 2,
            Kind::Fat32 => entries * 4,
        }
    }

    fn entries_per_piece(&self) -> u64 {
        match self.kind {
            Kind::Fat12 => PIECE * 2 / 3,
            Kind::Fat16 => PIECE / 2,
            Kind::Fat32 => PIECE / 4,
        }
    }

    /// Asks for each FAT copy to read, piece by piece.
    pub(super) fn start(&self, index: usize, out: &mut Findings) {
        let bytes = self.fat_bytes();
        for (copy, &fat_start) in self.fat_starts.iter().enumerate() {
            let mut at = 0;
            let mut first_entry = 0;
            while at < bytes {
                let len = PIECE.min(bytes - at) as usize;
                out.request(
                    fat_start + at,
                    len,
                    Want::Fat {
                        fs: index,
                        copy,
                        first_entry,
                    },
                );
                at += PIECE;
                first_entry += self.entries_per_piece();
            }
        }
    }

    /// Scans a piece of FAT copy `copy` whose first entry is `first_entry`:
    /// its free runs, kept where every copy before agrees; the last copy's
    /// are free.
    pub(super) fn answer(
        &mut self,
        copy: usize,
        first_entry: u64,
        piece: &[u8],
        out: &mut Findings,
    ) {
        if copy != self.copy {
            // The copies stream one after the other; a copy never seen
            // (its pieces lost) agrees on nothing.
            let next = std::mem::take(&mut self.agreeing);
            self.agreed = if copy == self.copy + 1 {
                next
            } else {
                Vec::new()
            };
            self.copy = copy;
        }
        let mut runs = self.free_runs(first_entry, piece);
        if copy > 0 {
            runs = intersect(&runs, &self.agreed);
        }
        if copy + 1 == self.fat_starts.len() {
            for r in runs {
                out.free.push(self.clusters_bytes(r.start, r.end));
            }
        } else {
            self.agreeing.extend(runs);
        }
    }

    /// The runs of clusters whose entries in `piece` are zero.
    fn free_runs(&self, first_entry: u64, piece: &[u8]) -> Vec<Range<u64>> {
        let last = (first_entry + self.entries_per_piece()).min(self.clusters + 2);
        let mut runs = Vec::new();
        let mut run: Option<u64> = None;
        for n in first_entry.max(2)..last {
            let i = (n - first_entry) as usize;
            let entry = match self.kind {
                Kind::Fat12 => {
                    let pair = le16(piece, i * 3 / 2);
                    if n % 2 == 0 { pair & 0xFFF } else { pair >> 4 }
                }
                Kind::Fat16 => le16(piece, i * 2),
                Kind::Fat32 => le32(piece, i * 4) & 0x0FFF_FFFF,
            };
            // An entry past the piece reads as 0 from le16/le32: only a
            // truncated piece has one, and the piece is complete here.
            match (entry == 0, run) {
                (true, None) => run = Some(n),
                (false, Some(from)) => {
                    runs.push(from..n);
                    run = None;
                }
                _ => {}
            }
        }
        if let Some(from) = run {
            runs.push(from..last);
        }
        runs
    }

    fn clusters_bytes(&self, from: u64, to: u64) -> Range<u64> {
        let start = self.data_start + (from - 2) * self.cluster_bytes;
        let end = self.data_start + (to - 2) * self.cluster_bytes;
        start.min(self.part_end)..end.min(self.part_end)
    }
}

/// The parts of `runs` inside `agreed` (both sorted and disjoint).
fn intersect(runs: &[Range<u64>], agreed: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut out = Vec::new();
    for r in runs {
        let first = agreed.partition_point(|a| a.end <= r.start);
        for a in agreed[first..].iter().take_while(|a| a.start < r.end) {
            out.push(a.start.max(r.start)..a.end.min(r.end));
        }
    }
    out
}

#[cfg(test)]
#[path = "fat_tests.rs"]
mod tests;

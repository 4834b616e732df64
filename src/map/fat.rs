//! The free clusters of a FAT12/16/32 filesystem, from its boot sector and
//! its first FAT, read in pieces as they stream past (a FAT32's table can be
//! tens of MiB; no piece is held longer than it takes to scan it).
//!
//! The reserved sectors, every FAT copy and the FAT12/16 root directory lie
//! before the data area and stay used; a cluster is free when its entry in
//! the first FAT is zero. Anything after the last cluster stays used.

use std::ops::Range;

use super::{Findings, Want, le16, le32};
use crate::disk::FatGeometry;

/// Bytes of the FAT per request: a multiple of 3 (two FAT12 entries) and of
/// 4 (one FAT32 entry), so no entry straddles two pieces.
const PIECE: u64 = 48 << 10;
/// The FAT12 / FAT16 limits on the number of clusters (Microsoft's spec).
const FAT12_MAX: u64 = 4085;
const FAT16_MAX: u64 = 65525;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fat12,
    Fat16,
    Fat32,
}

pub struct FatFs {
    kind: Kind,
    /// Image offsets of the first FAT and of cluster 2.
    fat_start: u64,
    data_start: u64,
    cluster_bytes: u64,
    /// Clusters 2 .. 2 + clusters exist.
    clusters: u64,
    part_end: u64,
}

impl FatFs {
    /// The FAT filesystem whose boot sector starts `probe`, the first bytes
    /// of the partition `part`; `None` when it is not one.
    pub fn from_probe(part: Range<u64>, probe: &[u8]) -> Option<FatFs> {
        let bs = probe.get(..512)?;
        if bs[510..512] != [0x55, 0xAA] {
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
        let fs = FatFs {
            kind,
            fat_start: part.start + reserved * sector,
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

    /// Asks for the first FAT, piece by piece.
    pub fn start(&self, index: usize, out: &mut Findings) {
        let bytes = self.fat_bytes();
        let mut at = 0;
        let mut first_entry = 0;
        while at < bytes {
            let len = PIECE.min(bytes - at) as usize;
            out.request(
                self.fat_start + at,
                len,
                Want::Fat {
                    fs: index,
                    first_entry,
                },
            );
            at += PIECE;
            first_entry += self.entries_per_piece();
        }
    }

    /// Scans a piece of the FAT whose first entry is `first_entry`.
    pub fn answer(&self, first_entry: u64, piece: &[u8], out: &mut Findings) {
        let last = (first_entry + self.entries_per_piece()).min(self.clusters + 2);
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
                    out.free.push(self.clusters_bytes(from, n));
                    run = None;
                }
                _ => {}
            }
        }
        if let Some(from) = run {
            out.free.push(self.clusters_bytes(from, last));
        }
    }

    fn clusters_bytes(&self, from: u64, to: u64) -> Range<u64> {
        let start = self.data_start + (from - 2) * self.cluster_bytes;
        let end = self.data_start + (to - 2) * self.cluster_bytes;
        start.min(self.part_end)..end.min(self.part_end)
    }
}

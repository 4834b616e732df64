//! Repairs the directories `fatfs` 0.3.6 creates, so that `fsck.fat -n`
//! accepts them.
//!
//! `Dir::create_dir` in fatfs 0.3.6 writes the `.` and `..` entries of a new
//! directory through its long-name path, so each is preceded by a stray
//! long-file-name entry (fsck.fat: "Expected a valid '.' entry in this
//! slot"), and on FAT32 it points `..` at the root directory's cluster
//! where the specification says 0 ("share clusters" with the root). This
//! module finds the directories created by an edit (clusters that changed
//! and start with a `.` entry pointing at themselves), drops the stray
//! entries and sets `..` right. The fix is a no-op on a correct directory.

use crate::disk::FatGeometry;
use std::io;

const DIR_ENTRY_LEN: usize = 32;
const ATTR_DIRECTORY: u8 = 0x10;
/// The attribute value of a long-file-name entry.
const ATTR_LONG_NAME: u8 = 0x0F;
const DOT: &[u8; 11] = b".          ";
const DOT_DOT: &[u8; 11] = b"..         ";
/// How far into a directory the `.` entry may be pushed by stray entries.
const DOT_SEARCH_ENTRIES: usize = 8;

/// Where clusters are in a FAT filesystem.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    data_start: usize,
    cluster_len: usize,
    cluster_count: usize,
    /// FAT32's root directory cluster; `None` on FAT12/16.
    fat32_root_cluster: Option<u32>,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("FAT boot sector: {what}"),
    )
}

fn geometry(partition: &[u8]) -> io::Result<Geometry> {
    let fat = FatGeometry::read(partition).ok_or_else(|| invalid("too short"))?;
    if fat.bytes_per_sector == 0 || fat.sectors_per_cluster == 0 {
        return Err(invalid("zero sector or cluster size"));
    }
    let cluster_count = fat
        .cluster_count()
        .ok_or_else(|| invalid("data region beyond the volume"))?;
    let data_start = fat.data_start_sector() * fat.bytes_per_sector;
    let cluster_len = fat.cluster_bytes();
    // Clusters beyond the buffer cannot have been written by the edit.
    let in_buffer = (partition.len() as u64).saturating_sub(data_start) / cluster_len;
    Ok(Geometry {
        data_start: usize::try_from(data_start).map_err(|_| invalid("huge data offset"))?,
        cluster_len: cluster_len as usize,
        cluster_count: cluster_count.min(in_buffer) as usize,
        fat32_root_cluster: fat.fat32_form.then_some(fat.root_cluster),
    })
}

fn entry_cluster(entry: &[u8], fat32: bool) -> u32 {
    let low = u32::from(u16::from_le_bytes([entry[26], entry[27]]));
    let high = u32::from(u16::from_le_bytes([entry[20], entry[21]]));
    if fat32 { (high << 16) | low } else { low }
}

fn is_short_entry_named(entry: &[u8], name: &[u8; 11]) -> bool {
    &entry[..11] == name && entry[11] & ATTR_DIRECTORY != 0 && entry[11] != ATTR_LONG_NAME
}

/// Compares `after` (the edited partition) with `before` and repairs every
/// directory the edit created.
pub(super) fn fix_new_directory_parent_links(before: &[u8], after: &mut [u8]) -> io::Result<()> {
    let geometry = geometry(after)?;
    for index in 0..geometry.cluster_count {
        let start = geometry.data_start + index * geometry.cluster_len;
        let range = start..start + geometry.cluster_len;
        if before.get(range.clone()) == after.get(range.clone()) {
            continue;
        }
        let cluster_number = index as u32 + 2;
        fix_directory_cluster(
            &mut after[range],
            cluster_number,
            geometry.fat32_root_cluster,
        );
    }
    Ok(())
}

/// Rewrites one directory cluster as `.`, `..`, then its other entries, if
/// it is the first cluster of a directory (its `.` entry points at itself).
fn fix_directory_cluster(cluster: &mut [u8], cluster_number: u32, fat32_root: Option<u32>) {
    let fat32 = fat32_root.is_some();
    let entries: Vec<&[u8]> = cluster.chunks_exact(DIR_ENTRY_LEN).collect();
    let is_dot =
        |e: &[u8]| is_short_entry_named(e, DOT) && entry_cluster(e, fat32) == cluster_number;
    if !entries.iter().take(DOT_SEARCH_ENTRIES).any(|e| is_dot(e)) {
        return;
    }
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(entries.len());
    let mut pending_long_names: Vec<Vec<u8>> = Vec::new();
    for entry in entries {
        if entry[0] == 0 {
            break;
        }
        if entry[11] == ATTR_LONG_NAME && entry[0] != 0xE5 {
            pending_long_names.push(entry.to_vec());
            continue;
        }
        let is_dot_entry = is_short_entry_named(entry, DOT) || is_short_entry_named(entry, DOT_DOT);
        if !is_dot_entry {
            // Long names belong to the short entry they precede.
            kept.append(&mut pending_long_names);
        }
        pending_long_names.clear();
        let mut entry = entry.to_vec();
        if is_short_entry_named(&entry, DOT_DOT) && fat32_root == Some(entry_cluster(&entry, true))
        {
            entry[20..22].fill(0);
            entry[26..28].fill(0);
        }
        kept.push(entry);
    }
    // "." and ".." first, as fsck.fat requires.
    kept.sort_by_key(|e| !(is_short_entry_named(e, DOT) || is_short_entry_named(e, DOT_DOT)));
    cluster.fill(0);
    for (slot, entry) in cluster.chunks_exact_mut(DIR_ENTRY_LEN).zip(kept) {
        slot.copy_from_slice(&entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short_entry(name: &[u8; 11], attr: u8, cluster: u32) -> Vec<u8> {
        let mut e = vec![0u8; DIR_ENTRY_LEN];
        e[..11].copy_from_slice(name);
        e[11] = attr;
        e[20..22].copy_from_slice(&((cluster >> 16) as u16).to_le_bytes());
        e[26..28].copy_from_slice(&(cluster as u16).to_le_bytes());
        e
    }

    fn long_entry(order: u8) -> Vec<u8> {
        let mut e = vec![0x41u8; DIR_ENTRY_LEN];
        e[0] = order;
        e[11] = ATTR_LONG_NAME;
        e
    }

    #[test]
    fn drops_stray_long_names_and_points_dot_dot_at_the_fat32_root() {
        let mut cluster = Vec::new();
        for e in [
            long_entry(0x41),
            short_entry(DOT, ATTR_DIRECTORY, 7),
            long_entry(0x41),
            short_entry(DOT_DOT, ATTR_DIRECTORY, 2),
            long_entry(0x42),
            long_entry(0x01),
            short_entry(b"BALENA~1   ", 0x20, 8),
        ] {
            cluster.extend(e);
        }
        cluster.resize(512, 0);
        fix_directory_cluster(&mut cluster, 7, Some(2));
        let entries: Vec<&[u8]> = cluster.chunks_exact(DIR_ENTRY_LEN).collect();
        assert_eq!(&entries[0][..11], DOT);
        assert_eq!(&entries[1][..11], DOT_DOT);
        assert_eq!(entry_cluster(entries[1], true), 0);
        assert_eq!(entries[2][0], 0x42);
        assert_eq!(entries[3][0], 0x01);
        assert_eq!(&entries[4][..11], b"BALENA~1   ");
        assert_eq!(entries[5][0], 0);
    }

    #[test]
    fn leaves_other_clusters_alone() {
        let mut cluster = short_entry(b"FILE    TXT", 0x20, 9);
        cluster.resize(512, 0x55);
        let copy = cluster.clone();
        fix_directory_cluster(&mut cluster, 7, Some(2));
        assert_eq!(cluster, copy);
    }
}

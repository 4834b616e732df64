//! The map against partition layouts built in memory: nested and
//! overlapping partitions, hybrid MBRs, a stale GPT behind a plain MBR, ISO
//! 9660 signatures, and a property test over generated layouts with
//! corrupted tables. The filesystems are small FAT16 volumes whose every
//! data cluster is free, so whatever the map does not veto it maps free.

use std::io::Cursor;

use super::*;

const MIB: u64 = 1 << 20;
const CHUNK: usize = 4 << 20;
/// Sectors of a FAT16 volume's metadata: 4 reserved, 2 FATs of
/// [`fat_sectors`], 32 of root directory.
const RESERVED: u64 = 4;
const ROOT_SECTORS: u64 = 32;

fn fat_sectors(total: u64) -> u64 {
    (total + 2).div_ceil(256)
}

/// The byte (from the volume's start) where a FAT16 volume of `len` bytes
/// made by [`fat16`] has its first data cluster.
fn fat16_data_start(len: u64) -> u64 {
    (RESERVED + 2 * fat_sectors(len / 512) + ROOT_SECTORS) * 512
}

/// A FAT16 volume of `len` bytes (1 sector per cluster) whose clusters are
/// all free.
fn fat16(len: u64) -> Vec<u8> {
    let total = len / 512;
    let mut v = vec![0u8; (fat16_data_start(len) as usize).min(len as usize)];
    v[0..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
    v[11..13].copy_from_slice(&512u16.to_le_bytes());
    v[13] = 1;
    v[14..16].copy_from_slice(&(RESERVED as u16).to_le_bytes());
    v[16] = 2;
    v[17..19].copy_from_slice(&((ROOT_SECTORS * 16) as u16).to_le_bytes());
    v[21] = 0xF8;
    v[22..24].copy_from_slice(&(fat_sectors(total) as u16).to_le_bytes());
    v[32..36].copy_from_slice(&(total as u32).to_le_bytes());
    v[510] = 0x55;
    v[511] = 0xAA;
    for fat in 0..2 {
        let at = ((RESERVED + fat * fat_sectors(total)) * 512) as usize;
        v[at..at + 4].copy_from_slice(&[0xF8, 0xFF, 0xFF, 0xFF]);
    }
    v
}

fn put(disk: &mut [u8], at: u64, bytes: &[u8]) {
    disk[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
}

fn mbr_entry(disk: &mut [u8], slot: usize, sys: u8, range: Range<u64>) {
    let e = 446 + 16 * slot;
    disk[e + 4] = sys;
    disk[e + 8..e + 12].copy_from_slice(&((range.start / 512) as u32).to_le_bytes());
    let sectors = (range.end - range.start) / 512;
    disk[e + 12..e + 16].copy_from_slice(&(sectors as u32).to_le_bytes());
    disk[510] = 0x55;
    disk[511] = 0xAA;
}

/// Writes a GPT (primary and backup) with `parts`, and a protective MBR.
fn write_gpt(disk: &mut Vec<u8>, parts: &[Range<u64>]) {
    let mut cursor = Cursor::new(disk);
    let mut gpt = gptman::GPT::new_from(&mut cursor, 512, [0x42; 16]).unwrap();
    for (i, r) in parts.iter().enumerate() {
        gpt[i as u32 + 1] = gptman::GPTPartitionEntry {
            partition_type_guid: [0x11; 16],
            unique_partition_guid: [i as u8 + 1; 16],
            starting_lba: r.start / 512,
            ending_lba: r.end / 512 - 1,
            attribute_bits: 0,
            partition_name: "".into(),
        };
    }
    gpt.write_into(&mut cursor).unwrap();
    gptman::GPT::write_protective_mbr_into(&mut cursor, 512).unwrap();
}

fn map_of(image: &[u8]) -> Vec<Range<u64>> {
    let mut mapper = Mapper::new(Vec::new());
    let mut used = Vec::new();
    for (i, chunk) in image.chunks(CHUNK).enumerate() {
        used.extend(mapper.used_in((i * CHUNK) as u64, chunk));
    }
    used
}

fn free_bytes(image: &[u8]) -> Vec<Range<u64>> {
    let mut free = Vec::new();
    let mut cursor = 0;
    for r in map_of(image) {
        if r.start > cursor {
            free.push(cursor..r.start);
        }
        cursor = r.end;
    }
    if cursor < image.len() as u64 {
        free.push(cursor..image.len() as u64);
    }
    free
}

fn is_used(image: &[u8], range: Range<u64>) -> bool {
    free_bytes(image)
        .iter()
        .all(|f| f.end <= range.start || f.start >= range.end)
}

fn with_fat(disk: &mut [u8], range: &Range<u64>) {
    put(disk, range.start, &fat16(range.end - range.start));
}

#[test]
fn a_fat_partition_alone_is_mostly_free() {
    let part = MIB..5 * MIB;
    let mut disk = vec![0u8; 8 << 20];
    mbr_entry(&mut disk, 0, 0x0e, part.clone());
    with_fat(&mut disk, &part);
    assert!(!is_used(&disk, 2 * MIB..4 * MIB), "{:?}", map_of(&disk));
}

#[test]
fn a_partition_nested_in_another_is_used() {
    let (outer, inner) = (MIB..7 * MIB, 2 * MIB..6 * MIB);
    let mut disk = vec![0u8; 8 << 20];
    mbr_entry(&mut disk, 0, 0x83, outer.clone());
    mbr_entry(&mut disk, 1, 0x0e, inner.clone());
    with_fat(&mut disk, &inner);
    assert!(is_used(&disk, outer), "{:?}", map_of(&disk));
}

#[test]
fn overlapping_partitions_are_both_used() {
    let (first, second) = (MIB..5 * MIB, 3 * MIB..7 * MIB);
    let mut disk = vec![0u8; 8 << 20];
    mbr_entry(&mut disk, 0, 0x0e, first.clone());
    mbr_entry(&mut disk, 1, 0x0e, second.clone());
    with_fat(&mut disk, &first);
    with_fat(&mut disk, &second);
    assert!(is_used(&disk, MIB..7 * MIB), "{:?}", map_of(&disk));
}

#[test]
fn a_hybrid_mbr_entry_identical_to_the_gpts_is_one_partition() {
    let part = MIB..5 * MIB;
    let mut disk = vec![0u8; 8 << 20];
    write_gpt(&mut disk, std::slice::from_ref(&part));
    mbr_entry(&mut disk, 1, 0x0e, part.clone());
    with_fat(&mut disk, &part);
    assert!(!is_used(&disk, 2 * MIB..4 * MIB), "{:?}", map_of(&disk));
}

#[test]
fn a_hybrid_mbr_entry_overlapping_a_differing_gpt_entry_makes_both_used() {
    let part = MIB..5 * MIB;
    let mut disk = vec![0u8; 8 << 20];
    write_gpt(&mut disk, std::slice::from_ref(&part));
    mbr_entry(&mut disk, 1, 0x83, MIB..3 * MIB);
    with_fat(&mut disk, &part);
    assert!(is_used(&disk, part), "{:?}", map_of(&disk));
}

#[test]
fn a_stale_gpt_behind_a_plain_mbr_is_ignored() {
    // The card held a GPT with a FAT over 1..7 MiB; it was re-partitioned
    // with a DOS table whose partition starts at 2 MiB and holds a new FAT.
    let (old, new) = (MIB..7 * MIB, 2 * MIB..7 * MIB);
    let mut disk = vec![0u8; 8 << 20];
    write_gpt(&mut disk, std::slice::from_ref(&old));
    with_fat(&mut disk, &old);
    disk[446..510].fill(0);
    mbr_entry(&mut disk, 0, 0x0e, new.clone());
    with_fat(&mut disk, &new);
    // The new FAT's metadata is used (the stale FAT calls it free) ...
    let metadata = new.start..new.start + fat16_data_start(new.end - new.start);
    assert!(is_used(&disk, metadata), "{:?}", map_of(&disk));
    // ... and its free clusters are the ones mapped.
    assert!(!is_used(&disk, 3 * MIB..6 * MIB), "{:?}", map_of(&disk));
    // The stale FAT's own region outside the new partition stays used.
    assert!(is_used(&disk, old.start..new.start), "{:?}", map_of(&disk));
}

#[test]
fn an_iso_9660_signature_makes_the_image_or_the_partition_used() {
    let part = MIB..5 * MIB;
    let mut disk = vec![0u8; 8 << 20];
    mbr_entry(&mut disk, 0, 0x0e, part.clone());
    with_fat(&mut disk, &part);
    let mut iso = disk.clone();
    put(&mut iso, 32769, b"CD001");
    assert_eq!(total(&map_of(&iso)), iso.len() as u64);
    let mut udf = disk.clone();
    put(&mut udf, part.start + 32768 + 2048 + 1, b"NSR02");
    assert!(is_used(&udf, part), "{:?}", map_of(&udf));
}

#[path = "layout_property.rs"]
mod property;

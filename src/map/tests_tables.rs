//! Partition tables (logical partitions, GPT), metadata that lies or is cut
//! short, and the ranges forced used (patched regions, a bmap's, free space
//! known too late).

use std::process::Command;

use super::*;

#[test]
fn logical_partitions_and_the_gap_before_them_are_mapped() {
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", "16", "-C"])
        .arg(&image)
        .arg((32 * 1024).to_string()));
    let fat = std::fs::read(&image).unwrap();
    let len = fat.len() as u64;
    // Primary 1 at 1 MiB; extended from 40 MiB holding one logical
    // partition at 41 MiB (its EBR at 40 MiB).
    let ext_start = 40 * MIB;
    let mut disk = with_mbr(&[(MIB, &fat, 0x0e)], ext_start + MIB + len + MIB);
    let e = 446 + 16;
    disk[e + 4] = 0x05;
    disk[e + 8..e + 12].copy_from_slice(&((ext_start / 512) as u32).to_le_bytes());
    disk[e + 12..e + 16].copy_from_slice(&(((MIB + len) / 512) as u32).to_le_bytes());
    let ebr = ext_start as usize;
    disk[ebr + 446 + 4] = 0x0e;
    disk[ebr + 446 + 8..ebr + 446 + 12].copy_from_slice(&((MIB / 512) as u32).to_le_bytes());
    disk[ebr + 446 + 12..ebr + 446 + 16].copy_from_slice(&((len / 512) as u32).to_le_bytes());
    disk[ebr + 510] = 0x55;
    disk[ebr + 511] = 0xAA;
    disk[(ext_start + MIB) as usize..][..len as usize].copy_from_slice(&fat);
    // A bootloader in the gap before partition 1.
    disk[300_000] = 0x42;
    let used = map_of(&disk);
    let is_used = |at: u64| used.iter().any(|r| r.contains(&at));
    assert!(is_used(300_000) && is_used(ext_start) && is_used(ext_start + MIB));
    // The gap between the partitions and after the last one is used.
    assert!(is_used(MIB + len + 4096) && is_used(disk.len() as u64 - 1));
    // Both empty filesystems are mostly skipped.
    assert!(!is_used(MIB + len / 2), "{used:?}");
    assert!(!is_used(ext_start + MIB + len / 2), "{used:?}");
}

#[test]
fn gpt_partitions_are_mapped() {
    let work = tempfile::tempdir().unwrap();
    let disk = work.path().join("disk.img");
    std::fs::write(&disk, vec![0u8; 80 << 20]).unwrap();
    let mut sfdisk = Command::new("sfdisk")
        .args(["-q", "--no-reread", "--no-tell-kernel"])
        .arg(&disk)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sfdisk
        .stdin
        .take()
        .unwrap()
        .write_all(b"label: gpt\nstart=2048, size=40960, type=linux\nstart=43008, size=81920, type=linux\n")
        .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    let fs = work.path().join("fs.ext");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .arg(&fs)
        .arg("40M"));
    let mut bytes = std::fs::read(&disk).unwrap();
    let ext = std::fs::read(&fs).unwrap();
    bytes[(43008 * 512)..][..ext.len()].copy_from_slice(&ext);
    let used = map_of(&bytes);
    let is_used = |at: u64| used.iter().any(|r| r.contains(&at));
    // Partition 1 holds no filesystem: used; partition 2 is mostly free.
    assert!(is_used(2048 * 512 + 5 * MIB));
    assert!(!is_used(43008 * 512 + 30 * MIB), "{used:?}");
    // The backup GPT at the end is used.
    assert!(is_used(bytes.len() as u64 - 512));
}

#[test]
fn truncated_and_malformed_metadata_never_panics_and_is_used() {
    let work = tempfile::tempdir().unwrap();
    let fs = work.path().join("fs.ext");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .arg(&fs)
        .arg("16M"));
    let ext = std::fs::read(&fs).unwrap();
    let mut seed = 1u64;
    for round in 0..300 {
        let mut bytes = ext.clone();
        // Flip bytes in the superblock and group descriptors.
        for _ in 0..(1 + round % 8) {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = 1024 + (seed >> 33) as usize % 8192;
            bytes[at] = (seed >> 20) as u8;
        }
        let cut = if round % 3 == 0 {
            bytes.len() / (2 + round % 5)
        } else {
            bytes.len()
        };
        let disk = with_mbr(&[(MIB, &bytes[..cut], 0x83)], MIB + cut as u64);
        let _ = map_of(&disk);
    }
    // FAT16 and FAT32 with garbage in the boot sector and the FAT.
    for bits in ["16", "32"] {
        let fs = work.path().join(format!("fs{bits}.fat"));
        run(Command::new("mkfs.vfat")
            .args(["-F", bits, "-C"])
            .arg(&fs)
            .arg("40000"));
        let fat = std::fs::read(&fs).unwrap();
        for round in 0..200 {
            let mut bytes = fat.clone();
            for _ in 0..(1 + round % 6) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = (seed >> 33) as usize % if round % 2 == 0 { 512 } else { 65536 };
                bytes[at] = (seed >> 20) as u8;
            }
            let disk = with_mbr(&[(MIB, &bytes, 0x0c)], MIB + bytes.len() as u64);
            let _ = map_of(&disk);
        }
    }
    // A partition starting past the image's end, an EBR chain pointing
    // backwards, and a table of garbage: all of it used.
    let mut disk = with_mbr(&[(MIB, &ext, 0x83)], MIB + ext.len() as u64);
    disk[446 + 8..446 + 12].copy_from_slice(&(u32::MAX - 10).to_le_bytes());
    assert_eq!(total(&map_of(&disk)), disk.len() as u64);
    let mut disk = with_mbr(&[(MIB, &ext, 0x05)], MIB + ext.len() as u64);
    let ebr = MIB as usize;
    disk[ebr + 446 + 16 + 4] = 0x05;
    disk[ebr + 510] = 0x55;
    disk[ebr + 511] = 0xAA;
    assert_eq!(total(&map_of(&disk)), disk.len() as u64);
    let mut disk = with_mbr(&[(MIB, &ext, 0x83)], MIB + ext.len() as u64);
    disk[446..510].fill(0xEE);
    assert_eq!(total(&map_of(&disk)), disk.len() as u64);
}

/// A FAT32 of about 40 MB, mostly free, made by mkfs.vfat; and an MBR disk
/// holding it at 1 MiB.
fn fat32_disk() -> (Vec<u8>, Vec<u8>) {
    let work = tempfile::tempdir().unwrap();
    let fs = work.path().join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", "32", "-C"])
        .arg(&fs)
        .arg("40000"));
    let fat = std::fs::read(&fs).unwrap();
    let disk = with_mbr(&[(MIB, &fat, 0x0c)], MIB + fat.len() as u64);
    (fat, disk)
}

/// `disk` streamed through `mapper` chunk by chunk; the used ranges.
fn stream_through(mapper: &mut Mapper, disk: &[u8]) -> Vec<Range<u64>> {
    let mut used = Vec::new();
    for (i, chunk) in disk.chunks(CHUNK).enumerate() {
        used.extend(mapper.used_in((i * CHUNK) as u64, chunk));
    }
    used
}

#[test]
fn forced_ranges_stay_used() {
    let (fat, disk) = fat32_disk();
    let forced = MIB..MIB + fat.len() as u64;
    let mut mapper = Mapper::new(vec![forced.clone()]);
    let used = stream_through(&mut mapper, &disk);
    assert_eq!(total(&used), disk.len() as u64);
    // Without the force, most of it is free.
    assert!(total(&map_of(&disk)) < disk.len() as u64 / 4);
    assert!(mapper.free_ranges().is_empty());
}

#[test]
fn free_space_known_too_late_is_used_and_small_gaps_are_written() {
    let chunk = vec![0u8; CHUNK];
    let mut mapper = Mapper::new(Vec::new());
    // No partition table: the first chunk is used whole.
    assert_eq!(mapper.used_in(0, &chunk), vec![0..CHUNK as u64]);
    let base = CHUNK as u64;
    // Learnt now: a range reaching back into what streamed (only the rest
    // counts), a gap too small to skip, a large one; unaligned ends shrunk
    // inward.
    mapper.add_free(1000..base + MIB);
    mapper.add_free(base + MIB + 100..base + MIB + 100 + MIN_GAP / 2);
    mapper.add_free(base + 2 * MIB + 5..base + 3 * MIB + 5);
    let used = mapper.used_in(base, &chunk);
    assert_eq!(
        used,
        vec![
            base + MIB..base + 2 * MIB + ALIGN,
            base + 3 * MIB..base + CHUNK as u64
        ]
    );
    assert!(mapper.free_ranges().is_empty());
}

#[test]
fn a_bmaps_ranges_are_added_to_the_free_space_of_a_filesystem() {
    let (_, disk) = fat32_disk();
    let alone = map_of(&disk);
    // Many small ranges in the FAT's free space (given out of order and
    // overlapping, as forced ranges may be), unaligned, and one spanning
    // a chunk boundary.
    let mut forced: Vec<Range<u64>> = (0..1000u64)
        .map(|i| 12 * MIB + i * 9000 + 3..12 * MIB + i * 9000 + 100)
        .rev()
        .collect();
    forced.push(12 * MIB + 50..12 * MIB + 5000);
    forced.push(2 * CHUNK as u64 - 10..2 * CHUNK as u64 + 10);
    let mut mapper = Mapper::new(forced.clone());
    let used = stream_through(&mut mapper, &disk);
    let covered = |range: &Range<u64>, map: &[Range<u64>]| {
        map.iter()
            .any(|u| u.start <= range.start && range.end <= u.end)
    };
    for range in &forced {
        // Split at chunk boundaries: each part lies in one used range.
        let boundary = range.start.next_multiple_of(CHUNK as u64);
        let parts = if boundary > range.start && boundary < range.end {
            vec![range.start..boundary, boundary..range.end]
        } else {
            vec![range.clone()]
        };
        for part in parts {
            assert!(covered(&part, &used), "{part:?} not in {used:?}");
        }
    }
    // The union: what the filesystems use stays used.
    for range in &alone {
        let mut cursor = range.start;
        for u in used
            .iter()
            .filter(|u| u.end > range.start && u.start < range.end)
        {
            assert!(u.start <= cursor, "{range:?} lost");
            cursor = u.end;
        }
        assert!(cursor >= range.end, "{range:?} lost");
    }
    assert!(total(&used) > total(&alone));
    assert!(total(&used) < disk.len() as u64 / 2);
}

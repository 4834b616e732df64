//! The map against real filesystems made by mkfs: every range the map calls
//! free is overwritten with garbage (as a drive holding random bytes would
//! keep it), and the filesystem must still check clean and give back every
//! file; the map must also skip most of the free space.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

pub(super) const MIB: u64 = 1 << 20;
/// The engine's chunk (`engine::chunk::CHUNK_BYTES`).
pub(super) const CHUNK: usize = 4 << 20;

fn map_of(image: &[u8]) -> Vec<Range<u64>> {
    let mut mapper = Mapper::new(Vec::new());
    let mut used = Vec::new();
    for (i, chunk) in image.chunks(CHUNK).enumerate() {
        let offset = (i * CHUNK) as u64;
        let ranges = mapper.used_in(offset, chunk);
        let mut last = offset;
        for r in &ranges {
            assert!(r.start >= last && r.end > r.start && r.end <= offset + chunk.len() as u64);
            assert_eq!(r.start % ALIGN, 0, "{r:?}");
            last = r.end;
        }
        used.extend(ranges);
    }
    used
}

/// The image with every byte outside `used` replaced by a pseudo-random
/// pattern.
fn scramble(image: &[u8], used: &[Range<u64>]) -> Vec<u8> {
    let mut out = image.to_vec();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut cursor = 0usize;
    let mut fill = |from: usize, to: usize, out: &mut Vec<u8>| {
        for b in &mut out[from..to] {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
    };
    for r in used {
        fill(cursor, r.start as usize, &mut out);
        cursor = r.end as usize;
    }
    fill(cursor, image.len(), &mut out);
    out
}

/// Runs a command that must succeed; its standard output.
pub(super) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("running a filesystem tool");
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A folder of files: some large, one empty, a symlink, a nested folder.
fn populate(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    let mut seed = 7u32;
    for (name, len) in [
        ("big.bin", 3 << 20),
        ("sub/mid.bin", 300_000),
        ("sub/deeper/small.txt", 1234),
        ("empty", 0),
        ("f1.bin", 200_000),
        ("f2.bin", 500_000),
    ] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    // A symlink, made by ln: no OS call outside src/platform, even in tests.
    run(Command::new("ln")
        .arg("-s")
        .arg("sub/mid.bin")
        .arg(dir.join("link")));
}

/// The number of free blocks and the block size dumpe2fs reports.
fn ext_free(image: &Path) -> (u64, u64) {
    let out = run(Command::new("dumpe2fs").arg("-h").arg(image));
    let field = |name: &str| -> u64 {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {out}"))
    };
    (field("Free blocks:"), field("Block size:"))
}

/// Makes an ext filesystem of `mib` MiB from `dir` with mkfs options `opts`,
/// then deletes and rewrites files with debugfs so the allocation is
/// fragmented and freed blocks hold old data.
fn make_ext(dir: &Path, image: &Path, mib: u64, opts: &[&str]) {
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-E", "lazy_itable_init=1", "-d"])
        .arg(dir)
        .args(opts)
        .arg(image)
        .arg(format!("{mib}M")));
    run(Command::new("debugfs")
        .args(["-w", "-R", "rm /f1.bin"])
        .arg(image));
    let again = dir.join("f1.bin");
    run(Command::new("debugfs")
        .arg("-w")
        .arg("-R")
        .arg(format!("write {} again.bin", again.display()))
        .arg(image));
    std::fs::rename(dir.join("f1.bin"), dir.join("again.bin")).unwrap();
}

/// Checks an ext image whose free ranges were scrambled: e2fsck clean and
/// every file equal.
fn check_ext(scrambled: &[u8], dir: &Path, work: &Path) {
    let copy = work.join("scrambled.ext");
    std::fs::write(&copy, scrambled).unwrap();
    run(Command::new("e2fsck").arg("-fn").arg(&copy));
    let out = work.join("out");
    std::fs::create_dir_all(&out).unwrap();
    run(Command::new("debugfs")
        .arg("-R")
        .arg(format!("rdump / {}", out.display()))
        .arg(&copy));
    std::fs::remove_dir_all(out.join("lost+found")).ok();
    run(Command::new("diff")
        .arg("-r")
        .arg("--no-dereference")
        .arg(dir)
        .arg(&out));
}

fn ext_case(opts: &[&str], mib: u64) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("files");
    populate(&dir);
    let image = work.path().join("fs.ext");
    make_ext(&dir, &image, mib, opts);
    let bytes = std::fs::read(&image).unwrap();
    // The bare filesystem is not a partition: all of it is used.
    assert_eq!(total(&map_of(&bytes)), bytes.len() as u64);
    // In a partition at 1 MiB it is mapped.
    let disk = with_mbr(&[(MIB, &bytes, 0x83)], MIB + bytes.len() as u64 + MIB);
    let used = map_of(&disk);
    let (free_blocks, block) = ext_free(&image);
    let allocated = bytes.len() as u64 - free_blocks * block;
    let mapped = total(&used);
    // Everything outside the partition is used.
    assert!(used[0].start == 0 && used[0].end >= MIB, "{used:?}");
    assert!(used.last().unwrap().end == disk.len() as u64);
    assert!(
        mapped <= allocated + 2 * MIB + 8 * MIN_GAP + allocated / 20,
        "{opts:?}: mapped {mapped} bytes, the filesystem allocates {allocated}"
    );
    let scrambled = scramble(&disk, &used);
    let part = &scrambled[MIB as usize..MIB as usize + bytes.len()];
    check_ext(part, &dir, work.path());
}

/// An MBR disk of `len` bytes with the given (offset, bytes, type)
/// partitions.
fn with_mbr(parts: &[(u64, &[u8], u8)], len: u64) -> Vec<u8> {
    let mut disk = vec![0u8; len as usize];
    for (i, (offset, bytes, kind)) in parts.iter().enumerate() {
        let e = 446 + 16 * i;
        disk[e + 4] = *kind;
        disk[e + 8..e + 12].copy_from_slice(&((offset / 512) as u32).to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&((bytes.len() as u64 / 512) as u32).to_le_bytes());
        disk[*offset as usize..*offset as usize + bytes.len()].copy_from_slice(bytes);
    }
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk
}

#[test]
fn ext4_default_flex_bg_64bit() {
    ext_case(&["-O", "64bit"], 64);
}

#[test]
fn ext4_without_flex_bg() {
    ext_case(&["-O", "^flex_bg"], 64);
}

#[test]
fn ext4_1k_blocks_small() {
    ext_case(&["-b", "1024"], 24);
}

#[test]
fn ext2_and_ext3_with_a_journal() {
    ext_case(&["-t", "ext2"], 40);
    ext_case(&["-t", "ext3"], 40);
}

#[test]
fn ext4_uninit_groups_are_free_but_their_metadata_is_used() {
    // A large, nearly empty filesystem: most groups are BLOCK_UNINIT.
    ext_case(&["-O", "^resize_inode"], 300);
    ext_case(&[], 300);
}

#[test]
fn bigalloc_and_a_journal_needing_recovery_stay_fully_used() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("files");
    populate(&dir);
    let image = work.path().join("fs.ext");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-O", "bigalloc", "-C", "16384", "-d"])
        .arg(&dir)
        .arg(&image)
        .arg("64M"));
    let bytes = std::fs::read(&image).unwrap();
    let disk = with_mbr(&[(MIB, &bytes, 0x83)], MIB + bytes.len() as u64);
    assert_eq!(total(&map_of(&disk)), disk.len() as u64);
    // Mark the journal as needing recovery (INCOMPAT_RECOVER).
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .arg(&image)
        .arg("64M"));
    let mut bytes = std::fs::read(&image).unwrap();
    // Without the flag it is mapped, so the flag is what makes it used.
    let disk = with_mbr(&[(MIB, &bytes, 0x83)], MIB + bytes.len() as u64);
    assert!(total(&map_of(&disk)) < disk.len() as u64 / 2);
    let incompat = 1024 + 0x60;
    bytes[incompat] |= 0x4;
    let disk = with_mbr(&[(MIB, &bytes, 0x83)], MIB + bytes.len() as u64);
    assert_eq!(total(&map_of(&disk)), disk.len() as u64);
}

fn fat_case(bits: &str, mib: u64, cluster_sectors: &str) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("files");
    populate(&dir);
    std::fs::remove_file(dir.join("link")).unwrap();
    let image = work.path().join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", bits, "-s", cluster_sectors, "-C"])
        .arg(&image)
        .arg((mib * 1024).to_string()));
    let mcopy = |args: &[&str]| {
        run(Command::new("mcopy")
            .args(["-s", "-o", "-i"])
            .arg(&image)
            .args(args));
    };
    // Written, a file deleted, then another written: fragmented, and the
    // deleted file's clusters are free but not zero.
    for name in ["f1.bin", "f2.bin", "empty", "sub", "big.bin"] {
        mcopy(&[dir.join(name).to_str().unwrap(), "::/"]);
    }
    run(Command::new("mdel").arg("-i").arg(&image).arg("::/f1.bin"));
    std::fs::rename(dir.join("f1.bin"), dir.join("again.bin")).unwrap();
    mcopy(&[dir.join("again.bin").to_str().unwrap(), "::/"]);
    let bytes = std::fs::read(&image).unwrap();
    let disk = with_mbr(&[(MIB, &bytes, 0x0c)], MIB + bytes.len() as u64);
    let used = map_of(&disk);
    let mapped = total(&used);
    let written: u64 = walk(&dir).iter().map(|p| p.metadata().unwrap().len()).sum();
    assert!(
        mapped < written + 3 * MIB + bytes.len() as u64 / 10,
        "FAT{bits}: mapped {mapped} of {} bytes, {written} in files",
        disk.len()
    );
    let scrambled = scramble(&disk, &used);
    let copy = work.path().join("scrambled.fat");
    std::fs::write(&copy, &scrambled[MIB as usize..MIB as usize + bytes.len()]).unwrap();
    run(Command::new("fsck.fat").arg("-n").arg(&copy));
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    run(Command::new("mcopy")
        .args(["-s", "-n", "-i"])
        .arg(&copy)
        .arg("::/*")
        .arg(&out));
    run(Command::new("diff").arg("-r").arg(&dir).arg(&out));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn fat12() {
    fat_case("12", 8, "4");
}

#[test]
fn fat16() {
    fat_case("16", 40, "4");
}

#[test]
fn fat32() {
    fat_case("32", 100, "1");
}

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

#[test]
fn forced_ranges_stay_used() {
    let work = tempfile::tempdir().unwrap();
    let fs = work.path().join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", "32", "-C"])
        .arg(&fs)
        .arg("40000"));
    let fat = std::fs::read(&fs).unwrap();
    let disk = with_mbr(&[(MIB, &fat, 0x0c)], MIB + fat.len() as u64);
    let forced = MIB..MIB + fat.len() as u64;
    let mut mapper = Mapper::new(vec![forced.clone()]);
    let mut used = Vec::new();
    for (i, chunk) in disk.chunks(CHUNK).enumerate() {
        used.extend(mapper.used_in((i * CHUNK) as u64, chunk));
    }
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
    let work = tempfile::tempdir().unwrap();
    let fs = work.path().join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", "32", "-C"])
        .arg(&fs)
        .arg("40000"));
    let fat = std::fs::read(&fs).unwrap();
    let disk = with_mbr(&[(MIB, &fat, 0x0c)], MIB + fat.len() as u64);
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
    let mut used = Vec::new();
    for (i, chunk) in disk.chunks(CHUNK).enumerate() {
        used.extend(mapper.used_in((i * CHUNK) as u64, chunk));
    }
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

// Helpers for the oracle tests beside `ext.rs`, `ext_csum.rs` and `fat.rs`,
// which map sparse images of gigabytes without holding them in memory.

/// Makes `image` an ext filesystem of `size` (as mkfs.ext4 reads it) with
/// 4 KiB blocks, the files of a fresh [`populate`]d folder and the mkfs
/// options `opts`; returns the folder.
pub(super) fn make_ext_4k(work: &Path, image: &Path, size: &str, opts: &[&str]) -> PathBuf {
    let dir = work.join("files");
    if !dir.exists() {
        populate(&dir);
    }
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-b", "4096", "-E", "lazy_itable_init=1", "-d"])
        .arg(&dir)
        .args(opts)
        .arg(image)
        .arg(size));
    dir
}

/// Streams the filesystem in the file `fs` as the one partition (of type
/// `kind`, at 1 MiB) of an MBR disk through a [`Mapper`], `chunk` bytes at
/// a time; the used ranges, merged. Reads a sparse file's holes only.
pub(super) fn map_partition(fs: &Path, kind: u8, chunk: usize) -> Vec<Range<u64>> {
    use std::io::Read;
    let len = std::fs::metadata(fs).unwrap().len();
    let mut header = vec![0u8; MIB as usize];
    header[446 + 4] = kind;
    header[446 + 8..446 + 12].copy_from_slice(&((MIB / 512) as u32).to_le_bytes());
    header[446 + 12..446 + 16].copy_from_slice(&((len / 512) as u32).to_le_bytes());
    header[510] = 0x55;
    header[511] = 0xAA;
    let file = std::fs::File::open(fs).unwrap();
    let mut stream =
        std::io::BufReader::with_capacity(CHUNK, std::io::Cursor::new(header).chain(file));
    let mut mapper = Mapper::new(Vec::new());
    let mut used: Vec<Range<u64>> = Vec::new();
    let mut buf = vec![0u8; chunk];
    let mut offset = 0u64;
    loop {
        let mut filled = 0;
        while filled < chunk {
            match stream.read(&mut buf[filled..]).unwrap() {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            break;
        }
        let end = offset + filled as u64;
        for r in mapper.used_in(offset, &buf[..filled]) {
            assert!(
                r.start >= offset && r.start < r.end && r.end <= end,
                "{r:?}"
            );
            match used.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => used.push(r),
            }
        }
        offset = end;
    }
    assert_eq!(offset, MIB + len);
    used
}

/// The parts of `wanted` (sorted ranges) outside `used` (sorted, disjoint).
pub(super) fn uncovered(used: &[Range<u64>], wanted: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut missing = Vec::new();
    for w in wanted {
        let mut cursor = w.start;
        let first = used.partition_point(|u| u.end <= w.start);
        for u in used[first..].iter().take_while(|u| u.start < w.end) {
            if u.start > cursor {
                missing.push(cursor..u.start);
            }
            cursor = cursor.max(u.end);
        }
        if cursor < w.end {
            missing.push(cursor..w.end);
        }
    }
    missing
}

/// Whether `range` lies inside `used` (sorted, disjoint).
pub(super) fn covers(used: &[Range<u64>], range: Range<u64>) -> bool {
    uncovered(used, std::slice::from_ref(&range)).is_empty()
}

/// Overwrites `bytes` at `at` in the file `path`; returns what was there.
pub(super) fn patch(path: &Path, at: u64, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut old = vec![0u8; bytes.len()];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut old).unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(bytes).unwrap();
    old
}

/// `len` bytes at `at` of the file `path`.
pub(super) fn read_at(path: &Path, at: u64, len: usize) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).unwrap();
    let mut out = vec![0u8; len];
    file.seek(SeekFrom::Start(at)).unwrap();
    file.read_exact(&mut out).unwrap();
    out
}

//! The FAT map against an independent oracle of allocation: a small Python
//! reader (its own FAT-type rule, FAT12 entries cut from the table read as
//! one big little-endian integer) lists what is used, and every byte of
//! it must lie inside the map's used ranges whatever the chunk size; the
//! map must skip the rest but for alignment and small gaps. FAT12/16/32
//! with free and used clusters of both parities, entries whose values hide
//! in one nibble, a FAT32 whose table spans several chunks; mirrored FATs
//! that disagree, and a FAT32 with mirroring off and its second FAT active.

use std::ops::Range;
use std::path::Path;
use std::process::Command;

use crate::map::tests::{CHUNK, MIB, map_partition, patch, read_at, run, uncovered};
use crate::map::{ALIGN, MIN_GAP, le16, le32, total};

const CHUNKS: [usize; 3] = [CHUNK, (MIB as usize) + 4096, 4096 + 512];

/// Prints the used byte ranges of a FAT image ("start end" per line, from
/// the filesystem's start), or ALL when it cannot say.
const ORACLE: &str = r#"
import struct, sys
f = open(sys.argv[1], 'rb')
bs = f.read(512)
bps, spc, rsvd, nfats, rootent, tot16 = struct.unpack_from('<HBHBHH', bs, 11)
fatsz16, = struct.unpack_from('<H', bs, 22)
tot32, fatsz32, extflags = struct.unpack_from('<IIH', bs, 32)
fatsz = fatsz16 or fatsz32
tot = tot16 or tot32
first_data = rsvd + nfats * fatsz + (rootent * 32 + bps - 1) // bps
count = (tot - first_data) // spc
bits = 12 if count < 4085 else 16 if count < 65525 else 32
active = extflags & 0xF if bits == 32 and extflags & 0x80 else 0
if active >= nfats:
    print('ALL'); sys.exit()
f.seek((rsvd + active * fatsz) * bps)
fat = f.read(fatsz * bps)
if bits == 12:
    table = int.from_bytes(fat, 'little')
    entries = [(table >> (12 * n)) & 0xFFF for n in range(count + 2)]
else:
    fmt = '<%d%s' % (count + 2, 'H' if bits == 16 else 'I')
    entries = [e & 0x0FFFFFFF for e in struct.unpack_from(fmt, fat)]
used = [[0, first_data * bps]]
cluster = spc * bps
for n in range(2, count + 2):
    if entries[n]:
        start = first_data * bps + (n - 2) * cluster
        if used[-1][1] == start:
            used[-1][1] += cluster
        else:
            used.append([start, start + cluster])
end = first_data * bps + count * cluster
used.append([end, max(end, tot * bps)])
for s, e in used:
    print(s, e)
"#;

/// The oracle's used ranges of `image`, as offsets in the disk that
/// `map_partition` streams; `None` for ALL.
fn oracle(image: &Path) -> Option<Vec<Range<u64>>> {
    let out = run(Command::new("python3").arg("-c").arg(ORACLE).arg(image));
    if out.trim() == "ALL" {
        return None;
    }
    let ranges = out.lines().map(|line| {
        let (s, e) = line.split_once(' ').unwrap();
        MIB + s.parse::<u64>().unwrap()..MIB + e.parse::<u64>().unwrap()
    });
    Some(ranges.filter(|r| r.start < r.end).collect())
}

/// Checks the map of `image` against the oracle for every chunk size.
fn check_against_oracle(image: &Path, what: &str) {
    let want = oracle(image).expect("a FAT the oracle reads");
    let len = std::fs::metadata(image).unwrap().len();
    for chunk in CHUNKS {
        let used = map_partition(image, 0x0c, chunk);
        let missing = uncovered(&used, &want);
        assert!(
            missing.is_empty(),
            "{what}, chunks of {chunk}: used but mapped free: {missing:?}"
        );
        if chunk == CHUNK {
            let mapped = total(&used) - MIB;
            // Each free run's ends shrink to 4 KiB and gaps under MIN_GAP
            // are written; free runs that meet at the end of a FAT piece
            // stay apart when clusters are not 4 KiB aligned.
            let pieces = (len / 512 * 4).div_ceil(super::PIECE);
            let slack = (want.len() as u64 + 1) * (MIN_GAP + 2 * ALIGN) + pieces * ALIGN;
            assert!(
                mapped <= total(&want) + slack,
                "{what}: mapped {mapped} of {len}, {} used",
                total(&want)
            );
        }
    }
}

/// Writes FAT entry `n` = `value` in every FAT of `image`, bit by bit in
/// the table seen as one little-endian bit string (not the map's way).
fn set_entry(image: &Path, bits: u64, n: u64, value: u32) {
    let bs = read_at(image, 0, 512);
    let sector = le16(&bs, 11);
    let fats = u64::from(bs[16]);
    let fat_sectors = if le16(&bs, 22) != 0 {
        le16(&bs, 22)
    } else {
        le32(&bs, 36)
    };
    for copy in 0..fats {
        let fat = (le16(&bs, 14) + copy * fat_sectors) * sector;
        for bit in 0..bits {
            let at = fat + (n * bits + bit) / 8;
            let mask = 1u8 << ((n * bits + bit) % 8);
            let old = read_at(image, at, 1)[0];
            let new = if value >> bit & 1 != 0 {
                old | mask
            } else {
                old & !mask
            };
            patch(image, at, &[new]);
        }
    }
}

/// A FAT`bits` image of `kib` KiB with `per_cluster` sectors per cluster:
/// small files, some deleted in runs of different parities, a larger one,
/// then single used clusters among free ones whose values hide in one
/// nibble or one byte, from cluster `first` every `step`.
fn fat_case(bits: u64, kib: u64, per_cluster: &str, first: u64, step: u64) {
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", &bits.to_string(), "-s", per_cluster, "-C"])
        .arg(&image)
        .arg(kib.to_string()));
    let files = work.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut names = Vec::new();
    for i in 0..90 {
        let name = files.join(format!("s{i:02}"));
        std::fs::write(&name, vec![i as u8 + 1; 700 + i * 37]).unwrap();
        names.push(name);
    }
    std::fs::write(files.join("big"), vec![0xA5u8; 900_000]).unwrap();
    names.push(files.join("big"));
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&image)
        .args(&names)
        .arg("::/"));
    let deleted = (10..45).chain(50..86).map(|i| format!("::/s{i:02}"));
    run(Command::new("mdel").arg("-i").arg(&image).args(deleted));
    run(Command::new("fsck.fat").arg("-n").arg(&image));
    check_against_oracle(&image, &format!("FAT{bits} files"));
    // Isolated used clusters, 256 KiB apart past the files: values below
    // 16 (a FAT12 even entry read as an odd one sees 0), multiples of 256
    // (an odd entry read as an even one sees 0), end-of-chain; at odd and
    // even cluster numbers.
    let values = [3u32, 0xF00, 15, 0x100, 0xFFF, 0x200, 7, 0xE00];
    for (i, value) in values.iter().enumerate() {
        let n = first + i as u64 * step + i as u64 % 2;
        set_entry(&image, bits, n, *value);
    }
    check_against_oracle(&image, &format!("FAT{bits} isolated entries"));
}

#[test]
fn fat12_against_an_independent_reader() {
    fat_case(12, 8 * 1024, "4", 2500, 128);
}

#[test]
fn fat16_against_an_independent_reader() {
    fat_case(16, 64 * 1024, "4", 5000, 128);
}

#[test]
fn fat32_whose_table_spans_chunks_against_an_independent_reader() {
    // 512 MiB of 512-byte clusters: a 4 MiB FAT, read across chunk ends.
    fat_case(32, 512 * 1024, "1", 20000, 512);
}

/// A FAT`bits` image holding a 3 MiB file, then its first FAT's entries
/// after the root directory's zeroed (free) while the second still says
/// the file is used; with the oracle's used ranges from before.
fn copies_that_disagree(work: &Path, bits: &str) -> (std::path::PathBuf, Vec<Range<u64>>) {
    let image = work.join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", bits, "-s", if bits == "32" { "1" } else { "4" }, "-C"])
        .arg(&image)
        .arg((100 * 1024).to_string()));
    let big = work.join("big");
    std::fs::write(&big, vec![0x5Au8; 3 << 20]).unwrap();
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&image)
        .arg(&big)
        .arg("::/"));
    let bs = read_at(&image, 0, 512);
    let sector = le16(&bs, 11);
    let fat_sectors = if le16(&bs, 22) != 0 {
        le16(&bs, 22)
    } else {
        le32(&bs, 36)
    };
    let first_fat = le16(&bs, 14) * sector;
    let with_file = oracle(&image).unwrap();
    let keep = if bits == "32" { 12 } else { 4 };
    let zeros = vec![0u8; (fat_sectors * sector - keep) as usize];
    patch(&image, first_fat + keep, &zeros);
    // The oracle reads FAT #1: it now misses the file.
    assert!(total(&oracle(&image).unwrap()) + (3 << 20) <= total(&with_file));
    (image, with_file)
}

#[test]
fn mirrored_fats_that_disagree_leave_the_cluster_used() {
    for bits in ["16", "32"] {
        let work = tempfile::tempdir().unwrap();
        let (image, with_file) = copies_that_disagree(work.path(), bits);
        for chunk in CHUNKS {
            let used = map_partition(&image, 0x0c, chunk);
            let missing = uncovered(&used, &with_file);
            assert!(
                missing.is_empty(),
                "FAT{bits}, chunks of {chunk}: {missing:?}"
            );
        }
        let bs = read_at(&image, 0, 512);
        let fat_sectors = if le16(&bs, 22) != 0 {
            le16(&bs, 22)
        } else {
            le32(&bs, 36)
        };
        let sector = le16(&bs, 11);
        let fat1 = le16(&bs, 14) * sector;
        let fat2 = fat1 + fat_sectors * sector;
        let len = (fat_sectors * sector) as usize;
        let (zeroed, whole) = (read_at(&image, fat1, len), read_at(&image, fat2, len));
        // The other way round: FAT #1 says used, FAT #2 free.
        patch(&image, fat1, &whole);
        patch(&image, fat2, &zeroed);
        let used = map_partition(&image, 0x0c, CHUNK);
        assert!(
            uncovered(&used, &with_file).is_empty(),
            "FAT{bits}, #2 free"
        );
        // Agreeing copies: the file's clusters freed in both are free.
        patch(&image, fat1, &zeroed);
        let used = map_partition(&image, 0x0c, CHUNK);
        assert!(
            total(&used) < total(&with_file) - (3 << 20) + 2 * MIB,
            "FAT{bits}"
        );
    }
}

#[test]
fn fat32_with_mirroring_off_is_read_from_its_active_fat() {
    let work = tempfile::tempdir().unwrap();
    let (image, with_file) = copies_that_disagree(work.path(), "32");
    // Mirroring off, FAT #2 active: the file is used.
    patch(&image, 0x28, &[0x81, 0]);
    assert_eq!(
        oracle(&image).unwrap(),
        with_file,
        "the oracle reads FAT #2"
    );
    for chunk in CHUNKS {
        let used = map_partition(&image, 0x0c, chunk);
        let missing = uncovered(&used, &with_file);
        assert!(missing.is_empty(), "chunks of {chunk}: {missing:?}");
    }
    // Mirroring off, FAT #1 active: FAT #1 alone is read, and it says the
    // file is free, so the flag is what is read.
    patch(&image, 0x28, &[0x80, 0]);
    let used = map_partition(&image, 0x0c, CHUNK);
    assert!(!uncovered(&used, &with_file).is_empty());
    // An active FAT that does not exist (#3 of 2): all of it used.
    patch(&image, 0x28, &[0x82, 0]);
    assert!(oracle(&image).is_none());
    let used = map_partition(&image, 0x0c, CHUNK);
    let len = std::fs::metadata(&image).unwrap().len();
    assert_eq!(total(&used), MIB + len);
}

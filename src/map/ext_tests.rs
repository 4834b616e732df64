//! The ext map against an independent oracle of allocation, byte for byte:
//! every block `dumpe2fs` reports allocated (e2fsprogs' own reading of the
//! bitmaps, and of uninitialised groups) must lie inside the map's used
//! ranges, whatever the chunk size; and the map must skip nearly all of
//! the rest. Real layouts: 4 KiB blocks, sparse images of 1 GiB and more,
//! flex_bg and not, uninitialised groups holding superblock backups,
//! 32- and 64-byte descriptors, files written, deleted, preallocated and
//! punched by debugfs.

use std::ops::Range;
use std::path::Path;
use std::process::Command;

use crate::map::tests::{CHUNK, MIB, covers, make_ext_4k, map_partition, run, uncovered};
use crate::map::{MIN_GAP, total};

const BLOCK: u64 = 4096;

/// Chunk sizes: the engine's, one that is not a power of two, and one that
/// cuts nearly every 4 KiB metadata block in two.
const CHUNKS: [usize; 3] = [CHUNK, (MIB as usize) + 4096, 4096 + 512];

/// The allocated blocks of `image` as dumpe2fs reports them: each group's
/// blocks minus its "Free blocks:" list.
fn allocated_blocks(image: &Path) -> (Vec<Range<u64>>, u64) {
    let out = run(Command::new("dumpe2fs").arg(image));
    let mut allocated = Vec::new();
    let mut group: Option<Range<u64>> = None;
    let mut groups = 0;
    for line in out.lines() {
        let group_line = line
            .strip_prefix("Group ")
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()));
        if let Some(rest) = group_line {
            let blocks = rest.split("(Blocks ").nth(1).expect(line);
            let blocks = blocks.split(')').next().expect(line);
            let (a, b) = blocks.split_once('-').expect(line);
            group = Some(a.parse().unwrap()..b.parse::<u64>().unwrap() + 1);
            groups += 1;
        } else if let Some(list) = line.trim().strip_prefix("Free blocks:") {
            let Some(blocks) = group.take() else { continue };
            let mut cursor = blocks.start;
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (a, b) = item.split_once('-').unwrap_or((item, item));
                let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
                if a > cursor {
                    allocated.push(cursor..a);
                }
                cursor = b + 1;
            }
            if cursor < blocks.end {
                allocated.push(cursor..blocks.end);
            }
        }
    }
    assert!(groups >= 8, "{out}");
    (allocated, groups)
}

/// Makes the image, changes its files with debugfs (preallocating
/// `prealloc` blocks, from group 0 on), then checks the map.
fn oracle_case(size: &str, opts: &[&str], prealloc: u64) {
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("fs.ext");
    let dir = make_ext_4k(work.path(), &image, size, opts);
    // Files deleted and written again (freed blocks between used ones), a
    // preallocated file reaching into later groups (allocated, never
    // written: cheap on a sparse image) with holes punched into it.
    let commands = work.path().join("debugfs.cmd");
    std::fs::write(
        &commands,
        format!(
            "rm /f1.bin\nwrite {} again.bin\nmkdir /d\ncd /d\nwrite {} pre\n\
             fallocate pre 0 {prealloc}\npunch pre {} {}\npunch pre {} {}\n\
             write {} late.bin\n",
            dir.join("f2.bin").display(),
            dir.join("empty").display(),
            prealloc / 4,
            prealloc / 3,
            prealloc * 2 / 3,
            prealloc * 2 / 3 + 31,
            dir.join("big.bin").display()
        ),
    )
    .unwrap();
    run(Command::new("debugfs")
        .arg("-w")
        .arg("-f")
        .arg(&commands)
        .arg(&image));
    run(Command::new("e2fsck").arg("-fn").arg(&image));
    let (blocks, groups) = allocated_blocks(&image);
    let allocated: Vec<Range<u64>> = blocks
        .iter()
        .map(|b| MIB + b.start * BLOCK..MIB + b.end * BLOCK)
        .collect();
    let len = std::fs::metadata(&image).unwrap().len();
    for chunk in CHUNKS {
        let used = map_partition(&image, 0x83, chunk);
        let missing = uncovered(&used, &allocated);
        assert!(
            missing.is_empty(),
            "{size} {opts:?}, chunks of {chunk}: allocated but mapped free: {missing:?}"
        );
        // The MBR and the gap before the partition are used.
        assert!(covers(&used, 0..MIB));
        if chunk == CHUNK {
            // Free space is skipped but for the alignment of each free
            // run's ends and the small gaps written whole.
            let in_partition = total(&used) - MIB;
            let allocated = total(&allocated);
            let slack = allocated / 20 + (4 * groups + 16) * MIN_GAP;
            assert!(
                in_partition <= allocated + slack,
                "{size} {opts:?}: mapped {in_partition} of {len}, {allocated} allocated"
            );
        }
    }
}

#[test]
fn ext4_4k_flex_bg_64bit_metadata_csum_2gib() {
    // 20 groups: a second flex group whose metadata opens group 16;
    // backups in the uninitialised groups 1, 3, 5, 7, 9.
    oracle_case("2560M", &["-O", "64bit,metadata_csum,flex_bg"], 150_000);
}

#[test]
fn ext4_4k_without_flex_bg_1gib() {
    // Each group's bitmaps and inode table inside it, every group but the
    // first uninitialised (1, 3, 5, 7 with backups): the map computes
    // their metadata itself.
    oracle_case("1G", &["-O", "^flex_bg"], 1000);
}

#[test]
fn ext4_4k_gdt_csum_32_byte_descriptors_without_resize_inode() {
    oracle_case(
        "1200M",
        &[
            "-O",
            "^64bit,^metadata_csum,uninit_bg,^resize_inode,^flex_bg",
        ],
        70_000,
    );
}

#[test]
fn ext4_4k_gdt_csum_64bit_flex_bg() {
    oracle_case(
        "1G",
        &["-O", "64bit,^metadata_csum,uninit_bg,flex_bg"],
        1000,
    );
}

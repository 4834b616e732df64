//! The checksums against the ones mkfs.ext4 writes, and the map against
//! real images whose metadata was corrupted after the fact: a superblock,
//! a group descriptor (with or without a BLOCK_UNINIT flag set on it) or a
//! block bitmap that fails its checksum must leave its blocks used.

use std::ops::Range;
use std::path::Path;
use std::process::Command;

use super::*;
use crate::map::tests::{MIB, covers, make_ext_4k, map_partition, patch, read_at, run};
use crate::map::{le16, total};

const BLOCK: u64 = 4096;
const BLOCKS_PER_GROUP: u64 = 32768;
const GROUP_BYTES: u64 = BLOCK * BLOCKS_PER_GROUP;

#[test]
fn crc_vectors_and_seeds_chain_as_the_kernels_do() {
    // CRC-32C's check value is 0xE3069283 with the final inversion.
    assert_eq!(raw_crc32c(!0, &[b"123456789"]), !0xE306_9283);
    // The kernel's seed is the running state: two calls chain.
    let first = raw_crc32c(!0, &[b"1234"]);
    assert_eq!(raw_crc32c(first, &[b"56789"]), !0xE306_9283);
    assert_eq!(raw_crc32c(0x1234_5678, &[b"ab", b"c"]), {
        raw_crc32c(raw_crc32c(0x1234_5678, &[b"a"]), &[b"bc"])
    });
    // CRC-16/MODBUS is Linux's crc16 from ~0.
    assert_eq!(crc16(&[b"123456789"]), 0x4B37);
    assert_eq!(crc16(&[b"1234", b"56789"]), 0x4B37);
}

/// The superblock, descriptor table and descriptor size of `image`.
fn metadata(image: &Path) -> (Vec<u8>, Vec<u8>, usize, u64) {
    let sb = read_at(image, 1024, 1024);
    let blocks = le32(&sb, 0x4) | (le32(&sb, 0x150) << 32);
    let groups = blocks.div_ceil(BLOCKS_PER_GROUP);
    let is_64bit = le32(&sb, 0x60) & 0x80 != 0;
    let desc_size = if is_64bit {
        le16(&sb, 0xFE) as usize
    } else {
        32
    };
    let table = read_at(image, BLOCK, groups as usize * desc_size);
    (sb, table, desc_size, groups)
}

#[test]
fn the_checksums_mkfs_writes_are_recognised_and_a_changed_byte_is_not() {
    let work = tempfile::tempdir().unwrap();
    let image = work.path().join("fs.ext");
    let variants: [(&[&str], &str); 5] = [
        (&["-O", "64bit,metadata_csum"], "metadata"),
        (&["-O", "^64bit,metadata_csum"], "metadata"),
        (
            &["-O", "64bit,metadata_csum,metadata_csum_seed"],
            "metadata",
        ),
        (&["-O", "64bit,^metadata_csum,uninit_bg"], "gdt"),
        (&["-O", "^64bit,^metadata_csum,uninit_bg"], "gdt"),
    ];
    for (opts, kind) in variants {
        make_ext_4k(work.path(), &image, "1G", opts);
        if opts[1].contains("seed") {
            // A new uuid: the seed stays, so the uuid no longer gives it.
            run(Command::new("tune2fs").args(["-U", "random"]).arg(&image));
        }
        let (sb, table, desc_size, groups) = metadata(&image);
        let sums = Checksums::of_superblock(&sb).expect("the superblock's checksum");
        match (kind, sums) {
            ("metadata", Checksums::Metadata { .. }) | ("gdt", Checksums::Gdt { .. }) => {}
            _ => panic!("{opts:?}: {sums:?}"),
        }
        let is_64bit = desc_size > 32;
        let mut bitmaps = 0;
        for group in 0..groups {
            let desc = &table[group as usize * desc_size..][..desc_size];
            assert!(
                sums.descriptor_ok(group, desc, is_64bit),
                "{opts:?} {group}"
            );
            // Any changed byte, and the same descriptor as another group's.
            for at in [0, 0x0C, 0x12, desc_size - 1] {
                let mut bad = desc.to_vec();
                bad[at] ^= 0x10;
                assert!(!sums.descriptor_ok(group, &bad, is_64bit), "{opts:?} {at}");
            }
            assert!(!sums.descriptor_ok(group + 1, desc, is_64bit));
            if le16(desc, 0x12) & 0x2 != 0 {
                continue;
            }
            let at = (le32(desc, 0) | if is_64bit { le32(desc, 0x20) << 32 } else { 0 }) * BLOCK;
            let mut bitmap = read_at(&image, at, BLOCK as usize);
            assert!(sums.bitmap_ok(desc, &bitmap, BLOCKS_PER_GROUP), "{opts:?}");
            bitmap[100] ^= 0x4;
            assert_eq!(
                kind == "gdt",
                sums.bitmap_ok(desc, &bitmap, BLOCKS_PER_GROUP)
            );
            bitmaps += 1;
        }
        assert!(bitmaps >= 2, "{opts:?}: {bitmaps} bitmaps checked");
        // A changed byte anywhere in the superblock's checked part.
        let mut bad = sb.clone();
        bad[0x78] ^= 1;
        assert_eq!(Checksums::of_superblock(&bad).is_none(), kind == "metadata");
    }
}

/// The used ranges of `image` mapped in the engine's chunks.
fn mapped(image: &Path) -> Vec<Range<u64>> {
    map_partition(image, 0x83, crate::map::tests::CHUNK)
}

/// The byte range of group `group` in the disk `map_partition` streams.
fn group_bytes(group: u64) -> Range<u64> {
    MIB + group * GROUP_BYTES..MIB + (group + 1) * GROUP_BYTES
}

/// Patches `bytes` at `at` of `image`, maps it, puts the old bytes back.
fn map_patched(image: &Path, at: u64, bytes: &[u8]) -> Vec<Range<u64>> {
    let old = patch(image, at, bytes);
    let used = mapped(image);
    patch(image, at, &old);
    used
}

/// An image with files in group 0 and most of it free, and the byte
/// offset of its descriptor table.
fn image_with_files(work: &Path, opts: &[&str]) -> (std::path::PathBuf, u64) {
    let image = work.join("fs.ext");
    make_ext_4k(work, &image, "512M", opts);
    let len = std::fs::metadata(&image).unwrap().len();
    let used = mapped(&image);
    // Control: mapped as it should be, most of it free, so each corruption
    // below is what makes it used.
    assert!(total(&used) < len / 4, "{opts:?}: {used:?}");
    assert!(covers(&used, 0..MIB + 4 * MIB));
    (image, BLOCK)
}

#[test]
fn a_superblock_failing_its_checksum_makes_the_filesystem_used() {
    let work = tempfile::tempdir().unwrap();
    let (image, _) = image_with_files(work.path(), &["-O", "64bit,metadata_csum"]);
    let len = MIB + std::fs::metadata(&image).unwrap().len();
    // The volume name changed without the checksum.
    let name = read_at(&image, 1024 + 0x78, 1)[0];
    let used = map_patched(&image, 1024 + 0x78, &[name ^ 0x20]);
    assert_eq!(total(&used), len);
}

#[test]
fn an_ext_failing_its_checksum_is_not_taken_for_the_fat_its_first_sector_looks_like() {
    let work = tempfile::tempdir().unwrap();
    let (image, _) = image_with_files(work.path(), &["-O", "64bit,metadata_csum"]);
    let len = MIB + std::fs::metadata(&image).unwrap().len();
    // A FAT16 boot sector (of a 100 MiB FAT, which fits the partition) in
    // the ext's unused first sector: the ext is still mapped as ext.
    let fat = work.path().join("fs.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", "16", "-C"])
        .arg(&fat)
        .arg((100 * 1024).to_string()));
    patch(&image, 0, &read_at(&fat, 0, 512));
    let used = mapped(&image);
    assert!(total(&used) < len / 4, "{used:?}");
    // Its superblock's checksum wrong: used whole, not mapped as that FAT.
    let name = read_at(&image, 1024 + 0x78, 1)[0];
    let used = map_patched(&image, 1024 + 0x78, &[name ^ 0x20]);
    assert_eq!(total(&used), len);
}

#[test]
fn a_descriptor_failing_its_checksum_makes_the_filesystem_used() {
    for opts in [
        ["-O", "64bit,metadata_csum"],
        ["-O", "^64bit,^metadata_csum,uninit_bg"],
    ] {
        let work = tempfile::tempdir().unwrap();
        let (image, table) = image_with_files(work.path(), &opts);
        let (_, descs, desc_size, _) = metadata(&image);
        let len = MIB + std::fs::metadata(&image).unwrap().len();
        // Group 3's free-block count changed without its checksum.
        let at = 3 * desc_size + 0x0C;
        let used = map_patched(&image, table + at as u64, &[descs[at] ^ 1]);
        assert_eq!(total(&used), len, "{opts:?}");
        // BLOCK_UNINIT set on group 0, which holds the files, without the
        // checksum: the old map freed every file's blocks.
        let at = 0x12;
        let used = map_patched(&image, table + at as u64, &[descs[at] | 0x2]);
        assert_eq!(total(&used), len, "{opts:?}");
    }
}

#[test]
fn a_block_bitmap_failing_its_checksum_makes_its_group_used() {
    let work = tempfile::tempdir().unwrap();
    let (image, _) = image_with_files(work.path(), &["-O", "64bit,metadata_csum"]);
    let (_, descs, _, _) = metadata(&image);
    let bitmap = (le32(&descs, 0) | (le32(&descs, 0x20) << 32)) * BLOCK;
    // Group 0's bitmap says blocks 1024..4096 (its inode tables, the root
    // directory, the files) are free, the checksum unchanged.
    let used = map_patched(&image, bitmap + 1024 / 8, &[0u8; 3072 / 8]);
    assert!(covers(&used, group_bytes(0)), "{used:?}");
    // Only that group: the others are still mapped from their bitmaps.
    let len = std::fs::metadata(&image).unwrap().len();
    assert!(total(&used) < len / 2, "{used:?}");
}

//! ext2/3/4 images made by mkfs.ext*: their free blocks scrambled, e2fsck
//! must pass and every file come back; journals and bigalloc stay used.

use std::path::Path;
use std::process::Command;

use super::*;

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

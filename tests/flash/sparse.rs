//! Sparse writing on loop devices pre-filled with a random pattern: an image
//! with an ext4 and a FAT32 partition (files written, deleted, rewritten) is
//! flashed; the filesystems on the drive check clean and give back every
//! file, everything outside the partitions equals the image, every byte is
//! either the image's or the drive's old one, and much of the free space
//! still holds the old pattern (proof that it was skipped). `--full` writes
//! everything; `imprint verify` checks the used bytes, `--full` all.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, assert_kept_after, describe, drive_size_for,
    flash_sparse, json_events, target_done,
};
use crate::support::loopdev::LoopLock;
use crate::support::{imprint, pseudo_random_bytes};

const MIB: usize = 1 << 20;
pub(super) const EXT_AT: usize = MIB;
pub(super) const EXT_LEN: usize = 48 * MIB;
pub(super) const FAT_AT: usize = EXT_AT + EXT_LEN;
pub(super) const FAT_LEN: usize = 40 * MIB;
pub(super) const IMAGE_LEN: usize = FAT_AT + FAT_LEN + MIB;

pub(super) fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run a filesystem tool");
    assert!(out.status.success(), "{cmd:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Files of several sizes (random bytes), a nested folder, an empty file.
fn files(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (i, (name, len)) in [
        ("big.bin", 5 * MIB),
        ("sub/mid.bin", 700_000),
        ("small.txt", 999),
        ("empty", 0),
        ("gone.bin", 3 * MIB),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(dir.join(name), pseudo_random_bytes(len, 40 + i as u64)).unwrap();
    }
}

/// The image: a bootloader in the gap, ext4 (p1) and FAT32 (p2), each with
/// a file deleted after others were written, then another written.
pub(super) fn make_image(work: &Path) -> Vec<u8> {
    let dir = work.join("files");
    files(&dir);
    let ext = work.join("p1.ext4");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d"])
        .arg(&dir)
        .arg(&ext)
        .arg(format!("{}M", EXT_LEN / MIB)));
    run(Command::new("debugfs")
        .args(["-w", "-R", "rm /gone.bin"])
        .arg(&ext));
    let late = dir.join("late.bin");
    std::fs::write(&late, pseudo_random_bytes(2 * MIB, 77)).unwrap();
    run(Command::new("debugfs")
        .arg("-w")
        .arg("-R")
        .arg(format!("write {} late.bin", late.display()))
        .arg(&ext));
    let fat = work.join("p2.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", "32", "-C"])
        .arg(&fat)
        .arg((FAT_LEN / 1024).to_string()));
    for name in [
        "big.bin",
        "sub",
        "small.txt",
        "empty",
        "gone.bin",
        "late.bin",
    ] {
        run(Command::new("mcopy")
            .args(["-s", "-i"])
            .arg(&fat)
            .arg(dir.join(name))
            .arg("::/"));
    }
    run(Command::new("mdel").arg("-i").arg(&fat).arg("::/gone.bin"));
    std::fs::remove_file(dir.join("gone.bin")).unwrap();

    let mut image = vec![0u8; IMAGE_LEN];
    for (slot, (at, len, kind)) in [(EXT_AT, EXT_LEN, 0x83u8), (FAT_AT, FAT_LEN, 0x0c)]
        .into_iter()
        .enumerate()
    {
        let e = 446 + 16 * slot;
        image[e + 4] = kind;
        image[e + 8..e + 12].copy_from_slice(&((at / 512) as u32).to_le_bytes());
        image[e + 12..e + 16].copy_from_slice(&((len / 512) as u32).to_le_bytes());
    }
    image[510] = 0x55;
    image[511] = 0xAA;
    // A bootloader in the gap before partition 1, and data after the last.
    image[4096..8192].copy_from_slice(&pseudo_random_bytes(4096, 5));
    image[IMAGE_LEN - 4096..].copy_from_slice(&pseudo_random_bytes(4096, 6));
    image[EXT_AT..FAT_AT].copy_from_slice(&std::fs::read(&ext).unwrap());
    image[FAT_AT..FAT_AT + FAT_LEN].copy_from_slice(&std::fs::read(&fat).unwrap());
    image
}

/// The drive's filesystems check clean and hold every file of `work/files`.
pub(super) fn check_filesystems(work: &Path, drive: &[u8]) {
    let ext = work.join("check.ext4");
    std::fs::write(&ext, &drive[EXT_AT..FAT_AT]).unwrap();
    run(Command::new("e2fsck").arg("-fn").arg(&ext));
    let out = work.join("out-ext");
    std::fs::create_dir_all(&out).unwrap();
    run(Command::new("debugfs")
        .arg("-R")
        .arg(format!("rdump / {}", out.display()))
        .arg(&ext));
    std::fs::remove_dir_all(out.join("lost+found")).unwrap();
    run(Command::new("diff")
        .arg("-r")
        .arg(work.join("files"))
        .arg(&out));
    std::fs::remove_dir_all(&out).unwrap();

    let fat = work.join("check.fat");
    std::fs::write(&fat, &drive[FAT_AT..FAT_AT + FAT_LEN]).unwrap();
    run(Command::new("fsck.fat").arg("-n").arg(&fat));
    let out = work.join("out-fat");
    std::fs::create_dir_all(&out).unwrap();
    run(Command::new("mcopy")
        .args(["-s", "-n", "-i"])
        .arg(&fat)
        .arg("::/*")
        .arg(&out));
    run(Command::new("diff")
        .arg("-r")
        .arg(work.join("files"))
        .arg(&out));
    std::fs::remove_dir_all(&out).unwrap();
}

/// Per 4 KiB block: whether the drive holds the image's bytes there.
/// Panics on a block that is neither the image's nor the old bytes.
pub(super) fn written_blocks(image: &[u8], before: &[u8], now: &[u8]) -> Vec<bool> {
    image
        .chunks(4096)
        .zip(before.chunks(4096))
        .zip(now.chunks(4096))
        .enumerate()
        .map(|(i, ((img, old), new))| {
            assert!(
                new == img || new == old,
                "block {i} holds neither the image nor the old bytes"
            );
            new == img
        })
        .collect()
}

pub(super) fn tools_present() -> bool {
    [
        "mkfs.ext4",
        "mkfs.vfat",
        "debugfs",
        "mcopy",
        "e2fsck",
        "fsck.fat",
    ]
    .iter()
    .all(|t| {
        Command::new("which")
            .arg(t)
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn a_sparse_flash_skips_free_space_and_leaves_clean_filesystems() {
    require_root!();
    assert!(
        tools_present(),
        "e2fsprogs, dosfstools and mtools are needed"
    );
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let image = make_image(work.path());
    let raw = work.path().join("os.img");
    std::fs::write(&raw, &image).unwrap();
    run(Command::new("xz").args(["-k", "-1", "-T1"]).arg(&raw));
    let xz = work.path().join("os.img.xz");
    let size = drive_size_for(IMAGE_LEN);

    for (source, drives) in [(&raw, 1), (&xz, 2)] {
        let drives: Vec<_> = (0..drives)
            .map(|i| PatternedDrive::create(work.path(), &format!("d{i}.bin"), size, 900 + i))
            .collect();
        let paths: Vec<&Path> = drives.iter().map(PatternedDrive::device).collect();
        let out = flash_sparse(source, &paths, &["--json"]);
        assert_exit(&out, 0);
        let events = json_events(&out);
        let start = &events[0];
        assert_eq!(start["map"], "filesystems", "{start}");
        for drive in &drives {
            let now = drive.loop_device.contents();
            let written = written_blocks(&image, &drive.before()[..IMAGE_LEN], &now[..IMAGE_LEN]);
            check_filesystems(work.path(), &now);
            // Outside the partitions: the image.
            assert_eq!(now[..EXT_AT], image[..EXT_AT]);
            assert_eq!(now[FAT_AT + FAT_LEN..IMAGE_LEN], image[FAT_AT + FAT_LEN..]);
            assert_kept_after(&now, drive.before(), IMAGE_LEN);
            let kept = written.iter().filter(|w| !**w).count() * 4096;
            assert!(
                kept > IMAGE_LEN / 2,
                "only {kept} bytes of {IMAGE_LEN} kept the old pattern"
            );
            let done = target_done(&events, drive.device());
            let written_bytes = done["written_bytes"].as_u64().unwrap();
            let verified_bytes = done["verified_bytes"].as_u64().unwrap();
            assert_eq!(written_bytes, verified_bytes, "{done}");
            let changed = written.iter().filter(|w| **w).count() as u64 * 4096;
            // What changed was written; the reported bytes are at least
            // that and far less than the image.
            assert!(
                written_bytes >= changed && written_bytes < IMAGE_LEN as u64 / 2,
                "{done}: {changed} bytes changed"
            );
        }
    }

    // --full: every byte, on a drive of another pattern.
    let drive = PatternedDrive::create(work.path(), "full.bin", size, 77);
    let out = flash_sparse(&raw, &[drive.device()], &["--json", "--full"]);
    assert_exit(&out, 0);
    let events = json_events(&out);
    assert_eq!(events[0]["map"], "full");
    let done = target_done(&events, drive.device());
    assert_eq!(done["written_bytes"], IMAGE_LEN as u64);
    assert_eq!(done["verified_bytes"], IMAGE_LEN as u64);
    drive.assert_holds(&ExpectedImage::from_bytes(image.clone()));
}

#[test]
fn verify_checks_the_used_bytes_and_full_checks_all() {
    require_root!();
    assert!(
        tools_present(),
        "e2fsprogs, dosfstools and mtools are needed"
    );
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let image = make_image(work.path());
    let raw = work.path().join("os.img");
    std::fs::write(&raw, &image).unwrap();
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(IMAGE_LEN), 31);
    assert_exit(&flash_sparse(&raw, &[drive.device()], &[]), 0);
    let verify = |full: bool| {
        let mut cmd = imprint();
        cmd.arg("verify").arg(&raw).arg("-t").arg(drive.device());
        if full {
            cmd.arg("--full");
        }
        cmd.output().unwrap()
    };
    assert_exit(&verify(false), 0);
    assert_exit(&verify(true), 1);

    let now = drive.loop_device.contents();
    let written = written_blocks(&image, &drive.before()[..IMAGE_LEN], &now[..IMAGE_LEN]);
    let backing = OpenOptions::new()
        .write(true)
        .open(&drive.loop_device.backing)
        .unwrap();
    let poke = |at: usize| {
        backing.write_all_at(&[now[at] ^ 0xFF], at as u64).unwrap();
        backing.sync_all().unwrap();
        // The loop device must not answer from its page cache.
        run(Command::new("blockdev")
            .arg("--flushbufs")
            .arg(drive.device()));
    };
    // A free block inside the ext4 partition: not checked by default.
    let free = (EXT_AT / 4096 + 100..FAT_AT / 4096)
        .find(|&b| !written[b])
        .expect("a free block in the ext4 partition");
    poke(free * 4096 + 7);
    let out = verify(false);
    assert_exit(&out, 0);
    // A used block in the FAT partition whose image bytes are not zero.
    let used = (FAT_AT / 4096 + 64..IMAGE_LEN / 4096)
        .rev()
        .find(|&b| written[b] && image[b * 4096..][..4096] != [0u8; 4096][..])
        .expect("a used block in the FAT partition");
    let at = used * 4096 + 11;
    poke(at);
    let out = verify(false);
    assert_exit(&out, 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&at.to_string())
            || String::from_utf8_lossy(&out.stdout).contains(&at.to_string()),
        "names byte {at}: {}",
        describe(&out)
    );
}

#[test]
fn a_file_target_receives_exactly_the_image_with_holes_for_free_zeros() {
    assert!(
        tools_present(),
        "e2fsprogs, dosfstools and mtools are needed"
    );
    let work = tempfile::tempdir().unwrap();
    let image = make_image(work.path());
    let raw = work.path().join("os.img");
    std::fs::write(&raw, &image).unwrap();
    let target = work.path().join("copy.img");
    // An existing file with other bytes, longer than the image.
    std::fs::write(&target, pseudo_random_bytes(IMAGE_LEN + MIB, 3)).unwrap();
    let out = flash_sparse(&raw, &[&target], &["--json"]);
    assert_exit(&out, 0);
    // The free space holds the deleted files' bytes: those are written too.
    ExpectedImage::from_bytes(image).assert_is(&std::fs::read(&target).unwrap(), "copy.img");
    use std::os::unix::fs::MetadataExt;
    let allocated = std::fs::metadata(&target).unwrap().blocks() * 512;
    assert!(
        allocated < IMAGE_LEN as u64 / 2,
        "{allocated} bytes allocated for a {IMAGE_LEN}-byte image with free zeros"
    );
}

/// With `--config` the configured boot partition is written whole (its
/// free clusters included), while the ext4 partitions, logical ones behind
/// the EBR chain included, are written sparsely and check clean.
#[test]
fn a_configured_boot_partition_is_written_whole_and_the_rest_sparsely() {
    require_root!();
    assert!(
        tools_present(),
        "e2fsprogs, dosfstools and mtools are needed"
    );
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let source = crate::support::balena_image::mbr_fat16_resin_boot(work.path());
    let config = work.path().join("config.json");
    std::fs::write(&config, crate::support::balena_image::FLEET_CONFIG).unwrap();
    let expected = work.path().join("expected.img");
    let configured = imprint()
        .arg("configure")
        .arg(&source.path)
        .arg("--config")
        .arg(&config)
        .arg("-o")
        .arg(&expected)
        .output()
        .unwrap();
    assert_exit(&configured, 0);
    let expected = std::fs::read(&expected).unwrap();
    let len = expected.len();
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(len), 12);
    let config_arg = config.to_str().unwrap();
    let out = flash_sparse(
        &source.path,
        &[drive.device()],
        &["--json", "--config", config_arg],
    );
    assert_exit(&out, 0);
    let now = drive.loop_device.contents();
    let boot = source.boot_offset as usize..(source.boot_offset + source.boot_size) as usize;
    assert!(
        now[boot.clone()] == expected[boot],
        "the boot partition differs"
    );
    let written = written_blocks(&expected, &drive.before()[..len], &now[..len]);
    // rootA, rootB, state (logical, 5), data (logical, 6).
    for (sector, mib) in [(40960, 8), (57344, 8), (75776, 4), (86016, 14)] {
        let part = sector * 512..sector * 512 + mib * MIB;
        let fs = work.path().join("part.ext4");
        std::fs::write(&fs, &now[part.clone()]).unwrap();
        run(Command::new("e2fsck").arg("-fn").arg(&fs));
        let kept = written[part.start / 4096..part.end / 4096]
            .iter()
            .filter(|w| !**w)
            .count();
        assert!(kept > 0, "partition at sector {sector} was written whole");
    }
    let events = json_events(&out);
    let done = target_done(&events, drive.device());
    let kept = written.iter().filter(|w| !**w).count() as u64 * 4096;
    // What was skipped was not counted as written.
    assert!(
        done["written_bytes"].as_u64().unwrap() <= len as u64 - kept,
        "{done}: {kept} bytes kept"
    );
}

//! `imprint backup` on loop devices: an ext4 + FAT32 drive whose free space
//! holds random bytes (files written and deleted) is backed up reading only
//! its used bytes (the loop device's own read counter says so), and the
//! `.img.zst` restores with `imprint flash` and with `bmaptool copy` onto
//! drives full of other random bytes: e2fsck and fsck.fat pass and every
//! file is equal (debugfs, mtools).

use std::path::Path;
use std::process::Command;

use super::sparse::{
    EXT_AT, EXT_LEN, FAT_AT, FAT_LEN, IMAGE_LEN, check_filesystems, run, tools_present,
};
use crate::require_root;
use crate::support::flashing::{
    PatternedDrive, assert_exit, describe, json_events, stderr, stdout,
};
use crate::support::loopdev::{LoopDevice, LoopLock};
use crate::support::{imprint, pseudo_random_bytes};

const MIB: usize = 1 << 20;

/// The files both filesystems hold (`work/files`, as `check_filesystems`
/// expects them).
fn files(dir: &Path) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (i, (name, len)) in [
        ("big.bin", 5 * MIB),
        ("sub/mid.bin", 700_000),
        ("small.txt", 999),
        ("empty", 0),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(dir.join(name), pseudo_random_bytes(len, 60 + i as u64)).unwrap();
    }
}

/// The drive: ext4 (p1) and FAT32 (p2) holding `work/files`, each with a
/// 30 MiB random file written and deleted first, so that most of their
/// free space is random bytes; a bootloader in the gap before p1.
pub(super) fn drive_image(work: &Path) -> Vec<u8> {
    let dir = work.join("files");
    files(&dir);
    let filler = work.join("filler.bin");
    std::fs::write(&filler, pseudo_random_bytes(30 * MIB, 99)).unwrap();
    let ext = work.join("p1.ext4");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-E", "nodiscard", "-d"])
        .arg(&dir)
        .arg(&ext)
        .arg(format!("{}M", EXT_LEN / MIB)));
    run(Command::new("debugfs")
        .arg("-w")
        .arg("-R")
        .arg(format!("write {} filler", filler.display()))
        .arg(&ext));
    run(Command::new("debugfs")
        .args(["-w", "-R", "rm /filler"])
        .arg(&ext));
    let fat = work.join("p2.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", "32", "-C"])
        .arg(&fat)
        .arg((FAT_LEN / 1024).to_string()));
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&fat)
        .arg(&filler)
        .arg("::/"));
    run(Command::new("mdel")
        .arg("-i")
        .arg(&fat)
        .arg("::/filler.bin"));
    for name in ["big.bin", "sub", "small.txt", "empty"] {
        run(Command::new("mcopy")
            .args(["-s", "-i"])
            .arg(&fat)
            .arg(dir.join(name))
            .arg("::/"));
    }
    let mut image = pseudo_random_bytes(IMAGE_LEN, 98);
    image[..MIB].fill(0);
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
    image[4096..8192].copy_from_slice(&pseudo_random_bytes(4096, 5));
    image[EXT_AT..FAT_AT].copy_from_slice(&std::fs::read(&ext).unwrap());
    image[FAT_AT..FAT_AT + FAT_LEN].copy_from_slice(&std::fs::read(&fat).unwrap());
    image
}

/// Sectors read from `/dev/loopN` so far (its `stat`, field 3), in bytes.
pub(super) fn bytes_read(device: &Path) -> u64 {
    let name = device.file_name().unwrap().to_string_lossy().into_owned();
    let stat = std::fs::read_to_string(format!("/sys/block/{name}/stat")).unwrap();
    let sectors: u64 = stat.split_whitespace().nth(2).unwrap().parse().unwrap();
    sectors * 512
}

/// The numbers of "read: N bytes (U used, M metadata)".
fn read_line(said: &str) -> (u64, u64, u64) {
    let line = said
        .lines()
        .find(|l| l.trim_start().starts_with("read: "))
        .unwrap_or_else(|| panic!("{said}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

#[test]
fn a_backup_reads_only_used_bytes_and_restores_with_imprint_and_bmaptool() {
    require_root!();
    assert!(
        tools_present(),
        "e2fsprogs, dosfstools and mtools are needed"
    );
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let image = drive_image(work.path());
    let source = LoopDevice::create_with(&work.path().join("source.bin"), &image);
    let _ = Command::new("udevadm").arg("settle").status();
    let out = work.path().join("card.img.zst");

    let before = bytes_read(&source.device);
    let output = imprint()
        .arg("backup")
        .arg(&source.device)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let read = bytes_read(&source.device) - before;
    assert_exit(&output, 0);
    let (said_read, used, metadata) = read_line(&stderr(&output));
    // Only the used bytes and the metadata that maps them were read (the
    // device's own counter agrees with what imprint says): the 30 MiB
    // deleted twice over is not.
    assert!(used < (IMAGE_LEN as u64) / 3, "used {used} of {IMAGE_LEN}");
    assert_eq!(said_read, used + metadata);
    let limit = (used + metadata) as f64 * 1.05;
    assert!(
        read >= used && (read as f64) <= limit,
        "read {read} for {used} used + {metadata} metadata"
    );
    eprintln!("read {read} bytes for {used} used + {metadata} metadata of {IMAGE_LEN}");
    let image_sha256 = stdout(&output)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    // The image's SHA-256 and the file's, as recorded.
    let sha_line = std::fs::read_to_string(work.path().join("card.img.zst.sha256")).unwrap();
    let check = Command::new("sha256sum")
        .arg("-c")
        .arg("card.img.zst.sha256")
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(check.status.success(), "{sha_line}: {}", describe(&check));
    let hash = imprint().arg("hash").arg(&out).output().unwrap();
    assert_eq!(
        stdout(&hash).split_whitespace().next(),
        Some(image_sha256.as_str())
    );

    // Restored with imprint flash (the bmap beside it is used and checked).
    let mut target = PatternedDrive::create(work.path(), "restore1.bin", IMAGE_LEN + MIB, 0x5151);
    let flashed = imprint()
        .arg("flash")
        .arg(&out)
        .arg("-t")
        .arg(target.device())
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert_exit(&flashed, 0);
    let start = &json_events(&flashed)[0];
    assert_eq!(start["map"], "bmap", "{}", describe(&flashed));
    check_filesystems(work.path(), &target.loop_device.contents());
    target.remember_contents();

    // Restored with bmaptool copy.
    let target2 = PatternedDrive::create(work.path(), "restore2.bin", IMAGE_LEN + MIB, 0x5252);
    let copied = Command::new("bmaptool")
        .arg("copy")
        .arg("--bmap")
        .arg(work.path().join("card.img.zst.bmap"))
        .arg(&out)
        .arg(target2.device())
        .output()
        .unwrap();
    assert!(
        copied.status.success(),
        "bmaptool copy: {}",
        describe(&copied)
    );
    check_filesystems(work.path(), &target2.loop_device.contents());
}

#[test]
fn every_format_restores_the_same_image() {
    require_root!();
    assert!(
        tools_present(),
        "e2fsprogs, dosfstools and mtools are needed"
    );
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let image = drive_image(work.path());
    let source = LoopDevice::create_with(&work.path().join("source.bin"), &image);
    let mut sums = Vec::new();
    for name in ["card.img", "card.img.xz", "card.img.gz"] {
        let out = work.path().join(name);
        let output = imprint()
            .arg("backup")
            .arg(&source.device)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert_exit(&output, 0);
        sums.push(stdout(&output));
        let hash = imprint().arg("hash").arg(&out).output().unwrap();
        assert_eq!(
            stdout(&hash).split_whitespace().next(),
            stdout(&output).split_whitespace().next(),
            "{name}"
        );
    }
    assert!(sums.windows(2).all(|w| w[0] == w[1]), "{sums:?}");
    // The raw image is sparse: its free space takes no blocks.
    let raw = work.path().join("card.img");
    let blocks = std::os::unix::fs::MetadataExt::blocks(&std::fs::metadata(&raw).unwrap()) * 512;
    assert!(blocks < IMAGE_LEN as u64 / 2, "{blocks} bytes allocated");
    let restored = std::fs::read(&raw).unwrap();
    check_filesystems(work.path(), &restored);
    assert!(
        stderr(
            &imprint()
                .arg("backup")
                .arg(&source.device)
                .arg("-o")
                .arg(work.path().join("card.img.bz2"))
                .output()
                .unwrap()
        )
        .contains(".img.zst")
    );
}

//! Partition layouts whose free space is not what one table says
//! (docs/architecture.md §2, "free means free everywhere"), flashed sparse
//! onto loop devices full of random bytes and read back with independent
//! tools: an isohybrid ISO made by xorriso (a GPT entry for the EFI FAT
//! image that is a file of the ISO), a plain MBR over a stale GPT, and a
//! stream cut short that must fail rather than be written as the image.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, describe, drive_size_for, flash_sparse, stderr,
    stdout,
};
use crate::support::loopdev::LoopLock;
use crate::support::{imprint, pseudo_random_bytes, sha256_hex};

const MIB: usize = 1 << 20;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run a tool");
    assert!(out.status.success(), "{cmd:?}: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn mbr_entry(image: &mut [u8], slot: usize, kind: u8, at: usize, len: usize) {
    let e = 446 + 16 * slot;
    image[e + 4] = kind;
    image[e + 8..e + 12].copy_from_slice(&((at / 512) as u32).to_le_bytes());
    image[e + 12..e + 16].copy_from_slice(&((len / 512) as u32).to_le_bytes());
    image[510] = 0x55;
    image[511] = 0xAA;
}

/// An isohybrid ISO: files, an 8 MiB EFI FAT image holding one file (the
/// rest of it free clusters), `md5sum.txt` of them all; its GPT has an
/// entry for the EFI image, which is a file inside the ISO 9660 volume.
fn make_iso(work: &Path) -> Vec<u8> {
    let root = work.join("root");
    fs::create_dir_all(root.join("boot")).unwrap();
    fs::create_dir_all(root.join("live")).unwrap();
    fs::write(
        root.join("live/filesystem.bin"),
        pseudo_random_bytes(3 * MIB, 1),
    )
    .unwrap();
    fs::write(root.join("live/small.txt"), b"the live system\n").unwrap();
    let efi = root.join("boot/efi.img");
    run(Command::new("mkfs.vfat").arg("-C").arg(&efi).arg("8192"));
    let grub = work.join("grubx64.efi");
    fs::write(&grub, pseudo_random_bytes(300_000, 2)).unwrap();
    run(Command::new("mcopy")
        .arg("-i")
        .arg(&efi)
        .arg(&grub)
        .arg("::/"));
    let sums = run(Command::new("md5sum")
        .args(["boot/efi.img", "live/filesystem.bin", "live/small.txt"])
        .current_dir(&root));
    fs::write(root.join("md5sum.txt"), sums).unwrap();
    let iso = work.join("live.iso");
    run(Command::new("xorriso")
        .args(["-as", "mkisofs", "-r", "-J", "-V", "LIVE", "-o"])
        .arg(&iso)
        .args(["-e", "boot/efi.img", "-no-emul-boot"])
        .args(["-efi-boot-part", "--efi-boot-image"])
        .arg(&root));
    let bytes = fs::read(&iso).unwrap();
    // The layout this test is about: a GPT entry for the EFI image, inside
    // the ISO 9660 volume.
    let table = run(Command::new("sfdisk").arg("-d").arg(&iso));
    assert!(table.contains("label: gpt"), "{table}");
    assert_eq!(&bytes[32769..32774], b"CD001");
    bytes
}

#[test]
fn an_isohybrid_iso_reads_back_whole_from_a_drive_of_random_bytes() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let iso = make_iso(work.path());
    let path = work.path().join("live.iso");
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(iso.len()), 31);
    let out = flash_sparse(&path, &[drive.device()], &[]);
    assert_exit(&out, 0);
    // The kernel (and a firmware) read the drive's bytes over the image's
    // length: they are the image's, the drive's own after it.
    drive.assert_holds(&ExpectedImage::from_bytes(iso.clone()));
    // xorriso reads the ISO from the device; every file matches its md5.
    let back = work.path().join("back");
    run(Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(format!("stdio:{}", drive.device().display()))
        .args(["-extract", "/"])
        .arg(&back));
    run(Command::new("md5sum")
        .args(["--quiet", "-c", "md5sum.txt"])
        .current_dir(&back));
}

/// 64 MiB: a GPT (protective MBR) with a FAT32 partition at 1 MiB, then the
/// MBR rewritten as a plain DOS table with an ext4 partition at 2 MiB that
/// holds `files`; the old GPT (primary and backup) stays valid.
fn make_stale_gpt_image(work: &Path, files: &Path) -> (Vec<u8>, usize, usize) {
    let (len, ext_at) = (64 * MIB, 2 * MIB);
    let ext_len = len - ext_at - MIB;
    let disk = work.join("stale.img");
    fs::write(&disk, vec![0u8; len]).unwrap();
    let mut sfdisk = Command::new("sfdisk")
        .args(["-q", "--no-reread", "--no-tell-kernel"])
        .arg(&disk)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        sfdisk.stdin.as_mut().unwrap(),
        b"label: gpt\nstart=2048, size=126976, type=uefi\n",
    )
    .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    let fat = work.join("old.fat");
    run(Command::new("mkfs.vfat")
        .args(["-F", "32", "-C"])
        .arg(&fat)
        .arg((126976 / 2).to_string()));
    let ext = work.join("new.ext4");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d"])
        .arg(files)
        .arg(&ext)
        .arg(format!("{}K", ext_len / 1024)));
    let mut image = fs::read(&disk).unwrap();
    image[MIB..][..126976 * 512].copy_from_slice(&fs::read(&fat).unwrap());
    image[ext_at..ext_at + ext_len].copy_from_slice(&fs::read(&ext).unwrap());
    image[446..510].fill(0);
    mbr_entry(&mut image, 0, 0x83, ext_at, ext_len);
    fs::write(&disk, &image).unwrap();
    // Linux's tools read the MBR; the GPT behind it is still intact.
    let table = run(Command::new("sfdisk").arg("-d").arg(&disk));
    assert!(table.contains("label: dos"), "{table}");
    assert_eq!(&image[512..520], b"EFI PART");
    (image, ext_at, ext_len)
}

#[test]
fn a_plain_mbr_over_a_stale_gpt_keeps_its_ext4_whole() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let files = work.path().join("files");
    fs::create_dir_all(files.join("sub")).unwrap();
    fs::write(files.join("big.bin"), pseudo_random_bytes(9 * MIB, 3)).unwrap();
    fs::write(files.join("sub/small.txt"), b"ext4 data\n").unwrap();
    let (image, ext_at, ext_len) = make_stale_gpt_image(work.path(), &files);
    let path = work.path().join("stale.img");
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(image.len()), 32);
    let out = flash_sparse(&path, &[drive.device()], &[]);
    assert_exit(&out, 0);
    let now = drive.loop_device.contents();
    let ext = work.path().join("check.ext4");
    fs::write(&ext, &now[ext_at..ext_at + ext_len]).unwrap();
    run(Command::new("e2fsck").arg("-fn").arg(&ext));
    let back = work.path().join("back");
    fs::create_dir_all(&back).unwrap();
    run(Command::new("debugfs")
        .arg("-R")
        .arg(format!("rdump / {}", back.display()))
        .arg(&ext));
    fs::remove_dir_all(back.join("lost+found")).unwrap();
    run(Command::new("diff").arg("-r").arg(&files).arg(&back));
    // Outside the ext4 partition (the stale GPT and FAT among it): the image.
    assert!(now[..ext_at] == image[..ext_at]);
    assert!(now[ext_at + ext_len..image.len()] == image[ext_at + ext_len..]);
}

/// `head -c LEN FILE | imprint ARGS…`.
fn run_with_cut_pipe(args: &[&std::ffi::OsStr], input: &Path, len: usize) -> Output {
    let mut head = Command::new("head")
        .arg("-c")
        .arg(len.to_string())
        .arg(input)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = imprint()
        .args(args)
        .stdin(head.stdout.take().unwrap())
        .output()
        .unwrap();
    head.wait().unwrap();
    out
}

#[test]
fn a_stream_cut_before_its_partition_tables_end_fails_the_source() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    let len = 16 * MIB;
    let mut image = pseudo_random_bytes(len, 4);
    image[..MIB].fill(0);
    mbr_entry(&mut image, 0, 0x83, MIB, len - MIB);
    let path = work.path().join("os.img");
    fs::write(&path, &image).unwrap();
    let drive = PatternedDrive::create(work.path(), "d.bin", drive_size_for(len), 33);
    let dev = drive.device().as_os_str();
    let flash: Vec<&std::ffi::OsStr> = vec![
        "flash".as_ref(),
        "-".as_ref(),
        "-t".as_ref(),
        dev,
        "--yes".as_ref(),
    ];
    let hash: Vec<&std::ffi::OsStr> = vec!["hash".as_ref(), "-".as_ref()];

    let half = len / 2;
    let out = run_with_cut_pipe(&flash, &path, half);
    assert_exit(&out, 1);
    let message = stderr(&out);
    assert!(
        message.contains(&format!("ended at byte {half}, before byte {len}")),
        "{}",
        describe(&out)
    );
    let out = run_with_cut_pipe(&hash, &path, half);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stdout(&out).is_empty(), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&format!("ended at byte {half}, before byte {len}")),
        "{}",
        describe(&out)
    );

    // The whole stream is the image.
    let out = run_with_cut_pipe(&flash, &path, len);
    assert_exit(&out, 0);
    drive.assert_holds(&ExpectedImage::from_bytes(image.clone()));
    let out = run_with_cut_pipe(&hash, &path, len);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).starts_with(&sha256_hex(&image)),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_drive_smaller_than_the_disk_a_gpt_records_is_refused_when_the_format_records_no_size() {
    require_root!();
    let _lock = LoopLock::acquire();
    let work = tempfile::tempdir().unwrap();
    // A 48 MiB GPT disk image whose last 40 MiB are zeros, in bzip2 (which
    // records no size): the GPT's backup header says where it ends.
    let raw = work.path().join("disk.img");
    fs::write(&raw, vec![0u8; 48 * MIB]).unwrap();
    let mut sfdisk = Command::new("sfdisk")
        .args(["-q", "--no-reread", "--no-tell-kernel"])
        .arg(&raw)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        sfdisk.stdin.as_mut().unwrap(),
        b"label: gpt\nstart=2048, size=8192, type=linux\n",
    )
    .unwrap();
    assert!(sfdisk.wait().unwrap().success());
    let bz2 = crate::support::flashing::compress("bzip2", &raw, ".bz2");
    let small = PatternedDrive::create(work.path(), "small.bin", 32 * MIB, 34);
    let out = flash_sparse(&bz2, &[small.device()], &["--dry-run"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "too small: the image needs 50 MB ({} bytes)",
            48 * MIB
        )),
        "{}",
        describe(&out)
    );
    let big = PatternedDrive::create(work.path(), "big.bin", 64 * MIB, 35);
    let out = flash_sparse(&bz2, &[big.device()], &["--dry-run"]);
    assert_exit(&out, 0);
}

//! Mounted drives, inside a private mount namespace (`unshare -m`) so that
//! nothing outside the test sees the mounts: a drive mounted at `/boot` is
//! the system drive and is refused; a drive mounted anywhere else is
//! unmounted and flashed.

use std::path::Path;
use std::process::{Command, Output};

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, describe, drive_size_for, stderr, stdout,
};
use crate::support::loopdev::LoopLock;
use crate::support::{TEST_IMG_BYTES, fixture};

/// Printed by the namespace's shell when the drive is still mounted after
/// `imprint` ended.
const STILL_MOUNTED: &str = "imprint-test: still mounted";

/// In a private mount namespace: mounts `device` at `mount_point`, runs
/// `imprint flash IMAGE -t DEVICE --yes`, then reports whether the device is
/// still mounted. The exit code is imprint's.
fn flash_while_mounted(device: &Path, mount_options: &str, mount_point: &Path) -> Output {
    let script = r#"
        mount -o "$OPTIONS" "$DEVICE" "$MOUNT_POINT" || exit 99
        "$IMPRINT" flash "$IMAGE" -t "$DEVICE" --yes
        code=$?
        if grep -q "^$DEVICE " /proc/self/mounts; then echo "$STILL_MOUNTED"; fi
        exit $code
    "#;
    let output = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script])
        .env("OPTIONS", mount_options)
        .env("DEVICE", device)
        .env("MOUNT_POINT", mount_point)
        .env("IMPRINT", env!("CARGO_BIN_EXE_imprint"))
        .env("IMAGE", fixture("test.img.xz"))
        .env("STILL_MOUNTED", STILL_MOUNTED)
        .output()
        .expect("run unshare");
    assert_ne!(
        output.status.code(),
        Some(99),
        "mounting {} failed\n{}",
        device.display(),
        describe(&output)
    );
    output
}

/// A drive holding a fresh ext4 filesystem (its bytes taken as "before").
/// ext4 rather than FAT: not every kernel the tests run on has vfat. No
/// journal and no lazy inode-table initialisation, so that mounting it writes
/// nothing past the filesystem's first blocks.
fn drive_with_filesystem(dir: &Path) -> PatternedDrive {
    let mut drive = PatternedDrive::create(dir, "fs.bin", drive_size_for(TEST_IMG_BYTES), 7);
    let mkfs = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-O", "^has_journal", "-E", "lazy_itable_init=0"])
        .args(["-L", "IMPRINTTEST"])
        .arg(drive.device())
        .output()
        .expect("run mkfs.ext4");
    assert!(mkfs.status.success(), "mkfs.ext4: {mkfs:?}");
    drive.remember_contents();
    drive
}

#[test]
fn drive_mounted_at_boot_is_refused_as_the_system_drive() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = drive_with_filesystem(dir.path());

    // Read-only, so that the mount itself writes nothing to the drive.
    let output = flash_while_mounted(drive.device(), "ro", Path::new("/boot"));

    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains(&drive.name())
            && message.contains("system drive")
            && message.contains("/boot"),
        "the refusal names the drive, /boot and says system drive: {message}"
    );
    assert!(
        stdout(&output).contains(STILL_MOUNTED),
        "a refused drive is left mounted\n{}",
        describe(&output)
    );
    drive.assert_unchanged();
}

#[test]
fn drive_mounted_elsewhere_is_unmounted_and_flashed() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = drive_with_filesystem(dir.path());
    let mount_point = dir.path().join("mnt");
    std::fs::create_dir(&mount_point).unwrap();

    let output = flash_while_mounted(drive.device(), "rw", &mount_point);

    assert_exit(&output, 0);
    assert!(
        !stdout(&output).contains(STILL_MOUNTED),
        "the drive was unmounted\n{}",
        describe(&output)
    );
    drive.assert_holds(&ExpectedImage::test_img());
}

//! One storage, one name: two loop devices over one backing file are one
//! drive (as the image and a target, and as two targets); a partition next
//! to the one holding the image is not "holding the image". Each refusal is
//! exit 2 with every byte unchanged.

use std::fs;
use std::path::{Path, PathBuf};

use super::holds_image::{assert_refused, in_private_mounts, partitioned_drive, write_image};
use crate::require_root;
use crate::support::flashing::{PatternedDrive, assert_exit, describe, flash, stderr};
use crate::support::loopdev::{LoopDevice, LoopLock};

/// A patterned drive (`seed`) and a second loop device over its file: one
/// storage under two names.
fn one_file_two_names(dir: &Path, seed: u64) -> (PatternedDrive, LoopDevice) {
    let drive = PatternedDrive::create(dir, "shared.bin", 8 << 20, seed);
    let second_name = LoopDevice::attach(&drive.loop_device.backing, false);
    (drive, second_name)
}

/// An image of `len` bytes and an empty folder to mount a partition on.
fn image_and_mount_point(dir: &Path, len: usize) -> (PathBuf, PathBuf) {
    let (image, _) = write_image(dir, len);
    let mount_point = dir.join("mnt");
    fs::create_dir(&mount_point).unwrap();
    (image, mount_point)
}

#[test]
fn two_loop_devices_over_one_file_as_image_and_target_are_refused_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (drive, second_name) = one_file_two_names(dir.path(), 0x5A);

    // Cloning the drive onto itself under its other name.
    let output = flash(drive.device(), &[&second_name.device], &[]);
    assert_refused(&output, &second_name.device, "same storage as the image");
    drive.assert_unchanged();
}

#[test]
fn two_loop_devices_over_one_file_as_two_targets_are_refused_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (image, _) = write_image(dir.path(), 1 << 20);
    let (drive, second_name) = one_file_two_names(dir.path(), 0x5B);

    let output = flash(&image, &[drive.device(), &second_name.device], &[]);
    assert_refused(&output, &second_name.device, "same storage as target");
    assert!(
        stderr(&output).contains(&drive.name()),
        "the refusal names the other target\n{}",
        describe(&output)
    );
    drive.assert_unchanged();

    // A loop device and its backing file, both as targets.
    let backing = drive.loop_device.backing.clone();
    let output = flash(&image, &[drive.device(), &backing], &[]);
    assert_exit(&output, 2);
    drive.assert_unchanged();
}

/// The image on a mounted filesystem of partition 1, the target partition 2
/// of the same drive: writing partition 2 leaves partition 1 whole, so it
/// is written, and the image on partition 1 is intact afterwards.
#[test]
fn a_partition_next_to_the_one_holding_the_image_is_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (_drive, nodes) = partitioned_drive(
        dir.path(),
        "drive.bin",
        (24 << 20, 0xD15D),
        "label: dos\nstart=2048, size=16384, type=83\nstart=18432, size=16384, type=83\n",
        2,
    );
    let (p1, p2) = (&nodes[0], &nodes[1]);
    let (image, mount_point) = image_and_mount_point(dir.path(), 3 << 20);
    let script = r#"
        mkfs.ext4 -q -F "$P1" >/dev/null 2>&1 || exit 99
        mount "$P1" "$MNT" || exit 99
        cp "$IMAGE" "$MNT/image.img" || exit 99
        "$IMPRINT" flash "$MNT/image.img" -t "$P2" --yes --full
        code=$?
        cmp -s "$IMAGE" "$MNT/image.img" && echo "image intact"
        cmp -s -n 3145728 "$IMAGE" "$P2" && echo "partition 2 holds the image"
        exit $code
    "#;
    let output = in_private_mounts(
        script,
        &[
            ("P1", p1),
            ("P2", p2),
            ("MNT", &mount_point),
            ("IMAGE", &image),
        ],
    );
    assert!(
        !stderr(&output).contains("holds the image"),
        "partition 2 does not hold the image\n{}",
        describe(&output)
    );
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("image intact") && stdout.contains("partition 2 holds the image"),
        "{}",
        describe(&output)
    );
}

/// The drive as a whole still holds an image on one of its partitions.
#[test]
fn the_whole_drive_of_the_partition_holding_the_image_is_still_refused() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (drive, nodes) = partitioned_drive(
        dir.path(),
        "drive.bin",
        (24 << 20, 0xD15E),
        "label: dos\nstart=2048, size=16384, type=83\n",
        1,
    );
    let p1 = &nodes[0];
    let (image, mount_point) = image_and_mount_point(dir.path(), 1 << 20);
    let script = r#"
        mkfs.ext4 -q -F "$P1" >/dev/null 2>&1 || exit 99
        mount "$P1" "$MNT" || exit 99
        cp "$IMAGE" "$MNT/image.img" || exit 99
        "$IMPRINT" flash "$MNT/image.img" -t "$DRIVE" --yes
    "#;
    let output = in_private_mounts(
        script,
        &[
            ("P1", p1),
            ("DRIVE", &drive.device),
            ("MNT", &mount_point),
            ("IMAGE", &image),
        ],
    );
    assert_refused(&output, &drive.device, "holds the image");
}

//! Targets that hold the image, or are stored in it, are refused before
//! anything is written (exit 2), through every path by which a device can
//! store a file: a loop device over the image file (and that file as the
//! target when the loop device is the image), the image being the
//! drive or one of its partitions, the image on a mounted filesystem of the
//! drive or of one of its partitions (ext4, and btrfs whose files carry no
//! real device number), on a
//! loop device whose backing file is on the drive, and the reverse — a loop
//! device stored on a filesystem of a drive used as the image. The image's
//! bytes are unchanged every time.
//!
//! Mounts happen inside a private mount namespace (`unshare -m`), so nothing
//! outside the test sees them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::require_root;
use crate::support::flashing::{PatternedDrive, assert_exit, describe, flash, stderr};
use crate::support::loopdev::{LoopDevice, LoopLock};
use crate::support::pseudo_random_bytes;

/// Runs `script` with `sh` in a private mount namespace, with `env` and
/// `$IMPRINT` set. Exit code 99 from the script means its setup failed.
pub(super) fn in_private_mounts(script: &str, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new("unshare");
    command
        .args(["-m", "--propagation", "private", "sh", "-c", script])
        .env("IMPRINT", env!("CARGO_BIN_EXE_imprint"));
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run unshare");
    assert_ne!(
        output.status.code(),
        Some(99),
        "the test's setup failed\n{}",
        describe(&output)
    );
    output
}

/// A raw image of pseudo-random bytes at `dir/image.img`.
pub(super) fn write_image(dir: &Path, len: usize) -> (PathBuf, Vec<u8>) {
    let path = dir.join("image.img");
    let bytes = pseudo_random_bytes(len, 0x1A6E);
    fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

pub(super) fn assert_refused(output: &Output, target: &Path, reason: &str) {
    assert_exit(output, 2);
    let message = stderr(output);
    assert!(
        message.contains(&target.display().to_string()) && message.contains(reason),
        "the refusal names {} and says {reason:?}: {message}",
        target.display()
    );
}

#[test]
fn a_loop_device_over_the_image_file_is_refused_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (image, before) = write_image(dir.path(), 3 << 20);
    let over_image = LoopDevice::attach(&image, false);

    let output = flash(&image, &[&over_image.device], &[]);
    assert_refused(&output, &over_image.device, "writes into the image");

    // The same image as standard input: /dev/stdin tells what it really is.
    let output = crate::support::imprint()
        .args(["flash", "/dev/stdin", "-t"])
        .arg(&over_image.device)
        .arg("--yes")
        .stdin(Stdio::from(fs::File::open(&image).unwrap()))
        .output()
        .unwrap();
    assert_refused(&output, &over_image.device, "writes into the image");

    // The reverse: the loop device as the image, its backing file the target.
    let output = flash(&over_image.device, &[&image], &[]);
    assert_refused(&output, &image, "holds the image");
    assert!(fs::read(&image).unwrap() == before, "the image was changed");
}

#[test]
fn the_image_being_the_drive_or_one_of_its_partitions_is_refused_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("drive.bin");
    fs::write(&backing, pseudo_random_bytes(8 << 20, 0xD15C)).unwrap();
    partition(&backing, "label: dos\nstart=2048, size=8192, type=83\n");
    let before = fs::read(&backing).unwrap();
    let drive = attach_partitioned(&backing);
    let partition = PathBuf::from(format!("{}p1", drive.device.display()));
    wait_for_node(&partition);

    for image in [&drive.device, &partition] {
        let output = flash(image, &[&drive.device], &[]);
        assert_refused(&output, &drive.device, "is the image's own drive");
    }
    assert!(drive.contents() == before, "the drive was changed");
}

#[test]
fn an_image_on_a_mounted_ext4_of_the_drive_is_refused_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = PatternedDrive::create(dir.path(), "drive.bin", 16 << 20, 7);
    image_on_mounted_filesystem_is_refused(dir.path(), drive.device(), "mkfs.ext4 -q -F");
}

/// The image's filesystem device is a partition: its drive holds it.
#[test]
fn an_image_on_a_mounted_partition_of_the_drive_is_refused_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (drive, nodes) = partitioned_drive(
        dir.path(),
        "drive.bin",
        (16 << 20, 0xA11),
        "label: dos\nstart=2048, size=28672, type=83\n",
        1,
    );
    image_on_mounted_filesystem_of(dir.path(), &nodes[0], &drive.device, "mkfs.ext4 -q -F");
}

/// btrfs gives its files an anonymous device number, not the drive's: the
/// mount table has to tell which drive holds them.
#[test]
fn an_image_on_a_mounted_btrfs_of_the_drive_is_refused_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    // btrfs needs 114 MB; sparse, so it costs nothing.
    let backing = dir.path().join("drive.bin");
    fs::File::create(&backing)
        .unwrap()
        .set_len(128 << 20)
        .unwrap();
    let drive = LoopDevice::attach(&backing, false);
    image_on_mounted_filesystem_is_refused(dir.path(), &drive.device, "mkfs.btrfs -q -f");
}

/// Makes a filesystem on `device` with `mkfs`, mounts it, copies a 3 MiB
/// image onto it and flashes that image to `device`: refused, the drive
/// left mounted and the image's bytes unchanged.
fn image_on_mounted_filesystem_is_refused(dir: &Path, device: &Path, mkfs: &str) {
    image_on_mounted_filesystem_of(dir, device, device, mkfs);
}

/// [`image_on_mounted_filesystem_is_refused`] with the filesystem on
/// `filesystem` (the drive or one of its partitions) and `drive` the target.
fn image_on_mounted_filesystem_of(dir: &Path, filesystem: &Path, drive: &Path, mkfs: &str) {
    let (image, before) = write_image(dir, 3 << 20);
    let mount_point = dir.join("mnt");
    fs::create_dir(&mount_point).unwrap();
    let script = r#"
        $MKFS "$FILESYSTEM" >/dev/null 2>&1 || exit 99
        mount "$FILESYSTEM" "$MNT" || exit 99
        cp "$IMAGE" "$MNT/image.img" || exit 99
        "$IMPRINT" flash "$MNT/image.img" -t "$DEVICE" --yes
        code=$?
        cmp -s "$IMAGE" "$MNT/image.img" && echo "image intact"
        grep -q "^$FILESYSTEM " /proc/self/mounts && echo "still mounted"
        exit $code
    "#;
    let output = in_private_mounts(
        script,
        &[
            ("MKFS", Path::new(mkfs)),
            ("FILESYSTEM", filesystem),
            ("DEVICE", drive),
            ("MNT", &mount_point),
            ("IMAGE", &image),
        ],
    );
    assert_refused(&output, drive, "holds the image");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("image intact") && stdout.contains("still mounted"),
        "the image on the drive is intact and the drive still mounted\n{}",
        describe(&output)
    );
    assert!(fs::read(&image).unwrap() == before);
}

/// A drive with ext4 mounted; on it the backing file of a second loop
/// device with ext4 mounted; on that the image. The drive is refused as the
/// image's holder two levels down. And the reverse: the drive itself as the
/// image, the second loop device (stored on it) as the target.
#[test]
fn loop_devices_stacked_on_a_drive_holding_the_image_are_followed_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = PatternedDrive::create(dir.path(), "drive.bin", 16 << 20, 9);
    let (image, before) = write_image(dir.path(), 1 << 20);
    for name in ["outer", "inner"] {
        fs::create_dir(dir.path().join(name)).unwrap();
    }
    let script = r#"
        mkfs.ext4 -q -F "$DEVICE" >/dev/null 2>&1 || exit 99
        mount "$DEVICE" "$DIR/outer" || exit 99
        truncate -s 8M "$DIR/outer/inner.bin" || exit 99
        inner=$(losetup -f --show "$DIR/outer/inner.bin") || exit 99
        trap 'umount "$DIR/inner" 2>/dev/null; losetup -d "$inner"' EXIT
        mkfs.ext4 -q -F "$inner" >/dev/null 2>&1 || exit 99
        mount "$inner" "$DIR/inner" || exit 99
        cp "$IMAGE" "$DIR/inner/image.img" || exit 99
        "$IMPRINT" flash "$DIR/inner/image.img" -t "$DEVICE" --yes 2>"$DIR/holder.err"
        echo "holder exit $?"
        cmp -s "$IMAGE" "$DIR/inner/image.img" && echo "image intact"
        umount "$DIR/inner" || exit 99
        # A drive read as the image must not be mounted read-write: the
        # inner loop device goes read-only, and so does the drive's mount.
        losetup -d "$inner" || exit 99
        inner=$(losetup -r -f --show "$DIR/outer/inner.bin") || exit 99
        mount -o remount,ro "$DIR/outer" || exit 99
        "$IMPRINT" flash "$DEVICE" -t "$inner" --yes 2>"$DIR/reverse.err"
        echo "reverse exit $? target $inner"
    "#;
    let output = in_private_mounts(
        script,
        &[
            ("DEVICE", drive.device()),
            ("DIR", dir.path()),
            ("IMAGE", &image),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let holder = fs::read_to_string(dir.path().join("holder.err")).unwrap();
    assert!(
        stdout.contains("holder exit 2")
            && stdout.contains("image intact")
            && holder.contains(&drive.name())
            && holder.contains("holds the image"),
        "the drive under the loop device under the image is refused: {holder}\n{}",
        describe(&output)
    );
    let reverse = fs::read_to_string(dir.path().join("reverse.err")).unwrap();
    assert!(
        stdout.contains("reverse exit 2") && reverse.contains("writes into the image"),
        "a loop device stored on the drive being read is refused: {reverse}\n{}",
        describe(&output)
    );
    assert!(fs::read(&image).unwrap() == before);
}

/// Writes the partition table `script` (sfdisk's input) into `backing`.
pub(super) fn partition(backing: &Path, script: &str) {
    let sfdisk = Command::new("sfdisk")
        .arg("-q")
        .arg(backing)
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            child.wait()
        })
        .expect("run sfdisk");
    assert!(sfdisk.success(), "sfdisk failed");
}

/// `losetup -P`: the kernel reads the partition table and makes `…p1`;
/// `partx -u` adds the partitions where the kernel has no parser for the
/// table (minimal VM kernels), so the nodes exist either way.
pub(super) fn attach_partitioned(backing: &Path) -> LoopDevice {
    let out = Command::new("losetup")
        .args(["-P", "-f", "--show"])
        .arg(backing)
        .output()
        .expect("run losetup");
    assert!(
        out.status.success(),
        "losetup -P failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drive = LoopDevice {
        device: PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
        backing: backing.to_path_buf(),
    };
    let partx = Command::new("partx")
        .arg("-u")
        .arg(&drive.device)
        .output()
        .expect("run partx");
    assert!(
        partx.status.success(),
        "partx -u failed: {}",
        String::from_utf8_lossy(&partx.stderr)
    );
    drive
}

/// A drive `name` in `dir` of `len` pseudo-random bytes (`seed`), its
/// partition table `table` (sfdisk's input), attached with the nodes of its
/// first `parts` partitions (`…p1`, `…p2`…) present; the device and those
/// nodes.
pub(super) fn partitioned_drive(
    dir: &Path,
    name: &str,
    (len, seed): (usize, u64),
    table: &str,
    parts: u32,
) -> (LoopDevice, Vec<PathBuf>) {
    let backing = dir.join(name);
    fs::write(&backing, pseudo_random_bytes(len, seed)).unwrap();
    partition(&backing, table);
    let drive = attach_partitioned(&backing);
    let nodes: Vec<PathBuf> = (1..=parts)
        .map(|n| PathBuf::from(format!("{}p{n}", drive.device.display())))
        .collect();
    nodes.iter().for_each(|node| wait_for_node(node));
    (drive, nodes)
}

/// devtmpfs makes partition nodes right after they are added, but not in
/// the same instant.
pub(super) fn wait_for_node(node: &Path) {
    for _ in 0..100 {
        if node.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} never appeared", node.display());
}

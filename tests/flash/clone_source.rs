//! A drive as the image ("clone a drive") must not change while it is
//! read: one another program holds exclusively (another run writing it) is
//! refused, so is one with a filesystem mounted read-write (the refusal
//! names the mount point); one mounted read-only is copied.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;

use super::holds_image::{in_private_mounts, partitioned_drive};
use crate::require_root;
use crate::support::flashing::{PatternedDrive, assert_exit, describe, flash, stderr};
use crate::support::loopdev::LoopLock;

#[test]
fn a_source_drive_held_exclusively_by_another_program_is_refused_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let source = PatternedDrive::create(dir.path(), "source.bin", 4 << 20, 0xC1);
    let target = PatternedDrive::create(dir.path(), "target.bin", 8 << 20, 0xC2);
    // What another run writing the source does: hold it O_EXCL.
    let holder = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_EXCL)
        .open(source.device())
        .unwrap();
    let output = flash(source.device(), &[target.device()], &[]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("open exclusively"),
        "{}",
        describe(&output)
    );
    target.assert_unchanged();
    // The drive redirected into standard input, the same.
    let output = crate::support::imprint()
        .args(["flash", "-", "-t"])
        .arg(target.device())
        .args(["--yes", "--full"])
        .stdin(fs::File::open(source.device()).unwrap())
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("open exclusively"),
        "{}",
        describe(&output)
    );
    target.assert_unchanged();
    drop(holder);
    // Free again, it is cloned.
    let output = flash(source.device(), &[target.device()], &[]);
    assert_exit(&output, 0);
    let copied = target.loop_device.contents();
    assert!(copied[..4 << 20] == *source.before(), "the clone differs");
}

/// A partitioned source drive with ext4 on partition 1: mounted read-write
/// it is refused naming the mount point, mounted read-only it is copied.
#[test]
fn a_source_drive_mounted_read_write_is_refused_and_read_only_is_copied() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (source, nodes) = partitioned_drive(
        dir.path(),
        "source.bin",
        (12 << 20, 0xC3),
        "label: dos\nstart=2048, size=16384, type=83\n",
        1,
    );
    let p1 = &nodes[0];
    let target = PatternedDrive::create(dir.path(), "target.bin", 16 << 20, 0xC4);
    let mount_point = dir.path().join("mnt");
    fs::create_dir(&mount_point).unwrap();
    let script = r#"
        mkfs.ext4 -q -F "$P1" >/dev/null 2>&1 || exit 99
        mount "$P1" "$MNT" || exit 99
        "$IMPRINT" flash "$SOURCE" -t "$TARGET" --yes --full
    "#;
    let env = [
        ("P1", p1.as_path()),
        ("MNT", mount_point.as_path()),
        ("SOURCE", source.device.as_path()),
        ("TARGET", target.device()),
    ];
    let output = in_private_mounts(script, &env);
    assert_exit(&output, 2);
    let said = stderr(&output);
    assert!(
        said.contains("mounted read-write") && said.contains(&mount_point.display().to_string()),
        "{}",
        describe(&output)
    );
    target.assert_unchanged();

    let read_only = script.replace("mount \"$P1\"", "mount -o ro \"$P1\"");
    let output = in_private_mounts(&read_only, &env);
    assert_exit(&output, 0);
    let now = target.loop_device.contents();
    let source_bytes = fs::read(&source.backing).unwrap();
    assert!(
        now[..source_bytes.len()] == source_bytes[..],
        "the read-only clone differs from its source"
    );
}

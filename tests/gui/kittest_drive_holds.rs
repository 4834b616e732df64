//! Drives people can tell apart (issue 17, item 14): a loop device names
//! its backing file, rows and the confirmation name what a drive holds
//! (its partitions' labels, read read-only), and a ticked drive that is
//! unplugged is announced. Labels are checked against blkid and e2label.

use std::path::Path;
use std::process::Command;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use imprint::drives::Bus;

use super::kittest_flows::{
    app_with, click, drive, drop_image, fixture, fixture_bytes, in_process, shows, wait_until,
};
use crate::support::loopdev;

/// The label blkid finds in `file` at byte `offset`.
fn blkid_label(file: &Path, offset: u64) -> String {
    let out = Command::new("blkid")
        .args([
            "-p",
            "-O",
            &offset.to_string(),
            "-o",
            "value",
            "-s",
            "LABEL",
        ])
        .arg(file)
        .output()
        .expect("run blkid");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn rows_and_the_confirmation_say_what_a_drive_holds() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("old-card.img");
    let card = loopdev::LoopDevice::create_with(&backing, &fixture_bytes());
    // The oracle: the labels of the image's two FAT partitions.
    let first = blkid_label(&backing, 1 << 20);
    let second = blkid_label(&backing, 2 << 20);
    assert!(
        !first.is_empty() && !second.is_empty(),
        "blkid found labels"
    );
    let size = fixture_bytes().len() as u64;
    let (mut h, drives) = app_with(
        vec![drive(&card.device, size, "Loop", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    let holds = format!("holds {first}, {second}");
    wait_until(&mut h, "the drive's contents", |h| shows(h, &holds));
    assert!(
        shows(&h, &format!("backed by {}", backing.display())),
        "a loop device names its file"
    );
    click(&mut h, "Test Loop");
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| {
        shows(h, "Erase this drive?")
    });
    // The row behind the dialog, and the dialog itself.
    assert_eq!(
        h.query_all_by_label_contains(&holds).count(),
        2,
        "the confirmation says what will be lost"
    );
    h.key_press(egui::Key::Escape);
    h.run_steps(3);

    // Unplugged while ticked: said, not silently dropped.
    drives.send(Ok(Vec::new())).unwrap();
    h.run_steps(3);
    assert!(shows(&h, "Test Loop was unplugged."));
    assert!(h.state().selected_targets().is_empty());
}

#[test]
fn a_filesystem_on_the_whole_drive_is_named_by_its_label() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("stick.img");
    let size = 8u64 << 20;
    let stick = loopdev::LoopDevice::create(&backing, size, 0x00);
    let made = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", "rootfs"])
        .arg(&stick.device)
        .status()
        .expect("run mkfs.ext4");
    assert!(made.success());
    let label = Command::new("e2label").arg(&stick.device).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&label.stdout).trim(), "rootfs");
    let (mut h, _drives) = app_with(
        vec![drive(&stick.device, size, "Stick", Bus::Usb)],
        in_process(),
    );
    h.run_steps(2);
    wait_until(&mut h, "the drive's contents", |h| shows(h, "holds rootfs"));
}

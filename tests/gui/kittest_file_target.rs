//! Clone and image files (issue 17, item 12): a file named as compressed is
//! refused with the reason (never written raw under that name), the free
//! space is checked before anything is written, and a new file a failed
//! run leaves behind is removed.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

use super::kittest_flows::{
    App, app_with, click, drop_image, fixture, in_process, shows, type_into, wait_until,
};
use crate::support::full_fs::FullFilesystem;

fn type_file_target(h: &mut App, path: &std::path::Path) {
    click(h, "Write to an image file…");
    type_into(
        h,
        "Path of the image file to write",
        &path.display().to_string(),
    );
    h.get_by_role_and_label(Role::Button, "Add").click();
    h.run_steps(2);
}

#[test]
fn a_compressed_name_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &fixture());
    let backup = dir.path().join("backup.img.xz");
    type_file_target(&mut h, &backup);
    assert!(shows(&h, "Imprint writes image files uncompressed"));
    assert!(h.state().selected_targets().is_empty(), "not added");
    assert!(!backup.exists());
}

#[test]
fn a_file_that_cannot_fit_is_refused_before_writing() {
    crate::require_root!();
    let dir = tempfile::tempdir().unwrap();
    // A 64 KiB tmpfs, full: the 5 MiB image cannot fit.
    let full = FullFilesystem::new(dir.path(), "unused");
    let target = full.mount.join("copy.img");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &fixture());
    h.state_mut().add_file_target(target.clone());
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    h.run_steps(3);
    assert!(shows(&h, "There is not enough free space for copy.img."));
    assert!(shows(&h, "Nothing was written"));
    assert!(
        !shows(&h, "Write the image to this file?"),
        "asked no further"
    );
    assert!(!target.exists());
}

#[test]
fn a_new_file_a_failed_run_leaves_is_removed() {
    crate::require_root!();
    let dir = tempfile::tempdir().unwrap();
    // The run fails mid-way on a 1 MiB tmpfs.
    let point = dir.path().join("small");
    std::fs::create_dir(&point).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&point)
        .status()
        .unwrap();
    assert!(mounted.success());
    // bzip2 records no size: the space cannot be checked up front.
    let image = crate::support::fixture("test.img.bz2");
    let target = point.join("copy.img");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &image);
    h.state_mut().add_file_target(target.clone());
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    h.run_steps(3);
    wait_until(&mut h, "the confirmation", |h| {
        shows(h, "Write the image to this file?")
    });
    h.get_by_role_and_label(Role::Button, "Erase and flash")
        .click();
    wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
    assert!(shows(&h, "Flash failed"));
    let left = target.exists();
    let _ = std::process::Command::new("umount").arg(&point).status();
    assert!(!left, "the partial new file is removed");
}

#[test]
fn a_drive_saved_to_a_file_says_so() {
    crate::require_root!();
    let _lock = crate::support::loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let contents: Vec<u8> = (0..2u32 << 20).map(|i| (i * 13 % 251) as u8).collect();
    let source =
        crate::support::loopdev::LoopDevice::create_with(&dir.path().join("source"), &contents);
    let backup = dir.path().join("backup.img");
    let (mut h, _drives) = app_with(
        vec![super::kittest_flows::drive(
            &source.device,
            contents.len() as u64,
            "Source",
            imprint::drives::Bus::Usb,
        )],
        in_process(),
    );
    h.run();
    click(&mut h, "Clone a drive…");
    wait_until(&mut h, "the question", |h| shows(h, "Clone which drive?"));
    h.query_all_by_label_contains("Test Source  ·")
        .next()
        .unwrap()
        .click();
    h.run_steps(2);
    wait_until(&mut h, "the drive as the image", |h| {
        shows(h, "Cloning the drive Test Source")
    });
    h.state_mut().add_file_target(backup.clone());
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| {
        shows(h, "Write the image to this file?")
    });
    h.get_by_role_and_label(Role::Button, "Erase and flash")
        .click();
    wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
    assert!(
        shows(&h, "Saved a copy of the drive"),
        "not 'Flash complete'"
    );
    assert!(std::fs::read(&backup).unwrap() == contents);
}

//! The app's Station view: the image chosen as usual, then "Station mode";
//! loop devices attached while it runs appear as tiles and are flashed.

use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;

use super::kittest_flows::{
    app_with, click, drop_image, fixture, fixture_bytes, in_process, shows, type_into, wait_until,
};
use crate::support::full_fs::FullFilesystem;
use crate::support::loopdev;

#[test]
fn loop_devices_plugged_in_appear_as_tiles_and_are_flashed() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("record.jsonl");
    let image = fixture_bytes();
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &fixture());
    click(&mut h, "Station mode");
    assert!(shows(&h, "Start station"));
    type_into(
        &mut h,
        "Only drives matching",
        &format!("{}/*", dir.path().display()),
    );
    // Replace the default record file.
    h.get_by_label("Record file").focus();
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("Record file")
        .type_text(&report.display().to_string());
    h.run_steps(2);
    click(&mut h, "Start station");
    wait_until(&mut h, "the empty board", |h| shows(h, "Plug in a drive"));
    h.check_accessibility();

    let size = 8 << 20;
    // Zero-filled: the station writes only the bytes the image uses.
    let a = loopdev::LoopDevice::create(&dir.path().join("a"), size, 0x00);
    let b = loopdev::LoopDevice::create(&dir.path().join("b"), size, 0x00);
    wait_until(&mut h, "two drives done", |h| {
        h.query_all_by_label("Done").count() == 2
    });
    assert!(shows(&h, "Done 2 · Failed 0"));
    for device in [&a.device, &b.device] {
        assert!(shows(&h, &device.display().to_string()));
        let written = std::fs::read(device).unwrap();
        assert_eq!(&written[..image.len()], &image[..], "{}", device.display());
    }
    click(&mut h, "Stop");
    wait_until(&mut h, "the station stopped", |h| shows(h, "Back"));
    let lines = std::fs::read_to_string(&report).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    click(&mut h, "Back");
    assert!(shows(&h, "Flash!"));
}

/// A record the station cannot write (the record file's filesystem is
/// full) reaches the screen: the drive is done, and the operator reads
/// that it is not recorded.
#[test]
fn a_record_the_station_cannot_write_is_shown_on_the_board() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let full = FullFilesystem::new(dir.path(), "record.jsonl");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &fixture());
    click(&mut h, "Station mode");
    type_into(
        &mut h,
        "Only drives matching",
        &format!("{}/*", dir.path().display()),
    );
    h.get_by_label("Record file").focus();
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("Record file")
        .type_text(&full.file.display().to_string());
    h.run_steps(2);
    click(&mut h, "Start station");
    wait_until(&mut h, "the empty board", |h| shows(h, "Plug in a drive"));
    let drive = loopdev::LoopDevice::create(&dir.path().join("a"), 8 << 20, 0x00);
    wait_until(&mut h, "the drive done and not recorded", |h| {
        h.query_all_by_label("Done").count() == 1 && shows(h, "Not recorded")
    });
    assert!(shows(&h, &drive.device.display().to_string()));
    assert!(shows(&h, "is not recorded"));
    h.check_accessibility();
    click(&mut h, "Stop");
    wait_until(&mut h, "the station stopped", |h| shows(h, "Back"));
    assert_eq!(std::fs::read(&full.file).unwrap(), b"");
}

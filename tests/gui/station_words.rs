//! The station in people's words (issue 17, item 9): a drive the station
//! skips says why without command-line flags, a drive that does not match
//! the chosen drives is no tile at all, and the record goes to the user's
//! documents folder by default.

use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;

use super::kittest_flows::{app_with, click, drop_image, fixture, in_process, shows, wait_until};
use crate::support::loopdev;

#[test]
fn a_skipped_drive_says_why_in_words_and_a_non_matching_one_is_no_tile() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("record.jsonl");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &fixture());
    click(&mut h, "Station mode");
    // The station's choices are boxes, not flags.
    assert!(shows(&h, "Flash a drive again when it is plugged in again"));
    assert!(shows(&h, "Allow drives over 128 GB"));
    // No match given: loop devices are skipped, with the reason.
    h.get_by_label("Record file").focus();
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("Record file")
        .type_text(&report.display().to_string());
    h.run_steps(2);
    click(&mut h, "Start station");
    wait_until(&mut h, "the empty board", |h| shows(h, "Plug in a drive"));
    let a = loopdev::LoopDevice::create(&dir.path().join("a"), 8 << 20, 0x00);
    wait_until(&mut h, "the skipped tile", |h| shows(h, "Skipped"));
    assert!(shows(
        &h,
        "A virtual drive: name it under \"Only drives matching\""
    ));
    assert!(!shows(&h, "--match"), "no command-line flag on screen");
    assert!(shows(&h, &a.device.display().to_string()));
    click(&mut h, "Stop");
    wait_until(&mut h, "the station stopped", |h| shows(h, "Back"));
    click(&mut h, "Back");
    drop(a);

    // Matching only another folder: this drive is not the station's.
    click(&mut h, "Station mode");
    let elsewhere = tempfile::tempdir().unwrap();
    super::kittest_flows::type_into(
        &mut h,
        "Only drives matching",
        &format!("{}/*", elsewhere.path().display()),
    );
    click(&mut h, "Start station");
    wait_until(&mut h, "the empty board", |h| shows(h, "Plug in a drive"));
    let b = loopdev::LoopDevice::create(&dir.path().join("b"), 8 << 20, 0x00);
    // Give the station time to see it.
    for _ in 0..30 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        !shows(&h, &b.device.display().to_string()),
        "a drive that does not match is no tile"
    );
    assert!(shows(&h, "Plug in a drive"));
    click(&mut h, "Stop");
}

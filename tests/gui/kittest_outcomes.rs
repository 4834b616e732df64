//! The end of a run and the questions around it (issue 12, items 7 and 8):
//! a user's own Cancel, retrying the drives that failed, dialogs that no
//! longer apply, and confirmations whose safe choice is the default.

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use imprint::drives::Bus;

use super::kittest_flows::{
    App, DroppedPath, app_with, click, drive, drop_image, fixture, fixture_bytes,
    flash_and_confirm, flashing_through_a_late_helper, in_process, shows, wait_until,
};

fn wait_for_result(h: &mut App) {
    wait_until(h, "the result", |h| shows(h, "Flash another"));
}

/// A raw image large enough that a Cancel pressed as soon as the progress
/// screen shows lands while it is still being written.
fn large_image(dir: &Path) -> PathBuf {
    let path = dir.join("large.img");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(1 << 30).unwrap();
    path
}

/// A 1 MiB tmpfs, unmounted on drop.
struct TinyFs(PathBuf);

impl TinyFs {
    fn mount(dir: &Path) -> TinyFs {
        let point = dir.join("tiny");
        std::fs::create_dir(&point).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&point)
            .status()
            .unwrap();
        assert!(status.success(), "mount a tmpfs");
        TinyFs(point)
    }
}

impl Drop for TinyFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn count_labels(h: &App, text: &str) -> usize {
    h.query_all_by_label_contains(text).count()
}

#[test]
fn a_cancelled_run_is_neither_a_failure_nor_said_twice() {
    let dir = tempfile::tempdir().unwrap();
    let image = large_image(dir.path());
    let target = dir.path().join("card.img");
    std::fs::write(&target, b"").unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, 2 << 30, "Card A", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &image);
    click(&mut h, "Test Card A");
    flash_and_confirm(&mut h, &["Test Card A"]);
    wait_until(&mut h, "the progress screen", |h| {
        shows(h, "Cancel") || shows(h, "Flash another")
    });
    h.get_by_role_and_label(Role::Button, "Cancel").click();
    h.run_steps(2);
    // Asked first, as closing the window is (issue 17, item 16).
    click(&mut h, "Stop flashing");
    wait_for_result(&mut h);
    assert!(shows(&h, "Flash cancelled"), "its own outcome");
    assert!(!shows(&h, "Flash failed"), "not a failure");
    assert!(shows(&h, "You stopped writing"));
    // The advice to flash it again is given once, not as a title and again
    // as its explanation.
    assert_eq!(count_labels(&h, "flash it again"), 1);
    assert!(!shows(&h, "Cancelled before this drive was finished"));
    // A cancelled drive may be flashed again (not "retried": it did not fail).
    assert!(shows(&h, "Flash it again"));
    h.check_accessibility();
}

#[test]
fn retry_flashes_again_only_the_drives_that_failed() {
    crate::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let image = fixture_bytes();
    let good = dir.path().join("good.img");
    std::fs::write(&good, vec![0u8; image.len()]).unwrap();
    // A file on a 1 MiB tmpfs runs out of space part-way: a drive that
    // fails on its own while the other succeeds.
    let tiny = TinyFs::mount(dir.path());
    let full = tiny.0.join("card.img");
    let (mut h, drives) = app_with(
        vec![
            drive(&good, image.len() as u64, "Card A", Bus::Usb),
            drive(&full, image.len() as u64, "Card B", Bus::Usb),
        ],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card A");
    click(&mut h, "Test Card B");
    flash_and_confirm(&mut h, &["Test Card A", "Test Card B"]);
    wait_for_result(&mut h);
    assert!(shows(&h, "1 of 2 drives flashed"));
    assert!(shows(&h, "Retry the failed drive"));
    // Unplugged since, the failed drive is not offered; back, it is.
    let card_a = drive(&good, image.len() as u64, "Card A", Bus::Usb);
    let card_b = drive(&full, image.len() as u64, "Card B", Bus::Usb);
    drives.send(Ok(vec![card_a.clone()])).unwrap();
    h.run_steps(2);
    assert!(!shows(&h, "Retry the failed drive"));
    drives.send(Ok(vec![card_a, card_b])).unwrap();
    h.run_steps(2);
    click(&mut h, "Retry the failed drive");
    // The confirmation is for the failed drive alone.
    assert!(shows(&h, "Erase this drive?"));
    assert_eq!(h.state().selected_targets(), [full]);
}

#[test]
fn a_quit_question_closes_itself_when_the_run_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, _drives) = flashing_through_a_late_helper(dir.path());
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.run_steps(3);
    assert!(shows(&h, "Stop flashing and quit?"));
    wait_for_result(&mut h);
    assert!(shows(&h, "Flash complete"));
    assert!(
        !shows(&h, "Stop flashing and quit?"),
        "nothing is running any more"
    );
}

#[test]
fn the_erase_confirmation_focuses_erase_and_escape_erases_nothing() {
    use crate::support::balena_image::FLEET_CONFIG;
    let dir = tempfile::tempdir().unwrap();
    let image = fixture_bytes();
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; image.len()]).unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, FLEET_CONFIG).unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, image.len() as u64, "Card A", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(config)));
    h.run_steps(2);
    wait_until(&mut h, "the validation", |h| {
        shows(h, "Configuration valid") || shows(h, "config.json.")
    });
    assert!(shows(&h, "Configuration valid"));
    click(&mut h, "Test Card A");
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| {
        shows(h, "Erase this drive?")
    });
    // It names what will be written, not only where.
    assert!(shows(&h, "Image: test.img.xz"));
    assert!(shows(&h, "Configuration: config.json"));
    // The focus is on the dialog's main action (issue 17, item 3), with
    // a ring; Escape, not Enter, is the way out.
    h.run_steps(2);
    assert!(
        h.get_by_role_and_label(Role::Button, "Erase and flash")
            .is_focused()
    );
    assert!(!h.get_by_role_and_label(Role::Button, "Cancel").is_focused());
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(!shows(&h, "Erase this drive?"), "Escape dismissed it");
    assert!(!shows(&h, "Flashing"));
    assert!(!shows(&h, "Flash another"));
    assert_eq!(std::fs::read(&target).unwrap(), vec![0u8; image.len()]);
}

#[test]
fn ctrl_o_opens_an_image_and_escape_closes_a_dialog() {
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.run_steps(3);
    // The tests' desktop has no file chooser: the typed-path field opens.
    assert!(shows(&h, "No file dialog opened"));

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("card.img");
    std::fs::write(&target, b"").unwrap();
    h.state_mut().add_file_target(target);
    drop_image(&mut h, &fixture());
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| {
        shows(h, "Write the image to this file?")
    });
    h.key_press(egui::Key::Escape);
    h.run_steps(3);
    assert!(!shows(&h, "Write the image to this file?"));
    assert!(!shows(&h, "Flashing"));
}

#[test]
fn the_focused_control_is_scrolled_into_view() {
    let dir = tempfile::tempdir().unwrap();
    let drives = (0..12)
        .map(|i| {
            let path = dir.path().join(format!("card{i}.img"));
            drive(&path, 8_000_000_000, &format!("Card {i}"), Bus::Usb)
        })
        .collect();
    let (mut h, _drives) = app_with(drives, in_process());
    h.set_size(egui::vec2(800.0, 600.0));
    drop_image(&mut h, &fixture());
    let mut below_the_fold = 0;
    for _ in 0..40 {
        h.key_press(egui::Key::Tab);
        h.run_steps(30);
        let Some(id) = h.ctx.memory(|m| m.focused()) else {
            continue;
        };
        let rect = h.ctx.read_response(id).unwrap().rect;
        // Without scrolling, the drives from the fourth on lie below.
        if h.query_by_label("Test Card 11").is_some() && rect.top() > 0.0 {
            below_the_fold += 1;
        }
        assert!(
            rect.bottom() <= 600.0 && rect.top() >= 0.0,
            "focused control at {rect:?} is outside the 800x600 window"
        );
    }
    assert!(below_the_fold > 10, "Tab reached the lower drives");
}

#[test]
fn the_whole_drive_row_is_the_click_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("card.img");
    let (mut h, _drives) = app_with(
        vec![drive(&target, 8_000_000_000, "Card A", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    // The size at the far end of the row, away from the box and the name.
    let size = h.get_by_label("8.0 GB").rect();
    h.hover_at(size.center());
    h.run_steps(2);
    h.input_mut().events.push(egui::Event::PointerButton {
        pos: size.center(),
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    h.input_mut().events.push(egui::Event::PointerButton {
        pos: size.center(),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(3);
    assert_eq!(h.state().selected_targets(), std::slice::from_ref(&target));
    // The box itself still toggles once, not twice.
    click(&mut h, "Test Card A");
    assert!(h.state().selected_targets().is_empty());
    h.check_accessibility();
}

#[test]
fn usable_drives_come_first_and_blocked_ones_are_folded() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = drive(&dir.path().join("tiny.img"), 1 << 20, "Tiny", Bus::Usb);
    let mut locked = drive(
        &dir.path().join("locked.img"),
        8_000_000_000,
        "Locked",
        Bus::Usb,
    );
    locked.read_only = true;
    let good = drive(
        &dir.path().join("good.img"),
        8_000_000_000,
        "Good",
        Bus::Usb,
    );
    let (mut h, _drives) = app_with(vec![tiny, locked, good], in_process());
    drop_image(&mut h, &fixture());
    assert!(shows(&h, "Test Good"));
    assert!(!shows(&h, "Test Tiny"), "folded");
    let toggle = h.get_by_label("2 drives cannot be used").rect();
    let good = h.get_by_label("Test Good").rect();
    assert!(
        good.top() < toggle.top(),
        "the usable drive is listed first"
    );
    click(&mut h, "2 drives cannot be used");
    assert!(shows(&h, "Test Tiny") && shows(&h, "Test Locked"));
    assert!(h.get_by_label("Test Tiny").rect().top() > good.top());
}

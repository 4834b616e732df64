//! The app's flows as a user goes through them, driven through the
//! AccessKit tree: drop an image, tick drives, flash, read the result.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use imprint::drives::{Bus, Drive};
use imprint::gui::{
    AppOptions, DriveFeed, FileChooser, HelperMode, HelperOptions, ImprintApp, Notifier,
};

use crate::support::{self, loopdev};

pub(super) type App = Harness<'static, ImprintApp>;

/// A file dropped on the window, as winit would hand it over.
#[derive(Debug)]
pub(super) struct DroppedPath(pub(super) PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

pub(super) fn fixture() -> PathBuf {
    support::fixture("test.img.xz")
}

/// The fixture decompressed by xz(1): the oracle for what must be written.
pub(super) fn fixture_bytes() -> Vec<u8> {
    let out = Command::new("xz")
        .args(["-dc"])
        .arg(fixture())
        .output()
        .expect("run xz");
    assert!(out.status.success(), "xz -dc failed");
    out.stdout
}

pub(super) fn drive(path: &Path, size_bytes: u64, model: &str, bus: Bus) -> Drive {
    Drive {
        path: path.to_path_buf(),
        size_bytes,
        vendor: Some("Test".into()),
        model: Some(model.into()),
        serial: None,
        bus,
        removable: bus == Bus::Usb,
        read_only: false,
        partitions: Vec::new(),
        mount_points: Vec::new(),
        system: None,
    }
}

/// The options of a test app: drives offered by the test, the helper as
/// given, no file dialogs and no notifications.
pub(super) fn options_with(
    drives: Vec<Drive>,
    helper: HelperOptions,
) -> (AppOptions, Sender<Result<Vec<Drive>, String>>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    tx.send(Ok(drives)).unwrap();
    let options = AppOptions {
        image: None,
        drives: DriveFeed::Channel(rx),
        helper,
        // A real dialog would wait for a person: the tests get what a
        // desktop without a file-chooser service gives.
        file_chooser: FileChooser::Missing,
        notifier: Notifier::Off,
        // Nothing remembered: each test starts as a first run.
        config_dir: None,
    };
    (options, tx)
}

/// The app with drives offered by the test, and the helper as given.
pub(super) fn app_with(
    drives: Vec<Drive>,
    helper: HelperOptions,
) -> (App, Sender<Result<Vec<Drive>, String>>) {
    let (options, tx) = options_with(drives, helper);
    let harness = Harness::builder()
        .with_size([960.0, 800.0])
        .build_eframe(move |cc| ImprintApp::new(cc, options));
    (harness, tx)
}

/// In-process flashing (the tests run as root or on files they own).
pub(super) fn in_process() -> HelperOptions {
    HelperOptions {
        mode: HelperMode::WhenNeeded,
        elevate: Vec::new(),
        exe: PathBuf::from(env!("CARGO_BIN_EXE_imprint")),
    }
}

/// Steps the UI until `done` holds; background work (opening the image,
/// the engine) wakes it from other threads.
pub(super) fn wait_until(h: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(h) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
}

pub(super) fn shows(h: &App, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

pub(super) fn drop_image(h: &mut App, path: &Path) {
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path.to_path_buf())));
    h.step();
    wait_until(h, "the image card", |h| {
        shows(h, &file_name(path)) && !shows(h, "Opening")
    });
}

/// Clicks the node labelled `label` and lets the app act on it: one frame
/// delivers the click, the next shows its effect. Through AccessKit, as a
/// screen reader clicks: the control may lie below the fold of the
/// scrolling steps (the pointer's own clicks are tested where they matter).
pub(super) fn click(h: &mut App, label: &str) {
    h.get_by_label(label).click_accesskit();
    h.run_steps(2);
}

/// Focuses the text field labelled `label` and types `text` into it.
pub(super) fn type_into(h: &mut App, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.step();
    h.get_by_label(label).type_text(text);
    h.run_steps(2);
}

pub(super) fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

pub(super) fn flash_button_disabled(h: &App) -> bool {
    h.get_by_role_and_label(Role::Button, "Flash!")
        .accesskit_node()
        .is_disabled()
}

/// Flash!, then "Erase and flash" in the confirmation that names the drives.
pub(super) fn flash_and_confirm(h: &mut App, drive_names: &[&str]) {
    assert!(!flash_button_disabled(h), "Flash! should be enabled");
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(h, "the confirmation", |h| shows(h, "Erase th"));
    for name in drive_names {
        assert!(shows(h, name), "the confirmation names {name}");
    }
    h.get_by_role_and_label(Role::Button, "Erase and flash")
        .click();
    h.run_steps(2);
}

#[test]
fn dropping_an_image_shows_its_name_and_sizes() {
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    h.run();
    assert!(shows(&h, "drop an image file anywhere"));
    drop_image(&mut h, &fixture());
    assert!(shows(&h, "test.img.xz"));
    // 1304 bytes compressed, 5 MiB decompressed (xz -l).
    assert!(shows(&h, "1.3 kB compressed"), "compressed size shown");
    assert!(shows(&h, "5.2 MB decompressed"), "decompressed size shown");
    assert!(shows(&h, "partition table"));
    h.check_accessibility();
}

#[test]
fn an_unreadable_image_says_so_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.img.xz");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(missing.clone())));
    wait_until(&mut h, "the error", |h| shows(h, "Select another image"));
    assert!(shows(&h, "gone.img.xz"));
    assert!(flash_button_disabled(&h));
}

#[test]
fn flash_to_a_file_target_shows_progress_then_success_and_the_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let image = fixture_bytes();
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; image.len()]).unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, image.len() as u64, "Card A", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    assert!(flash_button_disabled(&h), "no drive chosen yet");
    click(&mut h, "Test Card A");
    assert_eq!(h.state().selected_targets(), std::slice::from_ref(&target));
    flash_and_confirm(&mut h, &["Test Card A"]);
    wait_until(&mut h, "the progress or result screen", |h| {
        shows(h, "Flashing") || shows(h, "Flash complete")
    });
    wait_until(&mut h, "the result", |h| {
        shows(h, "Flash complete") || shows(h, "Flash failed")
    });
    assert!(shows(&h, "Flash complete"), "the flash succeeded");
    assert!(shows(&h, "Written and verified"));
    let sha = support::sha256_hex(&image);
    assert!(shows(&h, &sha), "the result shows the image SHA-256 {sha}");
    assert_eq!(std::fs::read(&target).unwrap(), image);
    h.check_accessibility();

    // "Flash another" keeps the image but not the drive just written: a
    // second Flash! must not rewrite it by accident.
    h.get_by_role_and_label(Role::Button, "Flash another")
        .click();
    wait_until(&mut h, "the selection screen", |h| {
        shows(h, "Select drives")
    });
    assert!(shows(&h, "test.img.xz"));
    assert!(h.state().selected_targets().is_empty());
    assert!(flash_button_disabled(&h));
}

#[test]
fn two_loop_devices_are_flashed_and_verified_together() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = fixture_bytes();
    let size = 8 << 20;
    // Zero-filled drives: the app writes only the bytes the image uses (its
    // free space keeps what the drive held), so the whole image reads back
    // only where free space was zero before.
    let a = loopdev::LoopDevice::create(&dir.path().join("a"), size, 0x00);
    let b = loopdev::LoopDevice::create(&dir.path().join("b"), size, 0x00);
    let (mut h, _drives) = app_with(
        vec![
            drive(&a.device, size, "Loop A", Bus::Virtual),
            drive(&b.device, size, "Loop B", Bus::Virtual),
        ],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    // Virtual drives are listed only with "Show all drives".
    assert!(!shows(&h, "Test Loop A"));
    click(&mut h, "Show all drives");
    click(&mut h, "Test Loop A");
    click(&mut h, "Test Loop B");
    flash_and_confirm(&mut h, &["Test Loop A", "Test Loop B"]);
    wait_until(&mut h, "the result", |h| {
        shows(h, "Flash complete") || shows(h, "Flash failed") || shows(h, "drives flashed")
    });
    assert!(shows(&h, "Flash complete"));
    assert_eq!(h.get_all_by_label("Written and verified").count(), 2);
    for device in [&a.device, &b.device] {
        let written = std::fs::read(device).unwrap();
        assert_eq!(&written[..image.len()], &image[..], "{}", device.display());
    }
}

#[test]
fn a_gzip_image_blocks_a_drive_smaller_than_its_trailer_says() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.img");
    std::fs::write(&small, vec![0u8; 1 << 20]).unwrap();
    let (mut h, _drives) = app_with(vec![drive(&small, 1 << 20, "Tiny", Bus::Usb)], in_process());
    drop_image(&mut h, &support::fixture("test.img.gz"));
    assert!(shows(&h, "at least 5.2 MB decompressed"));
    click(&mut h, "1 drive cannot be used");
    assert!(shows(&h, "Too small: the image needs 5.2 MB"));
    h.get_by_label("Test Tiny").click();
    h.step();
    assert!(h.state().selected_targets().is_empty());
}

#[test]
fn a_too_small_drive_is_listed_but_cannot_be_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.img");
    std::fs::write(&small, vec![0u8; 1 << 20]).unwrap();
    let (mut h, _drives) = app_with(vec![drive(&small, 1 << 20, "Tiny", Bus::Usb)], in_process());
    drop_image(&mut h, &fixture());
    // Folded under a toggle that counts the drives that cannot be used.
    assert!(!shows(&h, "Too small: the image needs 5.2 MB"));
    click(&mut h, "1 drive cannot be used");
    assert!(shows(&h, "Too small: the image needs 5.2 MB"));
    let checkbox = h.get_by_label("Test Tiny");
    assert!(checkbox.accesskit_node().is_disabled());
    checkbox.click();
    h.step();
    assert!(h.state().selected_targets().is_empty());
    assert!(flash_button_disabled(&h));
}

#[test]
fn a_drive_over_128_gb_is_chosen_only_after_confirming() {
    let big = PathBuf::from("/dev/imprint-test-does-not-exist");
    let (mut h, _drives) = app_with(
        vec![drive(&big, 256_000_000_000, "Huge", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    h.get_by_label("Test Huge").click();
    wait_until(&mut h, "the question", |h| shows(h, "is a large drive"));
    assert!(h.state().selected_targets().is_empty());
    h.get_by_role_and_label(Role::Button, "Cancel").click();
    wait_until(&mut h, "the dialog to close", |h| {
        !shows(h, "is a large drive")
    });
    assert!(h.state().selected_targets().is_empty());
    h.get_by_label("Test Huge").click();
    wait_until(&mut h, "the question", |h| shows(h, "is a large drive"));
    h.get_by_role_and_label(Role::Button, "Select this drive")
        .click();
    h.run_steps(2);
    assert_eq!(h.state().selected_targets(), [big]);
}

#[test]
fn the_privileged_helper_flashes_and_reports_each_drive() {
    let dir = tempfile::tempdir().unwrap();
    let image = fixture_bytes();
    let good = dir.path().join("good.img");
    std::fs::write(&good, vec![0u8; image.len()]).unwrap();
    // `env` stands in for pkexec: a prefix that runs the helper unchanged.
    let helper = HelperOptions {
        mode: HelperMode::Always,
        elevate: vec!["env".into()],
        exe: PathBuf::from(env!("CARGO_BIN_EXE_imprint")),
    };
    let (mut h, _drives) = app_with(
        vec![drive(&good, image.len() as u64, "Card A", Bus::Usb)],
        helper,
    );
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card A");
    flash_and_confirm(&mut h, &["Test Card A"]);
    wait_until(&mut h, "the result", |h| {
        shows(h, "Flash complete") || shows(h, "Flash failed") || shows(h, "Nothing was written")
    });
    assert!(shows(&h, "Flash complete"));
    assert!(shows(&h, &support::sha256_hex(&image)));
    assert_eq!(std::fs::read(&good).unwrap(), image);
}

#[test]
fn a_cancelled_password_prompt_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; 8 << 20]).unwrap();
    // What pkexec does when the user dismisses its dialog: exit code 126.
    let helper = HelperOptions {
        mode: HelperMode::Always,
        elevate: vec!["sh".into(), "-c".into(), "exit 126".into()],
        exe: PathBuf::from(env!("CARGO_BIN_EXE_imprint")),
    };
    let (mut h, _drives) = app_with(vec![drive(&target, 8 << 20, "Card A", Bus::Usb)], helper);
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card A");
    flash_and_confirm(&mut h, &["Test Card A"]);
    wait_until(&mut h, "the message", |h| {
        shows(h, "Authorisation was cancelled")
    });
    // Back on the selection screen, image and drive kept.
    assert!(shows(&h, "Select drives"));
    assert_eq!(h.state().selected_targets(), [target]);
}

#[test]
fn hiding_all_drives_again_unselects_the_hidden_ones() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("fixed.img");
    std::fs::write(&target, vec![0u8; 8 << 20]).unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, 8 << 20, "Fixed", Bus::Virtual)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    assert!(
        !shows(&h, "Test Fixed"),
        "virtual drives are hidden by default"
    );
    click(&mut h, "Show all drives");
    click(&mut h, "Test Fixed");
    assert_eq!(h.state().selected_targets(), std::slice::from_ref(&target));
    click(&mut h, "Show all drives");
    assert!(!shows(&h, "Test Fixed"));
    assert!(h.state().selected_targets().is_empty());
    assert!(flash_button_disabled(&h));
}

/// The app flashing an image file in `dir` through a helper that starts two
/// seconds late, so the run stays on screen for what the test does next.
/// The feed of drives is returned to keep it open.
pub(super) fn flashing_through_a_late_helper(
    dir: &Path,
) -> (App, Sender<Result<Vec<Drive>, String>>) {
    let image = fixture_bytes();
    let target = dir.join("card.img");
    std::fs::write(&target, vec![0u8; image.len()]).unwrap();
    let helper = HelperOptions {
        mode: HelperMode::Always,
        elevate: vec![
            "sh".into(),
            "-c".into(),
            "sleep 2; exec \"$0\" \"$@\"".into(),
        ],
        exe: PathBuf::from(env!("CARGO_BIN_EXE_imprint")),
    };
    let (mut h, drives) = app_with(
        vec![drive(&target, image.len() as u64, "Card A", Bus::Usb)],
        helper,
    );
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card A");
    flash_and_confirm(&mut h, &["Test Card A"]);
    (h, drives)
}

#[test]
fn closing_the_window_mid_flash_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, _drives) = flashing_through_a_late_helper(dir.path());
    assert!(shows(&h, "Flashing"));
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.step();
    let cancelled_close = h.output().viewport_output[&egui::ViewportId::ROOT]
        .commands
        .contains(&egui::ViewportCommand::CancelClose);
    assert!(cancelled_close, "the close is held back");
    h.run_steps(2);
    assert!(shows(&h, "Stop flashing and quit?"));
    h.get_by_role_and_label(Role::Button, "Keep flashing")
        .click();
    wait_until(&mut h, "the result", |h| {
        shows(h, "Flash complete") || shows(h, "Flash failed")
    });
    assert!(shows(&h, "Flash complete"), "the run went on");
}

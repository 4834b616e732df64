//! How a failed drive is told and what is offered after (issue 17, items 4
//! and 5): a drive that stops taking data is not a full disk; a drive too
//! small teaches the app the image's size; a stopped drive is not a failure.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use imprint::drives::Bus;
use imprint::gui::AppOptions;

use super::kittest_flows::{
    App, app_with, click, drive, drop_image, fixture, flash_and_confirm, in_process, options_with,
    shows, wait_until,
};
use crate::support::faultdev::{Fault, FaultDevice};
use crate::support::{self, loopdev};

fn wait_for_result(h: &mut App) {
    wait_until(h, "the result", |h| shows(h, "Flash another"));
}

#[test]
fn a_drive_that_stops_taking_data_is_not_told_to_free_space() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let size = 8u64 << 20;
    // A card that claims 8 MiB but refuses data from 2 MiB on.
    let card = FaultDevice::new(vec![0u8; size as usize], Fault::NoSpace { from: 2 << 20 });
    let (mut h, _drives) = app_with(
        vec![drive(&card.device, size, "Fake", Bus::Virtual)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    click(&mut h, "Show all drives");
    click(&mut h, "Test Fake");
    flash_and_confirm(&mut h, &["Test Fake"]);
    wait_for_result(&mut h);
    assert!(shows(&h, "Flash failed"));
    assert!(
        shows(&h, "The drive stopped taking data at"),
        "a drive that stopped, by what it is"
    );
    assert!(shows(&h, "it may be fake or failing"));
    assert!(
        !shows(&h, "Free some space"),
        "not the image file's headline"
    );
    assert!(!shows(&h, "not enough free space"));
}

/// The app with settings kept in `dir` (a second start sees the first's).
fn app_remembering(dir: &std::path::Path, drives: Vec<imprint::drives::Drive>) -> Started {
    let (options, drives_tx) = options_with(drives, in_process());
    let options = AppOptions {
        config_dir: Some(dir.to_path_buf()),
        ..options
    };
    let app = egui_kittest::Harness::builder()
        .with_size([960.0, 800.0])
        .build_eframe(move |cc| imprint::gui::ImprintApp::new(cc, options));
    (app, drives_tx)
}

type Started = (
    App,
    crossbeam_channel::Sender<Result<Vec<imprint::drives::Drive>, String>>,
);

#[test]
fn a_too_small_drive_teaches_the_image_size_and_is_not_retried() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings");
    // bzip2 records no size: only flashing finds that it is 5 MiB.
    let image = dir.path().join("os.img.bz2");
    std::fs::copy(support::fixture("test.img.bz2"), &image).unwrap();
    let small = 4u64 << 20;
    let card = loopdev::LoopDevice::create(&dir.path().join("small"), small, 0x00);
    let cards = vec![drive(&card.device, small, "Small", Bus::Usb)];
    let (mut h, _tx) = app_remembering(&settings, cards.clone());
    drop_image(&mut h, &image);
    click(&mut h, "Test Small");
    flash_and_confirm(&mut h, &["Test Small"]);
    wait_for_result(&mut h);
    assert!(shows(&h, "The drive is too small for this image."));
    // Retrying the same drive would fail the same way.
    assert!(!shows(&h, "Retry"), "no Retry for a drive too small");
    click(&mut h, "Flash another");
    assert!(
        shows(&h, "1 drive cannot be used"),
        "the drive is blocked now"
    );
    drop(h);

    // Remembered for this file: a new start blocks the drive at once.
    let (mut h, _tx) = app_remembering(&settings, cards);
    drop_image(&mut h, &image);
    assert!(shows(&h, "1 drive cannot be used"));
    click(&mut h, "1 drive cannot be used");
    assert!(shows(&h, "Too small"));
    // A changed file is another image: nothing learned about it.
    std::fs::copy(support::fixture("test-9.img.bz2"), &image).unwrap();
    drop(h);
    let (mut h, _tx) = app_remembering(
        &settings,
        vec![drive(&card.device, small, "Small", Bus::Usb)],
    );
    drop_image(&mut h, &image);
    assert!(!shows(&h, "cannot be used"));
}

#[test]
fn a_stopped_drive_is_flashed_again_not_retried_as_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("large.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
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
    assert!(shows(&h, "Flash cancelled"));
    assert!(
        shows(&h, "Stopped, not failed"),
        "a neutral mark, not a red cross"
    );
    assert!(shows(&h, "Flash it again"));
    assert!(!shows(&h, "Retry"), "a stop is not a failure to retry");
}

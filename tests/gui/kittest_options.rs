//! The "Options" section (issue 12): skipping verification and writing
//! every byte, in a run in this process and through the helper.

use std::path::{Path, PathBuf};

use imprint::drives::Bus;
use imprint::gui::{HelperMode, HelperOptions};

use egui_kittest::kittest::Queryable;

use crate::support::loopdev;

use super::kittest_flows::{
    App, app_with, click, drive, drop_image, fixture, fixture_bytes, flash_and_confirm, in_process,
    shows, wait_until,
};

/// The helper run directly (`env` stands in for pkexec), so its arguments
/// carry the options.
fn through_helper() -> HelperOptions {
    HelperOptions {
        mode: HelperMode::Always,
        elevate: vec!["env".into()],
        exe: PathBuf::from(env!("CARGO_BIN_EXE_imprint")),
    }
}

/// A file target the size of a small card, filled with 0xAA: what an old
/// card holds in the image's free space.
fn stale_card(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![0xAAu8; 8 << 20]).unwrap();
    path
}

/// Unfolds "Options" and waits until the view has followed it into sight
/// (the controls stop moving), so that a click lands where it aims.
pub(super) fn open_options(h: &mut App) {
    click(h, "Options");
    let mut last = None;
    for _ in 0..60 {
        let rect = h.get_by_label("Write every byte").rect();
        if last == Some(rect) {
            return;
        }
        last = Some(rect);
        h.step();
    }
    panic!("the Options section kept moving");
}

/// Opens the fixture, ticks the card, sets the options by their labels,
/// flashes and waits for the result.
fn flash_with(h: &mut App, options: &[&str]) {
    drop_image(h, &fixture());
    click(h, "Test Card");
    open_options(h);
    for option in options {
        click(h, option);
    }
    flash_and_confirm(h, &["Test Card"]);
    wait_until(h, "the result", |h| shows(h, "Flash another"));
}

#[test]
fn skip_verification_says_the_drive_was_not_read_back() {
    for helper in [in_process(), through_helper()] {
        let dir = tempfile::tempdir().unwrap();
        let card = stale_card(dir.path(), "card.img");
        let (mut h, _drives) = app_with(vec![drive(&card, 8 << 20, "Card", Bus::Usb)], helper);
        drop_image(&mut h, &fixture());
        open_options(&mut h);
        assert!(
            !shows(&h, "only found when the device fails to boot"),
            "the risk is said when it is taken"
        );
        click(&mut h, "Skip verification");
        assert!(shows(&h, "only found when the device fails to boot"));
        assert!(shows(&h, "Verification is skipped"));
        click(&mut h, "Test Card");
        flash_and_confirm(&mut h, &["Test Card"]);
        wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
        assert!(shows(&h, "Flash complete"));
        assert!(shows(&h, "Written, not verified"));
        assert!(!shows(&h, "Written and verified"));
        assert!(!shows(&h, "and verified."), "the title does not claim it");
    }
}

#[test]
fn write_every_byte_overwrites_the_free_space() {
    let image = fixture_bytes();
    let size = 8 << 20;
    for helper in [in_process(), through_helper()] {
        let dir = tempfile::tempdir().unwrap();
        // Drives holding 0xAA: by default only the bytes the image uses are
        // written, so the old contents survive in its free space (else
        // this test could not fail).
        let sparse = loopdev::LoopDevice::create(&dir.path().join("sparse"), size, 0xAA);
        let (mut h, _d) = app_with(
            vec![drive(&sparse.device, size, "Card", Bus::Usb)],
            helper.clone(),
        );
        flash_with(&mut h, &[]);
        assert!(shows(&h, "Written and verified"));
        let written = std::fs::read(&sparse.device).unwrap();
        assert!(written[..image.len()] != image[..], "free space kept");

        let full = loopdev::LoopDevice::create(&dir.path().join("full"), size, 0xAA);
        let (mut h, _d) = app_with(vec![drive(&full.device, size, "Card", Bus::Usb)], helper);
        flash_with(&mut h, &["Write every byte"]);
        assert!(shows(&h, "Written and verified"));
        let written = std::fs::read(&full.device).unwrap();
        assert!(written[..image.len()] == image[..], "every byte written");
    }
}

#[test]
fn eject_when_done_is_on_by_default_and_says_the_drive_can_be_removed() {
    let size = 8 << 20;
    for helper in [in_process(), through_helper()] {
        let dir = tempfile::tempdir().unwrap();
        let card = loopdev::LoopDevice::create(&dir.path().join("card"), size, 0);
        let (mut h, _d) = app_with(
            vec![drive(&card.device, size, "Card", Bus::Usb)],
            helper.clone(),
        );
        flash_with(&mut h, &[]);
        // A loop device is no USB drive: flushed, not powered off.
        assert!(shows(&h, "Flushed: it is safe to remove."));
        assert!(shows(&h, "The drive can be removed."));

        let (mut h, _d) = app_with(vec![drive(&card.device, size, "Card", Bus::Usb)], helper);
        flash_with(&mut h, &["Eject when done"]);
        assert!(shows(&h, "Flash complete"));
        assert!(!shows(&h, "safe to remove"), "not ejected when unticked");
        assert!(shows(&h, "Eject it from the desktop before removing it."));
    }
}

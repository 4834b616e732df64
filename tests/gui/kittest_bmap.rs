//! The app flashing an image whose bmap (beside it) lies about a range's
//! checksum: the in-process run and the privileged helper both read the
//! bmap, as `imprint flash` does, and fail the drive — nothing is reported
//! written (issue 16: one preparation path).

use std::path::PathBuf;

use imprint::drives::Bus;
use imprint::gui::{HelperMode, HelperOptions};

use super::kittest_flows::{
    app_with, click, drive, drop_image, flash_and_confirm, in_process, shows, wait_until,
};
use crate::support::loopdev;
use crate::support::lying_bmap::image_with_lying_bmap;

/// Flashes the lying image to one loop device through `helper`; asserts
/// the drive failed.
fn flash_fails(helper: HelperOptions) {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = image_with_lying_bmap(dir.path());
    let size = 8 << 20;
    let card = loopdev::LoopDevice::create(&dir.path().join("card"), size, 0x00);
    let (mut h, _drives) = app_with(
        vec![drive(&card.device, size, "Loop Card", Bus::Virtual)],
        helper,
    );
    drop_image(&mut h, &image);
    click(&mut h, "Show all drives");
    click(&mut h, "Test Loop Card");
    flash_and_confirm(&mut h, &["Test Loop Card"]);
    wait_until(&mut h, "the result", |h| {
        shows(h, "Flash complete")
            || shows(h, "Flash failed")
            || shows(h, "drives flashed")
            || shows(h, "Nothing was written")
    });
    assert!(!shows(&h, "Flash complete"), "a lying bmap must fail");
    assert!(shows(&h, "Flash failed"), "the drive failed");
    assert!(!shows(&h, "Written and verified"), "nothing reported ok");
}

#[test]
fn a_lying_bmap_fails_the_in_process_run() {
    flash_fails(in_process());
}

#[test]
fn a_lying_bmap_fails_the_helper_run() {
    // `env` stands in for pkexec: a prefix that runs the helper unchanged.
    flash_fails(HelperOptions {
        mode: HelperMode::Always,
        elevate: vec!["env".into()],
        exe: PathBuf::from(env!("CARGO_BIN_EXE_imprint")),
    });
}

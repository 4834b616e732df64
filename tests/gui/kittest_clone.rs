//! "Clone a drive…" (issue 12): a drive as the source, read-only and sized
//! up front, never offered as a target while it is the source.

use egui_kittest::kittest::Queryable;
use imprint::drives::Bus;

use egui_kittest::Harness;
use imprint::gui::ImprintApp;

use super::kittest_flows::{
    App, click, drive, flash_and_confirm, in_process, options_with, shows, wait_until,
};
use crate::support::loopdev;

#[test]
fn a_drive_cloned_to_a_file_is_copied_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    // A source drive with contents that are not all one byte.
    let contents: Vec<u8> = (0..4u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
    let source = loopdev::LoopDevice::create_with(&dir.path().join("source"), &contents);
    let target = dir.path().join("copy.img");
    let config = dir.path().join("config");
    let (mut options, drives) = options_with(
        vec![
            drive(&source.device, contents.len() as u64, "Source", Bus::Usb),
            drive(&target, 8 << 20, "Card", Bus::Usb),
        ],
        in_process(),
    );
    options.config_dir = Some(config.clone());
    let mut h: App = Harness::builder()
        .with_size([960.0, 800.0])
        .build_eframe(move |cc| {
            let _keep = &drives;
            ImprintApp::new(cc, options)
        });
    h.run();
    click(&mut h, "Clone a drive…");
    wait_until(&mut h, "the question", |h| shows(h, "Clone which drive?"));
    // The dialog's button, not the drive's row behind it.
    h.query_all_by_label_contains("Test Source  ·")
        .next()
        .expect("the source drive is offered")
        .click();
    h.run_steps(2);
    wait_until(&mut h, "the drive as the image", |h| {
        shows(h, "Cloning the drive Test Source")
    });
    // Sized up front, as a raw image; not hashed as a download would be
    // (that would read the whole drive once more).
    assert!(shows(&h, "Raw image · 4.2 MB"));
    assert!(!shows(&h, "SHA-256 of the file"));
    // The source is not a target: listed among the drives that cannot be
    // used, with the reason, and a click does not tick it.
    assert!(shows(&h, "1 drive cannot be used"));
    click(&mut h, "1 drive cannot be used");
    assert!(shows(&h, "Being cloned: it is the source of the image"));
    click(&mut h, "Test Source");
    assert!(h.state().selected_targets().is_empty());
    click(&mut h, "Test Card");
    flash_and_confirm(&mut h, &["Test Card"]);
    wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
    assert!(shows(&h, "Flash complete"));
    let copy = std::fs::read(&target).unwrap();
    assert!(copy == contents, "the copy differs from the drive");
    assert!(source.contents() == contents, "the source was changed");
    // /dev is no folder to open images from next time.
    let saved = std::fs::read_to_string(config.join("settings.json")).unwrap_or_default();
    assert!(!saved.contains("\"/dev"), "{saved}");
}

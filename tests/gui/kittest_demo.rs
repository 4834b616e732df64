//! The built-in demo image: offered when no image is chosen, and written
//! to an image file (split from `kittest_flows`).

use std::path::Path;
use std::process::Command;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

use super::kittest_flows::{
    App, app_with, click, flash_button_disabled, in_process, shows, wait_until,
};

/// The demo image decompressed by xz(1).
fn demo_bytes() -> Vec<u8> {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.img.xz");
    let out = Command::new("xz")
        .args(["-dc"])
        .arg(demo)
        .output()
        .expect("run xz");
    assert!(out.status.success(), "xz -dc failed");
    out.stdout
}

fn use_demo_image(h: &mut App) {
    click(h, "Try the demo image");
    wait_until(h, "the demo image card", |h| {
        shows(h, "demo.img.xz") && !shows(h, "Opening")
    });
}

#[test]
fn the_demo_image_is_offered_when_no_image_is_given() {
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    h.run();
    assert!(shows(&h, "Try the demo image"));
    use_demo_image(&mut h);
    assert!(shows(&h, "demo.img.xz"));
    assert!(shows(&h, "8.4 MB decompressed"), "decompressed size shown");
    // Once an image is chosen, the demo is no longer offered.
    assert!(!shows(&h, "Try the demo image"));
    h.check_accessibility();
}

#[test]
fn the_demo_image_is_written_to_an_image_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("demo.img");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    use_demo_image(&mut h);
    assert!(flash_button_disabled(&h), "no target yet");
    h.state_mut().add_file_target(target.clone());
    h.run_steps(2);
    assert!(shows(&h, "image file"));
    assert!(shows(&h, "new file"));
    assert_eq!(h.state().selected_targets(), std::slice::from_ref(&target));
    // Unticked and ticked again like a drive.
    click(&mut h, "demo.img");
    assert!(h.state().selected_targets().is_empty());
    click(&mut h, "demo.img");
    assert!(shows(&h, "To 1 image file: demo.img.xz"));
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| {
        shows(h, "Write the image to this file?")
    });
    h.get_by_role_and_label(Role::Button, "Erase and flash")
        .click();
    h.run_steps(2);
    wait_until(&mut h, "the result", |h| {
        shows(h, "Flash complete") || shows(h, "Flash failed") || shows(h, "Nothing was written")
    });
    assert!(shows(&h, "Flash complete"), "the flash succeeded");
    assert!(shows(&h, "Written and verified"));
    assert!(shows(&h, "was written to the image file and verified."));
    assert!(!shows(&h, "can be removed"), "a file is not removed");
    assert_eq!(std::fs::read(&target).unwrap(), demo_bytes());
    h.check_accessibility();
}

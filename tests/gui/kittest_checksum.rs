//! The image's checksum (issue 12, item 10): found beside the image or
//! pasted on the image card, compared with the file before anything is
//! written; a mismatch keeps Flash! disabled.

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use imprint::drives::Bus;
use sha2::Digest;

use super::kittest_flows::{
    App, app_with, drive, drop_image, flash_button_disabled, in_process, shows, type_into,
    wait_until,
};
use crate::support;

const WRONG: &str = "1111111111111111111111111111111111111111111111111111111111111111";

/// The fixture in a folder of its own, and its SHA-256.
fn image_in(dir: &Path) -> (PathBuf, String) {
    let image = dir.join("test.img.xz");
    std::fs::copy(support::fixture("test.img.xz"), &image).unwrap();
    let hash = hex(&sha2::Sha256::digest(std::fs::read(&image).unwrap()));
    (image, hash)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The app with a drive ticked, the image open and its hash computed.
fn open(dir: &Path, image: &Path) -> App {
    let card = dir.join("card.img");
    let (mut h, _drives) = app_with(vec![drive(&card, 8 << 20, "Card", Bus::Usb)], in_process());
    drop_image(&mut h, image);
    h.state_mut().add_file_target(card);
    wait_until(&mut h, "the file's hash", |h| !shows(h, "computing…"));
    h
}

#[test]
fn a_checksum_beside_the_image_is_compared_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let (image, hash) = image_in(dir.path());
    std::fs::write(
        dir.path().join("SHA256SUMS"),
        format!("{WRONG}  other.img.xz\n{hash}  test.img.xz\n"),
    )
    .unwrap();
    let h = open(dir.path(), &image);
    assert!(shows(
        &h,
        "The file matches the published checksum (from SHA256SUMS)."
    ));
    assert!(!flash_button_disabled(&h));

    // A damaged download: the .sha256 beside it names another content.
    let other = tempfile::tempdir().unwrap();
    let (image, _) = image_in(other.path());
    std::fs::write(
        other.path().join("test.img.xz.sha256"),
        format!("{WRONG}\n"),
    )
    .unwrap();
    let h = open(other.path(), &image);
    assert!(shows(
        &h,
        "does not match the published checksum (from test.img.xz.sha256)"
    ));
    assert!(shows(&h, "Download it again."));
    assert!(
        flash_button_disabled(&h),
        "nothing is written from a bad download"
    );
}

#[test]
fn a_pasted_checksum_says_whether_the_file_matches() {
    let dir = tempfile::tempdir().unwrap();
    let (image, hash) = image_in(dir.path());
    let mut h = open(dir.path(), &image);
    assert!(!flash_button_disabled(&h), "no checksum, no verdict");
    type_into(&mut h, "Expected SHA-256:", WRONG);
    assert!(shows(&h, "does not match the published checksum"));
    assert!(flash_button_disabled(&h));
    let field = h.get_by_role_and_label(Role::TextInput, "Expected SHA-256:");
    assert_eq!(field.accesskit_node().value().as_deref(), Some(WRONG));
    // Select all, then paste the right one in upper case, as some sites
    // print it.
    h.get_by_label("Expected SHA-256:").focus();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Expected SHA-256:")
        .type_text(&hash.to_uppercase());
    h.run_steps(2);
    assert!(shows(&h, "The file matches the published checksum."));
    assert!(!flash_button_disabled(&h));
    type_into(&mut h, "Expected SHA-256:", "zz");
    assert!(shows(&h, "A SHA-256 is 64 characters"));
    assert!(flash_button_disabled(&h));
}

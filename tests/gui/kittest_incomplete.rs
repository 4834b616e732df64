//! An incomplete download is caught before erasing (issue 17, item 6): an
//! .xz without its footer, a zip without its central directory; and a
//! stream that ends early mid-run is called incomplete, not damaged.

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

use super::kittest_flows::{
    App, DroppedPath, app_with, flash_button_disabled, in_process, shows, wait_until,
};
use crate::support;

/// The first `keep` bytes of the fixture `name`, as `dir/file`.
fn cut(dir: &Path, name: &str, file: &str, keep: usize) -> PathBuf {
    let bytes = std::fs::read(support::fixture(name)).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, &bytes[..keep]).unwrap();
    path
}

/// The app with one image file as its target and `image` dropped on it.
fn app_writing_to_a_file(dir: &Path, image: &Path) -> (App, PathBuf) {
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    let target = dir.join("copy.img");
    std::fs::write(&target, b"").unwrap();
    h.state_mut().add_file_target(target.clone());
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(image.to_path_buf())));
    h.step();
    wait_until(&mut h, "the image opened", |h| !shows(h, "Opening"));
    (h, target)
}

#[test]
fn an_xz_without_its_footer_is_incomplete_and_cannot_be_flashed() {
    let dir = tempfile::tempdir().unwrap();
    let image = cut(dir.path(), "test.img.xz", "os.img.xz", 900);
    let (h, target) = app_writing_to_a_file(dir.path(), &image);
    assert!(shows(&h, "This file is incomplete: download it again."));
    assert!(flash_button_disabled(&h));
    assert_eq!(std::fs::read(target).unwrap(), b"", "nothing written");
}

#[test]
fn a_zip_without_its_central_directory_is_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let image = cut(dir.path(), "zip-deflate.zip", "os.zip", 4000);
    let (h, _target) = app_writing_to_a_file(dir.path(), &image);
    assert!(shows(&h, "This file is incomplete: download it again."));
    assert!(!shows(&h, "cannot be used as an image"), "one message");
    assert!(flash_button_disabled(&h));
}

#[test]
fn a_stream_that_ends_early_mid_run_is_incomplete_and_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    // gzip says where it ends only at its end: caught while writing.
    let image = cut(dir.path(), "test.img.gz", "os.img.gz", 3000);
    let (mut h, _target) = app_writing_to_a_file(dir.path(), &image);
    assert!(!flash_button_disabled(&h));
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| {
        shows(h, "Write the image to this file?")
    });
    h.get_by_role_and_label(Role::Button, "Erase and flash")
        .click();
    wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
    assert!(shows(&h, "The image file is incomplete"), "not 'damaged'");
    assert!(!shows(&h, "The image is damaged"));
    assert!(shows(&h, "Download it again"));
    // The same file would stop at the same place.
    assert!(!shows(&h, "Retry"));
}

//! Every image among the shared fixtures, flashed to three loop devices at
//! once: each drive holds exactly the decompressed image, and every byte
//! after the image's end keeps the drive's old pattern.

use std::path::Path;

use crate::require_root;
use crate::support::etcher_fixture;
use crate::support::flashing::{
    ExpectedImage, assert_exit, devices, drive_size_for, flash, stderr, three_drives, tool_output,
};
use crate::support::loopdev::LoopLock;

/// The GPT fixture's decompressed SHA-256, as the fixtures README states.
const ETCHER_GPT_TEST_SHA256: &str =
    "403b8c2433029d257f5d195276f39f4d441e7324cd93fb8c2a4e161b97533188";

fn flash_to_three_drives(fixture: &str, expected: ExpectedImage) {
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(expected.len));
    let image = etcher_fixture(fixture);
    let output = flash(&image, &devices(&drives), &[]);
    assert_exit(&output, 0);
    for drive in &drives {
        drive.assert_holds(&expected);
    }
}

/// What `tool ARGS FILE` writes to stdout: an independent decompression.
fn decompressed_by(tool: &str, args: &[&str], fixture: &str) -> ExpectedImage {
    ExpectedImage::from_bytes(tool_output(tool, args, &etcher_fixture(fixture)))
}

fn raw_file(fixture: &str) -> ExpectedImage {
    ExpectedImage::from_bytes(std::fs::read(etcher_fixture(fixture)).unwrap())
}

#[test]
fn gzip_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("gz/etcher-test.img.gz", ExpectedImage::etcher_test());
}

#[test]
fn xz_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("xz/etcher-test.img.xz", ExpectedImage::etcher_test());
}

#[test]
fn bzip2_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("bz2/etcher-test.img.bz2", ExpectedImage::etcher_test());
}

#[test]
fn bzip2_level_9_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("bz2/etcher-test-9.img.bz2", ExpectedImage::etcher_test());
}

#[test]
fn zip_deflate_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("zip/zip-deflate.zip", ExpectedImage::etcher_test());
}

#[test]
fn zip_bzip2_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("zip/zip-bzip2.zip", ExpectedImage::etcher_test());
}

#[test]
fn zip_lzma_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("zip/zip-lzma.zip", ExpectedImage::etcher_test());
}

#[test]
fn zip_with_folders_and_only_an_image_to_three_drives() {
    require_root!();
    flash_to_three_drives(
        "zip/zip-directory-etcher-test-only.zip",
        ExpectedImage::etcher_test(),
    );
}

#[test]
fn zip_with_folders_misc_files_and_an_image_to_three_drives() {
    require_root!();
    flash_to_three_drives(
        "zip/zip-directory-etcher-test-and-misc.zip",
        ExpectedImage::etcher_test(),
    );
}

#[test]
fn ten_byte_image_in_a_zip_to_three_drives_rest_of_first_sector_kept() {
    require_root!();
    let expected = decompressed_by("unzip", &["-p"], "nested/data.img.zip");
    assert_eq!(expected.len, 10, "unzip -p gives the 10-byte data.img");
    flash_to_three_drives("nested/data.img.zip", expected);
}

#[test]
fn xz_without_extension_is_detected_by_content() {
    require_root!();
    let by_xz = decompressed_by("xz", &["-dc"], "unrecognized/xz-without-extension");
    assert_eq!(by_xz.sha256, crate::support::flashing::ETCHER_TEST_SHA256);
    flash_to_three_drives("unrecognized/xz-without-extension", by_xz);
}

#[test]
fn xz_with_a_misleading_extension_is_detected_by_content() {
    require_root!();
    flash_to_three_drives(
        "unrecognized/xz-with-invalid-extension.foo",
        ExpectedImage::etcher_test(),
    );
}

#[test]
fn random_bytes_named_rpi_sdcard_are_written_raw() {
    require_root!();
    flash_to_three_drives(
        "unrecognized/random.rpi-sdcard",
        raw_file("unrecognized/random.rpi-sdcard"),
    );
}

#[test]
fn text_file_named_dmg_is_written_raw() {
    require_root!();
    flash_to_three_drives(
        "images/raw-image-not-a-dmg.dmg",
        raw_file("images/raw-image-not-a-dmg.dmg"),
    );
}

#[test]
fn gpt_disk_of_128_mib_gzip_to_three_drives() {
    require_root!();
    flash_to_three_drives(
        "images/etcher-gpt-test.img.gz",
        ExpectedImage::known(128 << 20, ETCHER_GPT_TEST_SHA256),
    );
}

fn zip_without_image_is_refused(fixture: &str) {
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), 1 << 20);
    let image = etcher_fixture(fixture);
    let output = flash(&image, &devices(&drives), &[]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains("no disk image in archive") && message.contains(fixture_name(&image)),
        "the refusal names the archive and says it holds no disk image: {message}"
    );
    for drive in &drives {
        drive.assert_unchanged();
    }
}

fn fixture_name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

#[test]
fn empty_zip_is_refused_nothing_written() {
    require_root!();
    zip_without_image_is_refused("zip/zip-directory-empty.zip");
}

#[test]
fn zip_of_misc_files_only_is_refused_nothing_written() {
    require_root!();
    zip_without_image_is_refused("zip/zip-directory-no-image-only-misc.zip");
}

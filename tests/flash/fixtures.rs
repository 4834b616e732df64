//! Every image among the test images of tests/fixtures/, flashed to three loop devices at
//! once: each drive holds exactly the decompressed image, and every byte
//! after the image's end keeps the drive's old pattern.

use std::path::Path;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, assert_exit, devices, drive_size_for, flash, stderr, three_drives, tool_output,
};
use crate::support::loopdev::LoopLock;
use crate::support::{GPT_TEST_IMG_BYTES, GPT_TEST_IMG_SHA256, TEST_IMG_SHA256, fixture};

fn flash_to_three_drives(name: &str, expected: ExpectedImage) {
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(expected.len));
    let image = fixture(name);
    let output = flash(&image, &devices(&drives), &[]);
    assert_exit(&output, 0);
    for drive in &drives {
        drive.assert_holds(&expected);
    }
}

/// What `tool ARGS FILE` writes to stdout: an independent decompression.
fn decompressed_by(tool: &str, args: &[&str], name: &str) -> ExpectedImage {
    ExpectedImage::from_bytes(tool_output(tool, args, &fixture(name)))
}

fn raw_file(name: &str) -> ExpectedImage {
    ExpectedImage::from_bytes(std::fs::read(fixture(name)).unwrap())
}

#[test]
fn gzip_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("test.img.gz", ExpectedImage::test_img());
}

#[test]
fn xz_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("test.img.xz", ExpectedImage::test_img());
}

#[test]
fn bzip2_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("test.img.bz2", ExpectedImage::test_img());
}

#[test]
fn bzip2_level_9_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("test-9.img.bz2", ExpectedImage::test_img());
}

#[test]
fn zstd_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("test.img.zst", ExpectedImage::test_img());
}

#[test]
fn zip_deflate_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("zip-deflate.zip", ExpectedImage::test_img());
}

#[test]
fn zip_bzip2_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("zip-bzip2.zip", ExpectedImage::test_img());
}

#[test]
fn zip_lzma_fixture_to_three_drives() {
    require_root!();
    flash_to_three_drives("zip-lzma.zip", ExpectedImage::test_img());
}

#[test]
fn zip_with_folders_and_only_an_image_to_three_drives() {
    require_root!();
    flash_to_three_drives("zip-directory-image-only.zip", ExpectedImage::test_img());
}

#[test]
fn zip_with_folders_misc_files_and_an_image_to_three_drives() {
    require_root!();
    flash_to_three_drives(
        "zip-directory-image-and-misc.zip",
        ExpectedImage::test_img(),
    );
}

#[test]
fn ten_byte_image_in_a_zip_to_three_drives_rest_of_first_sector_kept() {
    require_root!();
    let expected = decompressed_by("unzip", &["-p"], "data.img.zip");
    assert_eq!(expected.len, 10, "unzip -p gives the 10-byte data.img");
    flash_to_three_drives("data.img.zip", expected);
}

#[test]
fn xz_without_extension_is_detected_by_content() {
    require_root!();
    let by_xz = decompressed_by("xz", &["-dc"], "xz-without-extension");
    assert_eq!(by_xz.sha256, TEST_IMG_SHA256);
    flash_to_three_drives("xz-without-extension", by_xz);
}

#[test]
fn xz_with_a_misleading_extension_is_detected_by_content() {
    require_root!();
    flash_to_three_drives("xz-with-invalid-extension.foo", ExpectedImage::test_img());
}

#[test]
fn random_bytes_named_rpi_sdcard_are_written_raw() {
    require_root!();
    flash_to_three_drives("random.rpi-sdcard", raw_file("random.rpi-sdcard"));
}

#[test]
fn text_file_named_dmg_is_written_raw() {
    require_root!();
    flash_to_three_drives(
        "raw-image-not-a-dmg.dmg",
        raw_file("raw-image-not-a-dmg.dmg"),
    );
}

#[test]
fn gpt_disk_of_38_mib_gzip_to_three_drives() {
    require_root!();
    flash_to_three_drives(
        "gpt-test.img.gz",
        ExpectedImage::known(GPT_TEST_IMG_BYTES, GPT_TEST_IMG_SHA256),
    );
}

fn zip_without_image_is_refused(name: &str) {
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), 1 << 20);
    let image = fixture(name);
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
    zip_without_image_is_refused("zip-directory-empty.zip");
}

#[test]
fn zip_of_misc_files_only_is_refused_nothing_written() {
    require_root!();
    zip_without_image_is_refused("zip-directory-no-image-only-misc.zip");
}

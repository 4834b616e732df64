//! Drives and images that fail: a read-only drive fails alone while the
//! others are written; a drive too small refuses the whole run before
//! anything is written; a damaged image fails every drive.

use std::path::Path;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, compress, describe, devices, drive_size_for,
    events, flash, json_events, stderr, target_done, three_drives,
};
use crate::support::loopdev::LoopLock;
use crate::support::pseudo_random_bytes;
use crate::support::{TEST_IMG_BYTES, fixture};

#[test]
fn three_targets_one_read_only_two_succeed_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let size = drive_size_for(TEST_IMG_BYTES);
    let first = PatternedDrive::create(dir.path(), "first.bin", size, 1);
    let read_only = PatternedDrive::create_read_only(dir.path(), "ro.bin", size, 2);
    let last = PatternedDrive::create(dir.path(), "last.bin", size, 3);
    let drives = [first, read_only, last];
    let image = fixture("test.img.xz");

    let output = flash(&image, &devices(&drives), &["--json"]);

    assert_exit(&output, 1);
    let all = json_events(&output);
    for good in [&drives[0], &drives[2]] {
        let done = target_done(&all, good.device());
        assert_eq!(done["ok"], true, "{done}");
        let verified = events(&all, "progress").into_iter().any(|e| {
            e["target"] == good.name().as_str()
                && e["phase"] == "verify"
                && e["bytes"] == TEST_IMG_BYTES
        });
        assert!(
            verified,
            "{} was verified to the end: {all:#?}",
            good.name()
        );
        good.assert_holds(&ExpectedImage::test_img());
    }
    let failed = target_done(&all, drives[1].device());
    assert_eq!(failed["ok"], false, "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("read-only") && error.contains(&drives[1].name()),
        "the failure names the drive and says read-only: {error}"
    );
    let done = &events(&all, "done")[0];
    assert_eq!(
        (done["ok"].as_u64(), done["failed"].as_u64()),
        (Some(2), Some(1))
    );
    drives[1].assert_unchanged();
}

#[test]
fn target_smaller_than_the_image_refuses_all_exit_2_nothing_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let big = drive_size_for(TEST_IMG_BYTES);
    let drives = [
        PatternedDrive::create(dir.path(), "big1.bin", big, 1),
        PatternedDrive::create(dir.path(), "small.bin", 4 << 20, 2),
        PatternedDrive::create(dir.path(), "big2.bin", big, 3),
    ];
    // xz states its decompressed size in its index: known before writing.
    let image = fixture("test.img.xz");

    let output = flash(&image, &devices(&drives), &[]);

    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains(&drives[1].name()) && message.contains("too small"),
        "the refusal names the small drive: {message}"
    );
    assert!(
        !message.contains(&drives[0].name()) && !message.contains(&drives[2].name()),
        "only the small drive is blamed: {message}"
    );
    for drive in &drives {
        drive.assert_unchanged();
    }
}

#[test]
fn bzip2_of_unknown_size_larger_than_one_drive_fails_that_drive_only_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let big = drive_size_for(TEST_IMG_BYTES);
    let drives = [
        PatternedDrive::create(dir.path(), "big1.bin", big, 1),
        PatternedDrive::create(dir.path(), "small.bin", 4 << 20, 2),
        PatternedDrive::create(dir.path(), "big2.bin", big, 3),
    ];
    // bzip2 records no size (gzip's trailer gives a lower bound, which
    // refuses the drive up front: cli_options.rs): the small drive can only
    // fail when the image reaches its end.
    let image = fixture("test.img.bz2");

    let output = flash(&image, &devices(&drives), &["--json"]);

    assert_exit(&output, 1);
    let all = json_events(&output);
    assert_eq!(
        all[0]["size"],
        serde_json::Value::Null,
        "bzip2 size unknown"
    );
    for good in [&drives[0], &drives[2]] {
        assert_eq!(target_done(&all, good.device())["ok"], true);
        good.assert_holds(&ExpectedImage::test_img());
    }
    let small = target_done(&all, drives[1].device());
    assert_eq!(small["ok"], false);
    let error = small["error"].as_str().unwrap();
    assert!(
        error.contains(&drives[1].name()) && error.contains("4194304"),
        "the failure names the drive and its size: {error}"
    );
}

/// Flashes a damaged `image` to three drives with `--json`: exit 1, and
/// every drive reported failed with an error naming the image.
fn damaged_image_fails_every_drive(image: &Path, drives: &[PatternedDrive]) {
    let output = flash(image, &devices(drives), &["--json"]);
    assert_exit(&output, 1);
    let all = json_events(&output);
    let image_name = image.display().to_string();
    for drive in drives {
        let done = target_done(&all, drive.device());
        assert_eq!(
            done["ok"],
            false,
            "{} reported successful: {done}",
            drive.name()
        );
        let error = done["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&image_name),
            "the error names the image {image_name}: {error}"
        );
    }
    let done = &events(&all, "done")[0];
    assert_eq!(done["ok"], 0, "{}", describe(&output));
    assert_eq!(done["failed"], 3);
}

#[test]
fn xz_with_one_byte_flipped_mid_file_fails_every_drive_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    // Random data is stored uncompressed inside xz: the flipped byte is only
    // caught by the block's check, after data has already gone to the drives.
    let raw = dir.path().join("random.img");
    std::fs::write(&raw, pseudo_random_bytes(4 << 20, 99)).unwrap();
    let xz = compress("xz", &raw, ".xz");
    flip_middle_byte(&xz);
    let drives = three_drives(dir.path(), drive_size_for(4 << 20));

    damaged_image_fails_every_drive(&xz, &drives);
}

#[test]
fn test_img_xz_with_one_byte_flipped_mid_file_fails_every_drive_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let xz = dir.path().join("test.img.xz");
    std::fs::copy(fixture("test.img.xz"), &xz).unwrap();
    flip_middle_byte(&xz);
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));

    damaged_image_fails_every_drive(&xz, &drives);
}

#[test]
fn truncated_gzip_fails_every_drive_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("random.img");
    std::fs::write(&raw, pseudo_random_bytes(4 << 20, 98)).unwrap();
    let gz = compress("gzip", &raw, ".gz");
    let compressed = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &compressed[..compressed.len() * 2 / 3]).unwrap();
    let drives = three_drives(dir.path(), drive_size_for(4 << 20));

    damaged_image_fails_every_drive(&gz, &drives);
}

#[test]
fn truncated_test_img_gzip_fails_every_drive_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("test.img.gz");
    let compressed = std::fs::read(fixture("test.img.gz")).unwrap();
    std::fs::write(&gz, &compressed[..compressed.len() / 2]).unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));

    damaged_image_fails_every_drive(&gz, &drives);
}

/// Flips one byte in the middle of `path`, as a damaged download would.
fn flip_middle_byte(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(path, bytes).unwrap();
}

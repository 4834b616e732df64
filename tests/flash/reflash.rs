//! Compare-before-write on real loop devices (docs/architecture.md §2): a
//! re-flash of the image a drive already holds writes only the first MiB
//! (cleared first, written last); a drive that differs in one chunk gets
//! that chunk written; a drive holding something else is written whole.
//! The oracle is the drive's bytes, read through the loop device, and the
//! `target_done` counts.

use std::os::unix::fs::FileExt;
use std::path::Path;

use serde_json::Value;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, flash, json_events, target_done,
};
use crate::support::loopdev::LoopLock;
use crate::support::pseudo_random_bytes;

const IMAGE_BYTES: usize = 32 << 20;
const DRIVE_BYTES: usize = 48 << 20;
/// The engine's chunk: the unit compared and written.
const CHUNK: u64 = 4 << 20;

/// Flashes `image` (every byte used) to `drive`; its `target_done`.
fn flash_once(image: &Path, drive: &PatternedDrive) -> Value {
    let output = flash(image, &[drive.device()], &["--json", "--no-probe"]);
    assert_exit(&output, 0);
    let all = json_events(&output);
    let done = target_done(&all, drive.device()).clone();
    assert_eq!(done["ok"], true, "{done}");
    done
}

fn count(done: &Value, field: &str) -> u64 {
    done[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {done}"))
}

fn image(dir: &Path) -> (std::path::PathBuf, ExpectedImage) {
    let bytes = pseudo_random_bytes(IMAGE_BYTES, 0x23);
    let path = dir.join("raw.img");
    std::fs::write(&path, &bytes).unwrap();
    (path, ExpectedImage::from_bytes(bytes))
}

#[test]
fn a_reflash_of_the_same_image_writes_only_the_held_first_mib_and_verifies() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (path, expected) = image(dir.path());
    let drive = PatternedDrive::filled(dir.path(), "drive.bin", DRIVE_BYTES, 0xA5);

    let fresh = flash_once(&path, &drive);
    // A drive full of 0xA5 holds none of the image: written whole.
    assert_eq!(count(&fresh, "matched_bytes"), 0, "{fresh}");
    assert_eq!(count(&fresh, "written_bytes"), IMAGE_BYTES as u64);
    let again = flash_once(&path, &drive);

    let (written, matched) = (
        count(&again, "written_bytes"),
        count(&again, "matched_bytes"),
    );
    assert_eq!(
        written,
        1 << 20,
        "only the first MiB, cleared first: {again}"
    );
    assert_eq!(written + matched, IMAGE_BYTES as u64, "{again}");
    assert_eq!(count(&again, "verified_bytes"), IMAGE_BYTES as u64);
    drive.assert_holds(&expected);
}

#[test]
fn a_drive_differing_in_one_chunk_gets_exactly_that_chunk_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (path, expected) = image(dir.path());
    let drive = PatternedDrive::filled(dir.path(), "drive.bin", DRIVE_BYTES, 0);
    flash_once(&path, &drive);
    // One byte changed in the fourth chunk, through the device itself.
    let at = 3 * CHUNK + 12_345;
    let device = std::fs::OpenOptions::new()
        .write(true)
        .open(drive.device())
        .unwrap();
    let original = pseudo_random_bytes(IMAGE_BYTES, 0x23)[at as usize];
    device.write_all_at(&[!original], at).unwrap();
    device.sync_all().unwrap();
    drop(device);

    let again = flash_once(&path, &drive);

    assert_eq!(
        count(&again, "written_bytes"),
        (1 << 20) + CHUNK,
        "the first MiB and the changed chunk: {again}"
    );
    assert_eq!(
        count(&again, "matched_bytes"),
        IMAGE_BYTES as u64 - (1 << 20) - CHUNK
    );
    drive.assert_holds(&expected);
}

#[test]
fn a_drive_holding_another_image_is_written_whole_after_a_few_samples() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (path, expected) = image(dir.path());
    let drive = PatternedDrive::create(dir.path(), "drive.bin", DRIVE_BYTES, 0x0DD);

    let done = flash_once(&path, &drive);

    assert_eq!(count(&done, "matched_bytes"), 0, "{done}");
    assert_eq!(count(&done, "written_bytes"), IMAGE_BYTES as u64);
    drive.assert_holds(&expected);
}

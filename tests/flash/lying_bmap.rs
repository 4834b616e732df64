//! A bmap beside the image whose range checksum lies fails the drive the
//! same way through `imprint flash` (the app's helper runs this command
//! line: `--json --yes`) and `imprint station`: exit 1, the drive failed
//! naming the bmap range, nothing reported ok. The app's in-process run
//! and its helper, driven through the window, are in
//! `tests/gui/kittest_bmap.rs`.

use crate::require_root;
use crate::support::flashing::{PatternedDrive, assert_exit, json_events, target_done};
use crate::support::loopdev::LoopLock;
use crate::support::lying_bmap::image_with_lying_bmap;
use crate::support::{TEST_IMG_BYTES, imprint};

const DRIVE_BYTES: usize = TEST_IMG_BYTES + (1 << 20);

#[test]
fn a_lying_bmap_fails_the_command_line_run() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = image_with_lying_bmap(dir.path());
    let drive = PatternedDrive::create(dir.path(), "d.bin", DRIVE_BYTES, 71);
    // The helper's command line (`src/gui/helper.rs`).
    let out = imprint()
        .arg("flash")
        .arg(&image)
        .arg("-t")
        .arg(drive.device())
        .args(["--json", "--yes"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let events = json_events(&out);
    let done = target_done(&events, drive.device());
    assert_eq!(done["ok"], false, "{done}");
    assert!(
        done["error"].as_str().unwrap().contains("bmap range"),
        "{done}"
    );
    let last = events.last().unwrap();
    assert_eq!(last["ok"], 0, "{last}");
}

#[test]
fn a_lying_bmap_fails_the_drive_of_a_station() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = image_with_lying_bmap(dir.path());
    let pattern = format!("{}/*.bin", dir.path().display());
    let station = super::station::Station::start_with(&image, &pattern, &["--count", "1"]);
    let drive = PatternedDrive::create(dir.path(), "s.bin", DRIVE_BYTES, 72);
    let (code, events) = station.wait();
    assert_eq!(code, 1, "{events:#?}");
    let done = events
        .iter()
        .find(|e| e["event"] == "target_done" && e["target"] == drive.name().as_str())
        .unwrap_or_else(|| panic!("no target_done: {events:#?}"));
    assert_eq!(done["ok"], false, "{done}");
    assert!(
        done["error"].as_str().unwrap().contains("bmap range"),
        "{done}"
    );
    let summary = events.iter().find(|e| e["event"] == "done").unwrap();
    assert_eq!(summary["ok"], 0, "{summary}");
}

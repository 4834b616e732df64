//! `imprint station` on real loop devices, attached while it runs, as an
//! operator plugs in cards: each drive flashed and verified alone, a report
//! line each, nothing flashed twice, too-small and read-only drives
//! reported, `--count`, sixteen drives at staggered times. Every station is
//! started with `--match` on the test's own folder, so it sees only the
//! loop devices the test attaches. The harness that runs a station and
//! reads its events is `station/harness.rs`.

mod customise;
mod harness;
mod signed;

pub(super) use harness::Station;
use harness::WAIT;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::require_root;
use crate::support::faultdev::{Fault, FaultDevice};
use crate::support::flashing::{ExpectedImage, PatternedDrive};
use crate::support::loopdev::{LoopDevice, LoopLock};
use crate::support::{TEST_IMG_BYTES, TEST_IMG_SHA256, fixture, pseudo_random_bytes};

/// A drive with room for `test.img` (5 MiB) and a patterned tail.
const DRIVE_BYTES: usize = TEST_IMG_BYTES + (1 << 20);

fn report_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn drive_id(drive: &PatternedDrive) -> String {
    format!("loop:{}", drive.loop_device.backing.display())
}

#[test]
fn drives_plugged_in_one_after_another_are_each_flashed_once_with_a_report_line() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let present = PatternedDrive::create(dir.path(), "present.bin", DRIVE_BYTES, 1);
    let report = dir.path().join("report.jsonl");
    let mut station = Station::start(dir.path(), &["--report", report.to_str().unwrap()]);

    let first = PatternedDrive::create(dir.path(), "card-1.bin", DRIVE_BYTES, 2);
    let done = station.done(first.device());
    assert_eq!(done["outcome"], "ok", "{done}");
    assert_eq!(done["drive"], drive_id(&first).as_str());
    let second = PatternedDrive::create(dir.path(), "card-2.bin", DRIVE_BYTES, 3);
    assert_eq!(station.done(second.device())["outcome"], "ok");
    first.assert_holds(&ExpectedImage::test_img());
    second.assert_holds(&ExpectedImage::test_img());

    // The first card comes back: same backing file, so the same drive.
    let backing = first.loop_device.backing.clone();
    let first_device = first.device().display().to_string();
    drop(first);
    let id = format!("loop:{}", backing.display());
    station.wait_for("the first card removed", |e| {
        e["event"] == "removed" && e["drive"] == id.as_str() && e["path"] == first_device.as_str()
    });
    let again = LoopDevice::attach(&backing, false);
    let skipped = station.wait_for("the first card skipped", |e| {
        e["event"] == "skipped" && e["drive"] == id.as_str()
    });
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("flashed already"),
        "{skipped}"
    );

    let (code, events) = station.interrupt();
    assert_eq!(code, 0, "{events:#?}");
    // The drive present at the start is listed, not flashed.
    let present_id = drive_id(&present);
    let listed = events
        .iter()
        .find(|e| e["event"] == "skipped" && e["drive"] == present_id.as_str())
        .expect("the present drive is listed");
    assert!(listed["reason"].as_str().unwrap().contains("present"));
    present.assert_unchanged();
    // Two cards, two flashes: neither the present drive nor the card that
    // came back was written.
    let flashed = events
        .iter()
        .filter(|e| e["event"] == "target_done")
        .count();
    assert_eq!(flashed, 2, "{events:#?}");
    drop(again);
    let done = events.iter().filter(|e| e["event"] == "done").count();
    assert_eq!(done, 1, "{events:#?}");

    let lines = report_lines(&report);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for (line, name) in lines.iter().zip(["card-1.bin", "card-2.bin"]) {
        assert_eq!(line["result"], "ok");
        assert_eq!(line["image_sha256"], TEST_IMG_SHA256);
        assert_eq!(line["written_bytes"], TEST_IMG_BYTES as u64);
        assert_eq!(line["verified_bytes"], TEST_IMG_BYTES as u64);
        assert_eq!(line["size"], DRIVE_BYTES as u64);
        let backing = dir.path().join(name).display().to_string();
        assert_eq!(line["backing_file"], backing.as_str());
        assert!(line["image"].as_str().unwrap().ends_with("test.img.xz"));
        assert!(line["started"].as_str().unwrap().ends_with('Z'));
        assert!(line["mb_per_s"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn a_too_small_drive_is_skipped_and_a_read_only_one_fails_alone() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let mut station = Station::start(dir.path(), &["--report", report.to_str().unwrap()]);

    let small = PatternedDrive::create(dir.path(), "small.bin", 1 << 20, 4);
    let id = drive_id(&small);
    let skipped = station.wait_for("the small drive skipped", |e| {
        e["event"] == "skipped" && e["drive"] == id.as_str()
    });
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("too small: the image needs"),
        "{skipped}"
    );
    let locked = PatternedDrive::create_read_only(dir.path(), "locked.bin", DRIVE_BYTES, 5);
    let good = PatternedDrive::create(dir.path(), "good.bin", DRIVE_BYTES, 6);
    let failed = station.done(locked.device());
    assert_eq!(failed["outcome"], "failed", "{failed}");
    assert_eq!(station.done(good.device())["outcome"], "ok");

    let (code, _) = station.interrupt();
    assert_eq!(code, 1, "a drive failed");
    small.assert_unchanged();
    locked.assert_unchanged();
    good.assert_holds(&ExpectedImage::test_img());
    let lines = report_lines(&report);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let locked_line = lines
        .iter()
        .find(|l| l["backing_file"] == locked.loop_device.backing.display().to_string().as_str())
        .unwrap();
    assert_eq!(locked_line["result"], "failed");
    assert!(
        locked_line["error"].as_str().unwrap().contains("read-only"),
        "{locked_line}"
    );
    assert_eq!(locked_line["written_bytes"], 0);
}

#[test]
fn count_stops_the_station_after_that_many_drives() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let mut station = Station::start(dir.path(), &["--count", "3"]);
    let drives: Vec<PatternedDrive> = (0..3)
        .map(|i| {
            let drive =
                PatternedDrive::create(dir.path(), &format!("c{i}.bin"), DRIVE_BYTES, 10 + i);
            station.done(drive.device());
            drive
        })
        .collect();
    let (code, events) = station.wait();
    assert_eq!(code, 0, "{events:#?}");
    let done = events.iter().find(|e| e["event"] == "done").unwrap();
    assert_eq!(done["ok"], 3);
    for drive in &drives {
        drive.assert_holds(&ExpectedImage::test_img());
    }
}

#[test]
fn sixteen_drives_plugged_in_at_staggered_times_are_all_flashed() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let station = Station::start(
        dir.path(),
        &["--count", "16", "--report", report.to_str().unwrap()],
    );
    let mut drives = Vec::new();
    for i in 0..16u64 {
        drives.push(PatternedDrive::create(
            dir.path(),
            &format!("s{i:02}.bin"),
            DRIVE_BYTES,
            100 + i,
        ));
        std::thread::sleep(Duration::from_millis(50 * (i % 4)));
    }
    let (code, events) = station.wait();
    assert_eq!(code, 0, "{events:#?}");
    let ok: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "target_done" && e["outcome"] == "ok")
        .collect();
    assert_eq!(ok.len(), 16, "{events:#?}");
    for drive in &drives {
        drive.assert_holds(&ExpectedImage::test_img());
    }
    let backing: Vec<PathBuf> = report_lines(&report)
        .iter()
        .map(|l| PathBuf::from(l["backing_file"].as_str().unwrap()))
        .collect();
    assert_eq!(backing.len(), 16);
    for drive in &drives {
        assert!(backing.contains(&drive.loop_device.backing));
    }
}

#[test]
fn ctrl_c_cancels_the_drives_in_flight_and_reports_them_cut_off() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    // The fault device's file is `…/mnt/disk`, in a folder of its own.
    let mut station = Station::start_with(
        &fixture("test.img.xz"),
        "*/mnt/disk",
        &["--report", report.to_str().unwrap()],
    );
    let stall = Duration::from_secs(6);
    let stalled = FaultDevice::new(
        pseudo_random_bytes(DRIVE_BYTES, 8),
        Fault::StallWrite { at: 3 << 20, stall },
    );
    let path = stalled.name();
    station.wait_for("the stalled drive writing", |e| {
        e["event"] == "progress" && e["target"] == path.as_str()
    });
    let deadline = Instant::now() + WAIT;
    while !stalled.stall_began() {
        assert!(Instant::now() < deadline, "the stall never began");
        std::thread::sleep(Duration::from_millis(20));
    }
    let stopped = Instant::now();
    let (code, events) = station.interrupt();
    assert_eq!(code, 1, "a drive was cut off: {events:#?}");
    let done = events
        .iter()
        .find(|e| e["event"] == "target_done" && e["target"] == path.as_str())
        .expect("the stalled drive's target_done");
    assert_eq!(done["outcome"], "cancelled", "{done}");
    assert!(
        stopped.elapsed() < stall + Duration::from_secs(5),
        "the station ended {:?} after Ctrl-C",
        stopped.elapsed()
    );
    let lines = report_lines(&report);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["result"], "cancelled");
}

#[test]
fn a_device_left_without_its_medium_is_an_empty_slot_and_an_unknown_one_is_not() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = PatternedDrive::create(dir.path(), "slot.bin", 1 << 20, 1);
    let device = drive.device().to_path_buf();
    assert!(
        !imprint::platform::is_empty_slot(&device),
        "a loop device with a file"
    );
    // A detached loop device stays in sysfs with size 0, as a card reader
    // does when its card is taken out.
    drop(drive);
    assert!(imprint::platform::is_empty_slot(&device));
    assert!(!imprint::platform::is_empty_slot(Path::new(
        "/dev/imprint-no-such-disk"
    )));
}

#[test]
fn again_flashes_a_drive_that_comes_back() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let mut station = Station::start(dir.path(), &["--again", "--count", "2"]);
    let card = PatternedDrive::create(dir.path(), "card.bin", DRIVE_BYTES, 21);
    assert_eq!(station.done(card.device())["outcome"], "ok");
    let backing = card.loop_device.backing.clone();
    let id = drive_id(&card);
    drop(card);
    station.wait_for("the card removed", |e| {
        e["event"] == "removed" && e["drive"] == id.as_str()
    });
    // Scribbled on between the two insertions: the second flash must
    // write the image again, not find it there.
    std::fs::write(&backing, pseudo_random_bytes(DRIVE_BYTES, 22)).unwrap();
    let again = LoopDevice::attach(&backing, false);
    let (code, events) = station.wait();
    assert_eq!(code, 0, "{events:#?}");
    let flashed: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "target_done" && e["drive"] == id.as_str())
        .collect();
    assert_eq!(flashed.len(), 2, "{events:#?}");
    let now = again.contents();
    ExpectedImage::test_img().assert_is(&now[..TEST_IMG_BYTES], "the card flashed again");
}

/// A station whose record file cannot grow (a full filesystem): a drive
/// without an identity is flashed, and the record it cannot write is an
/// `error` event of kind `report` (exit 1); a drive that takes an identity
/// is not written at all, since its claim cannot be recorded.
#[test]
fn a_record_the_station_cannot_write_is_an_event_and_a_claim_it_cannot_write_stops_the_drive() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let full = crate::support::full_fs::FullFilesystem::new(dir.path(), "report.jsonl");
    let report = full.file.display().to_string();
    let mut station = Station::start(dir.path(), &["--report", &report]);
    let card = PatternedDrive::create(dir.path(), "card.bin", DRIVE_BYTES, 5);
    assert_eq!(station.done(card.device())["outcome"], "ok");
    let error = station.wait_for("the report error", |e| e["event"] == "error");
    assert_eq!(error["kind"], "report", "{error}");
    let device = card.device().display().to_string();
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains(&format!("{device} is not recorded")),
        "{error}"
    );
    let (code, _) = station.interrupt();
    assert_eq!(code, 1, "a drive not recorded fails the station");
    drop(card);

    let image =
        crate::support::balena_image::small_resin_boot(dir.path(), "balena.img", 12, 2, &[]);
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"deviceType": "raspberrypi4-64", "hostname": "node-{n}"}"#,
    )
    .unwrap();
    let pattern = format!("{}/id-*", dir.path().display());
    let config = config.display().to_string();
    let mut station = Station::start_with(
        &image.path,
        &pattern,
        &["--config", &config, "--new-uuid", "--report", &report],
    );
    let size = std::fs::metadata(&image.path).unwrap().len() as usize + (1 << 20);
    let card = PatternedDrive::create(dir.path(), "id-card.bin", size, 6);
    let id = drive_id(&card);
    let skipped = station.wait_for("the card skipped", |e| {
        e["event"] == "skipped" && e["drive"] == id.as_str()
    });
    assert!(
        skipped["reason"].as_str().unwrap().contains("cannot claim"),
        "{skipped}"
    );
    let (code, events) = station.interrupt();
    assert_eq!(code, 1, "{events:#?}");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "error" && e["kind"] == "report")
    );
    assert!(
        !events.iter().any(|e| e["event"] == "flashing"),
        "{events:#?}"
    );
    card.assert_unchanged();
    assert_eq!(std::fs::read(&full.file).unwrap(), b"");
}

/// Each drive is probed by default, its verdict in the events and the
/// report; `--no-probe` skips the probe (no event, no verdict recorded).
#[test]
fn the_station_probes_each_drive_unless_no_probe() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    for (i, extra) in [None, Some("--no-probe")].into_iter().enumerate() {
        let report = dir.path().join(format!("report-{i}.jsonl"));
        let mut args = vec!["--count", "1", "--report", report.to_str().unwrap()];
        args.extend(extra);
        let mut station = Station::start(dir.path(), &args);
        let name = format!("p{i}.bin");
        let drive = PatternedDrive::create(dir.path(), &name, 16 << 20, 40 + i as u64);
        station.done(drive.device());
        let (code, events) = station.wait();
        assert_eq!(code, 0, "{events:#?}");
        let probes: Vec<&Value> = events.iter().filter(|e| e["event"] == "probe").collect();
        let lines = report_lines(&report);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        if extra.is_none() {
            assert_eq!(probes.len(), 1, "{events:#?}");
            assert_eq!(probes[0]["verdict"], "no evidence");
            assert_eq!(lines[0]["probe"], "no evidence");
        } else {
            assert!(probes.is_empty(), "{probes:#?}");
            assert!(lines[0].get("probe").is_none(), "{:#?}", lines[0]);
        }
        drive.assert_holds(&ExpectedImage::test_img());
    }
}

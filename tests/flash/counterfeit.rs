//! The counterfeit probe on real block devices: FUSE fault devices that
//! claim 1 GiB and wrap at 64 MiB, or at 96 or 100 MiB (not a power of two), or
//! lose writes past 96 MiB, are named fake before anything is written —
//! exit 1, that drive failed with kind `fake`, its verdict and the
//! headline, left blank — while the genuine drives beside them are ok;
//! and genuine loop devices give no false alarm, run after run.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::require_root;
use crate::support::faultdev::{Fault, FaultDevice};
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, describe, drive_size_for, events, flash_sparse,
    json_events, target_done,
};
use crate::support::loopdev::LoopLock;
use crate::support::pseudo_random_bytes;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const IMAGE_BYTES: usize = 6 << 20;

/// The `probe` event of `device`.
fn probe_of<'a>(all: &'a [Value], device: &std::path::Path) -> &'a Value {
    let name = device.display().to_string();
    let probes = events(all, "probe");
    probes
        .into_iter()
        .find(|e| e["target"] == name.as_str())
        .unwrap_or_else(|| panic!("a probe event for {name}: {all:#?}"))
}

/// Flashes a 6 MiB image to a genuine drive, a card claiming 1 GiB that
/// keeps `held` bytes and misbehaves as `fault`, and another genuine
/// drive: the fake fails alone with `verdict`, quickly.
fn a_fake_between_two_genuine_drives(held: u64, fault: Fault, verdict: &str) {
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = pseudo_random_bytes(IMAGE_BYTES, 0xC0);
    let image_path = dir.path().join("os.img");
    std::fs::write(&image_path, &image).unwrap();
    let size = drive_size_for(IMAGE_BYTES);
    let good = [
        PatternedDrive::create(dir.path(), "a.bin", size, 1),
        PatternedDrive::create(dir.path(), "b.bin", size, 2),
    ];
    let fake = FaultDevice::claiming(pseudo_random_bytes(held as usize, 3), GIB, fault);
    let devices = [good[0].device(), fake.device(), good[1].device()];

    let started = Instant::now();
    let report = dir.path().join("report.jsonl");
    let report_arg = report.display().to_string();
    let output = flash_sparse(&image_path, &devices, &["--json", "--report", &report_arg]);
    let took = started.elapsed();

    assert_exit(&output, 1);
    let all = json_events(&output);
    let failed = target_done(&all, fake.device());
    assert_eq!(failed["ok"], false, "{failed}");
    assert_eq!(failed["kind"], "fake", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    let real = crate::support::flashing::decimal_bytes(verdict_bytes(verdict));
    assert!(
        error.contains(&format!("This card is fake: it holds only {real}"))
            && error.contains(verdict)
            && error.contains("the card was left blank"),
        "{error}"
    );
    let probe = probe_of(&all, fake.device());
    assert_eq!(probe["verdict"], verdict, "{probe}");
    assert_eq!(probe["real_bytes"].as_u64(), Some(verdict_bytes(verdict)));
    // Nothing of the image reached it: its first MiB is blank.
    assert!(fake.contents()[..MIB as usize].iter().all(|&b| b == 0));
    let expected = ExpectedImage::from_bytes(image);
    for drive in &good {
        assert_eq!(
            target_done(&all, drive.device())["ok"],
            true,
            "{}",
            describe(&output)
        );
        assert_eq!(probe_of(&all, drive.device())["verdict"], "no evidence");
        drive.assert_holds(&expected);
    }
    // The report says each drive's verdict: the fake's, and "no evidence"
    // (never "genuine") for the others.
    let records = report_records(&report);
    let of = |device: &std::path::Path| {
        let name = device.display().to_string();
        let found = records.iter().find(|r| r["path"] == name.as_str());
        found.unwrap_or_else(|| panic!("{name} in {records:#?}"))["probe"].clone()
    };
    assert_eq!(of(fake.device()), verdict, "{records:#?}");
    assert_eq!(of(good[0].device()), "no evidence");
    assert_eq!(of(good[1].device()), "no evidence");
    eprintln!("named fake ({verdict}) in a run of {took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// The drive records of a `--report` file (claims and releases left out).
fn report_records(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap());
    lines.filter(|l| l.get("record").is_none()).collect()
}

/// The N of `wraps at N` or `loses writes beyond N`.
fn verdict_bytes(verdict: &str) -> u64 {
    verdict.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn a_1_gib_card_wrapping_at_64_mib_is_named_fake_exit_1() {
    require_root!();
    a_fake_between_two_genuine_drives(
        64 * MIB,
        Fault::Wrap {
            real_bytes: 64 * MIB,
        },
        &format!("wraps at {}", 64 * MIB),
    );
}

#[test]
fn a_1_gib_card_wrapping_at_96_mib_not_a_power_of_two_is_named_fake_exit_1() {
    require_root!();
    a_fake_between_two_genuine_drives(
        96 * MIB,
        Fault::Wrap {
            real_bytes: 96 * MIB,
        },
        &format!("wraps at {}", 96 * MIB),
    );
}

/// 100 MiB is neither a power of two nor three times one: only the probe's
/// grid of whole MiBs folds onto it.
#[test]
fn a_1_gib_card_wrapping_at_100_mib_is_named_fake_exit_1() {
    require_root!();
    a_fake_between_two_genuine_drives(
        100 * MIB,
        Fault::Wrap {
            real_bytes: 100 * MIB,
        },
        &format!("wraps at {}", 100 * MIB),
    );
}

#[test]
fn a_1_gib_card_losing_writes_past_96_mib_is_named_fake_exit_1() {
    require_root!();
    a_fake_between_two_genuine_drives(
        96 * MIB,
        Fault::DropWrites { from: 96 * MIB },
        &format!("loses writes beyond {}", 96 * MIB),
    );
}

/// 50 runs on genuine loop devices: never a false alarm, and the bytes
/// the probe touched past the image are given back.
#[test]
fn fifty_probes_of_genuine_loop_devices_give_no_false_alarm() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = pseudo_random_bytes(64 << 10, 0x50);
    let image_path = dir.path().join("tiny.img");
    std::fs::write(&image_path, &image).unwrap();
    let drive = PatternedDrive::create(dir.path(), "genuine.bin", 256 << 20, 0x51);
    let expected = ExpectedImage::from_bytes(image);
    for run in 0..50 {
        let output = flash_sparse(&image_path, &[drive.device()], &["--json"]);
        assert_exit(&output, 0);
        let all = json_events(&output);
        let probe = probe_of(&all, drive.device());
        assert_eq!(probe["verdict"], "no evidence", "run {run}: {probe}");
        assert!(probe.get("real_bytes").is_none(), "{probe}");
    }
    // The probe restored what it wrote past the image (its last MiB aside,
    // which every flash clears).
    drive.assert_holds(&expected);
}

#[test]
fn no_probe_skips_it_and_files_are_never_probed() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image_path = dir.path().join("tiny.img");
    std::fs::write(&image_path, pseudo_random_bytes(64 << 10, 0x52)).unwrap();
    let drive = PatternedDrive::create(dir.path(), "drive.bin", 8 << 20, 0x53);
    let file = dir.path().join("out.img");
    let output = flash_sparse(
        &image_path,
        &[drive.device(), &file],
        &["--json", "--no-probe"],
    );
    assert_exit(&output, 0);
    assert!(events(&json_events(&output), "probe").is_empty());
    let output = flash_sparse(&image_path, &[&file], &["--json"]);
    assert_exit(&output, 0);
    assert!(events(&json_events(&output), "probe").is_empty());
}

/// `--probe full` fills every byte past the image with its blocks and
/// reads them all back: a card losing writes past 10 MiB of its 16 is
/// named to the block, and a genuine drive's free space holds the probe's
/// blocks afterwards (it is not restored, as documented).
#[test]
fn probe_full_stamps_the_whole_free_space() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image_path = dir.path().join("small.img");
    std::fs::write(&image_path, pseudo_random_bytes(2 << 20, 0x60)).unwrap();
    let fake = FaultDevice::new(
        pseudo_random_bytes(16 << 20, 0x61),
        Fault::DropWrites { from: 10 * MIB },
    );
    let drive = PatternedDrive::create(dir.path(), "genuine.bin", 16 << 20, 0x62);
    let output = flash_sparse(
        &image_path,
        &[fake.device(), drive.device()],
        &["--json", "--probe", "full"],
    );
    assert_exit(&output, 1);
    let all = json_events(&output);
    let verdict = format!("loses writes beyond {}", 10 * MIB);
    assert_eq!(probe_of(&all, fake.device())["verdict"], verdict.as_str());
    assert_eq!(probe_of(&all, drive.device())["verdict"], "no evidence");
    assert_eq!(target_done(&all, drive.device())["ok"], true);
    let now = drive.loop_device.contents();
    let free = 4 << 20..8 << 20;
    assert!(
        now[free.clone()] != drive.before()[free],
        "the free space was written by the full probe"
    );
}

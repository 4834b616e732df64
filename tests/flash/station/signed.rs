//! `imprint station --report FILE --sign KEY` on loop devices: each drive
//! plugged in gets its own signed record, sealed by the same code as
//! `flash --report --sign`; Debian's `minisign -Vm` accepts each one
//! (and refuses it under another key) and `verify-drive` finds each drive
//! holding what its record says.

use std::path::PathBuf;

use super::{DRIVE_BYTES, Station, report_lines};
use crate::flash::signed::{minisign_verify, new_key, verify_drive};
use crate::require_root;
use crate::support::flashing::{ExpectedImage, PatternedDrive, assert_exit, describe, stdout};
use crate::support::loopdev::LoopLock;

#[test]
fn a_signing_station_writes_a_signed_record_per_drive_that_minisign_and_verify_drive_accept() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let secret = new_key(dir.path(), "station");
    let public = secret.with_extension("pub");
    let other = new_key(dir.path(), "other").with_extension("pub");
    let report = dir.path().join("cards.jsonl");
    let mut station = Station::start(
        dir.path(),
        &[
            "--count",
            "2",
            "--report",
            report.to_str().unwrap(),
            "--sign",
            secret.to_str().unwrap(),
        ],
    );
    let drives: Vec<PatternedDrive> = (0..2)
        .map(|i| {
            let drive =
                PatternedDrive::create(dir.path(), &format!("s{i}.bin"), DRIVE_BYTES, 0x51 + i);
            assert_eq!(station.done(drive.device())["outcome"], "ok");
            drive
        })
        .collect();
    let (code, events) = station.wait();
    assert_eq!(code, 0, "{events:#?}");

    let records = report_lines(&report);
    assert_eq!(records.len(), 2, "{records:#?}");
    for drive in &drives {
        drive.assert_holds(&ExpectedImage::test_img());
        let device = drive.device().display().to_string();
        let record = records
            .iter()
            .find(|r| r["path"] == device.as_str())
            .unwrap_or_else(|| panic!("no record of {device}: {records:#?}"));
        assert_eq!(record["result"], "ok", "{record}");
        // The station writes with --full: the ranges cover the image.
        let ranges = record["ranges"].as_array().expect("ranges in the record");
        let covered: u64 = ranges.iter().map(|r| r["len"].as_u64().unwrap()).sum();
        assert_eq!(Some(covered), record["image_bytes"].as_u64(), "{record}");
        let file = PathBuf::from(record["signed_record"].as_str().unwrap());
        let ok = minisign_verify(&file, &public);
        assert!(ok.status.success(), "minisign -Vm: {}", describe(&ok));
        let refused = minisign_verify(&file, &other);
        assert!(
            !refused.status.success(),
            "another key: {}",
            describe(&refused)
        );

        let out = verify_drive(&file, drive.device(), &public);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("holds what the record says"),
            "{}",
            describe(&out)
        );
    }
}

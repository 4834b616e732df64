//! No identity given twice and records that always reach the user: two
//! runs sharing one `--each` CSV and one `--report` take turns on the
//! report's lock and hand out two rows; rows are matched by value, so a
//! row inserted at the top frees nothing; a CSV with a uuid twice, a uuid
//! of 31 digits or a line break in a cell is refused before writing; a
//! report line that cannot be written is an `error` event of kind
//! `report` and exit 1; `verify` refuses a per-drive configuration with
//! the way to verify; config.json numbers reach the card byte for byte
//! (read back with mtools).

use std::fs;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::require_root;
use crate::support::balena_image::{TestImage, mtype, small_resin_boot};
use crate::support::flashing::{
    PatternedDrive, assert_exit, describe, devices, events, flash, json_events, stderr,
};
use crate::support::full_fs::FullFilesystem;
use crate::support::imprint;
use crate::support::loopdev::LoopLock;

const MIB: usize = 1 << 20;
const TEMPLATE: &str =
    r#"{"applicationId": 1234567, "deviceType": "raspberrypi4-64", "hostname": "node-{n}"}"#;
const UUID_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const UUID_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const UUID_C: &str = "cccccccccccccccccccccccccccccccc";
const UUID_D: &str = "dddddddddddddddddddddddddddddddd";

struct Setup {
    dir: tempfile::TempDir,
    image: TestImage,
    len: usize,
}

fn setup(csv: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let image = small_resin_boot(dir.path(), "balena.img", 12, 2, &[]);
    let len = fs::metadata(&image.path).unwrap().len() as usize;
    fs::write(dir.path().join("config.json"), TEMPLATE).unwrap();
    fs::write(dir.path().join("rows.csv"), csv).unwrap();
    Setup { dir, image, len }
}

impl Setup {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn drives(&self, names: &[&str]) -> Vec<PatternedDrive> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                PatternedDrive::create(self.dir.path(), name, self.len + MIB, 60 + i as u64)
            })
            .collect()
    }

    /// `--config config.json --each rows.csv --report report.jsonl`.
    fn each_args(&self) -> Vec<String> {
        [
            "--config",
            "config.json",
            "--each",
            "rows.csv",
            "--report",
            "report.jsonl",
        ]
        .chunks(2)
        .flat_map(|pair| [pair[0].to_string(), self.path(pair[1])])
        .collect()
    }

    fn config_on(&self, drive: &PatternedDrive) -> Vec<u8> {
        mtype(
            &drive.loop_device.backing,
            self.image.boot_offset,
            "::/config.json",
        )
    }

    fn uuid_on(&self, drive: &PatternedDrive) -> String {
        let config: Value = serde_json::from_slice(&self.config_on(drive)).unwrap();
        config["uuid"].as_str().unwrap().to_string()
    }

    /// The drive records of the report (claims and releases left out).
    fn records(&self) -> Vec<Value> {
        fs::read_to_string(self.path("report.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|l| l.get("record").is_none())
            .collect()
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn rows(uuids: &[&str]) -> String {
    let mut csv = String::from("uuid,deviceApiKey\n");
    for (i, uuid) in uuids.iter().enumerate() {
        csv.push_str(&format!("{uuid},key-{i}\n"));
    }
    csv
}

fn flash_command(s: &Setup, drive: &PatternedDrive) -> Command {
    let mut command = imprint();
    command
        .arg("flash")
        .arg(&s.image.path)
        .arg("-t")
        .arg(drive.device())
        .args(["--yes", "--json"])
        .args(s.each_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[test]
fn two_runs_sharing_a_report_take_turns_and_hand_out_two_rows() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup(&rows(&[UUID_A, UUID_B, UUID_C]));
    let drives = s.drives(&["one.bin", "two.bin"]);
    // The test holds the report's lock, as a third run would: both runs
    // must wait for it, writing nothing meanwhile.
    let report = fs::File::create(s.path("report.jsonl")).unwrap();
    assert_eq!(crate::support::sys::flock(&report, libc::LOCK_EX), 0);
    let first = flash_command(&s, &drives[0]).spawn().unwrap();
    let second = flash_command(&s, &drives[1]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    for drive in &drives {
        drive.assert_unchanged();
    }
    drop(report);
    let outputs: Vec<Output> = [first, second]
        .into_iter()
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert_exit(out, 0);
        assert!(
            stderr(out).contains("waiting for the report"),
            "{}",
            describe(out)
        );
    }
    let on_cards: Vec<String> = drives.iter().map(|d| s.uuid_on(d)).collect();
    assert_ne!(on_cards[0], on_cards[1], "one uuid on two cards");
    let records = s.records();
    assert_eq!(records.len(), 2, "{records:#?}");
    let mut recorded: Vec<&str> = records
        .iter()
        .map(|r| r["uuid"].as_str().unwrap())
        .collect();
    recorded.sort();
    assert_eq!(recorded, [UUID_A, UUID_B]);
    assert!(records.iter().all(|r| r["result"] == "ok"));
    // {n} goes on from the first run: node-1, node-2.
    let mut n: Vec<u64> = records.iter().map(|r| r["n"].as_u64().unwrap()).collect();
    n.sort();
    assert_eq!(n, [1, 2]);
}

#[test]
fn a_row_inserted_at_the_top_does_not_hand_out_a_written_uuid_again() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup(&rows(&[UUID_A, UUID_B, UUID_C]));
    let first = s.drives(&["first.bin"]);
    let out = flash(&s.image.path, &devices(&first), &strs(&s.each_args()));
    assert_exit(&out, 0);
    assert_eq!(s.uuid_on(&first[0]), UUID_A);
    // Someone adds a device at the top of the sheet.
    fs::write(s.path("rows.csv"), rows(&[UUID_D, UUID_A, UUID_B, UUID_C])).unwrap();
    let next = s.drives(&["next1.bin", "next2.bin"]);
    let out = flash(&s.image.path, &devices(&next), &strs(&s.each_args()));
    assert_exit(&out, 0);
    let uuids: Vec<String> = next.iter().map(|d| s.uuid_on(d)).collect();
    assert_eq!(uuids, [UUID_D, UUID_B], "row A was written ok already");
    let records = s.records();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2]["row"], 3, "{records:#?}");
}

#[test]
fn a_csv_with_a_uuid_twice_a_short_uuid_or_a_line_break_is_refused_before_writing() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup("");
    let drives = s.drives(&["d.bin"]);
    let cases = [
        (
            rows(&[UUID_A, UUID_B, UUID_A]),
            "row 1 (line 2) and row 3 (line 4), column \"uuid\"",
        ),
        (
            rows(&[UUID_A, &UUID_B[1..]]),
            "row 2 (line 3), column \"uuid\"",
        ),
        (
            format!("uuid,deviceApiKey\n{UUID_A},\"key\nsecond line\"\n"),
            "row 1 (line 2), column \"deviceApiKey\": the cell holds a line break",
        ),
    ];
    for (csv, says) in cases {
        fs::write(s.path("rows.csv"), &csv).unwrap();
        let mut args = s.each_args();
        args.push("--json".into());
        let out = flash(&s.image.path, &devices(&drives), &strs(&args));
        assert_exit(&out, 2);
        let events = json_events(&out);
        let error = events
            .iter()
            .find(|e| e["event"] == "error")
            .unwrap_or_else(|| panic!("{csv:?}: {}", describe(&out)));
        assert!(
            error["error"].as_str().unwrap().contains(says),
            "{csv:?}: {error}"
        );
        drives[0].assert_unchanged();
        assert!(s.records().is_empty());
    }
}

#[test]
fn a_report_line_that_cannot_be_written_is_an_event_and_exit_1() {
    require_root!();
    let s = setup("uuid\n");
    let full = FullFilesystem::new(s.dir.path(), "report.jsonl");
    let target = s.dir.path().join("card.img");
    let report = full.file.clone();
    let out = imprint()
        .arg("flash")
        .arg(&s.image.path)
        .arg("-t")
        .arg(&target)
        .args(["--yes", "--json", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let all = json_events(&out);
    // The card itself is fine; its record is what is missing.
    assert_eq!(events(&all, "target_done")[0]["ok"], true);
    let errors = events(&all, "error");
    assert_eq!(errors.len(), 1, "{all:#?}");
    assert_eq!(errors[0]["kind"], "report");
    let message = errors[0]["error"].as_str().unwrap();
    assert!(
        message.contains("not recorded") && message.contains("card.img"),
        "{message}"
    );
    assert_eq!(fs::read(&report).unwrap(), b"");
}

#[test]
fn a_claim_that_cannot_be_written_refuses_the_flash_before_writing() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup(&rows(&[UUID_A]));
    let full = FullFilesystem::new(s.dir.path(), "report.jsonl");
    let drives = s.drives(&["claimed.bin"]);
    let config = s.path("config.json");
    let csv = s.path("rows.csv");
    let report = full.file.display().to_string();
    let out = flash(
        &s.image.path,
        &devices(&drives),
        &[
            "--json", "--config", &config, "--each", &csv, "--report", &report,
        ],
    );
    assert_exit(&out, 2);
    let all = json_events(&out);
    let errors = events(&all, "error");
    assert_eq!(errors[0]["kind"], "report", "{all:#?}");
    assert!(
        errors[0]["error"]
            .as_str()
            .unwrap()
            .contains("nothing was written"),
        "{all:#?}"
    );
    assert!(events(&all, "target_done").is_empty(), "{all:#?}");
    drives[0].assert_unchanged();
}

#[test]
fn verify_refuses_a_per_drive_configuration_and_says_how_to_verify() {
    let s = setup(&rows(&[UUID_A]));
    let target = s.dir.path().join("card.img");
    fs::copy(&s.image.path, &target).unwrap();
    let verify = |extra: &[&str]| {
        imprint()
            .arg("verify")
            .arg(&s.image.path)
            .arg("-t")
            .arg(&target)
            .arg("--json")
            .args(extra)
            .output()
            .unwrap()
    };
    let config = s.path("config.json");
    let csv = s.path("rows.csv");
    for extra in [
        vec!["--config", config.as_str()],
        vec!["--config", config.as_str(), "--each", csv.as_str()],
        vec!["--new-uuid"],
    ] {
        let out = verify(&extra);
        assert_exit(&out, 2);
        let all = json_events(&out);
        let error = events(&all, "error")[0]["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            error.contains("with the config.json it was given")
                && error.contains("--report record"),
            "{extra:?}: {error}"
        );
        assert!(
            events(&all, "target_done").is_empty(),
            "{extra:?}: {all:#?}"
        );
    }
}

#[test]
fn config_json_numbers_reach_the_card_exactly_as_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup("");
    let big = "123456789012345678901234567890";
    let float = "0.1000000000000000055511151231257827";
    fs::write(
        s.path("config.json"),
        format!(r#"{{"applicationId": {big}, "deviceType": "raspberrypi4-64", "x": {float}}}"#),
    )
    .unwrap();
    let drives = s.drives(&["exact.bin"]);
    let config = s.path("config.json");
    let out = flash(&s.image.path, &devices(&drives), &["--config", &config]);
    assert_exit(&out, 0);
    let on_card = String::from_utf8(s.config_on(&drives[0])).unwrap();
    assert_eq!(
        on_card,
        format!(r#"{{"applicationId":{big},"deviceType":"raspberrypi4-64","x":{float}}}"#)
    );
    for id in ["-1", "1.5", "1e3"] {
        fs::write(
            s.path("config.json"),
            format!(r#"{{"applicationId": {id}}}"#),
        )
        .unwrap();
        let out = flash(&s.image.path, &devices(&drives), &["--config", &config]);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("\"applicationId\" must be a whole number"),
            "{}",
            describe(&out)
        );
    }
}

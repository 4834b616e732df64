//! Each drive its own configuration: `--each FILE.csv` rows and
//! `--new-uuid` merged into the `--config` template, `{serial}`/`{n}`,
//! rows resumed from `--report`; checked with `mtype` and `fsck.fat -n`
//! on the drives' boot partitions, and every byte outside them identical.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::station::Station;
use crate::require_root;
use crate::support::balena_image::{TestImage, fsck_fat, mtype, small_resin_boot};
use crate::support::flashing::{PatternedDrive, assert_exit, devices, events, flash, json_events};
use crate::support::loopdev::LoopLock;
use crate::support::{pseudo_random_bytes, sha256_hex};

const MIB: usize = 1 << 20;
const TEMPLATE: &str = r#"{"applicationId": 1234567, "deviceType": "raspberrypi4-64", "persistentLogging": false, "hostname": "node-{n}"}"#;
const ROWS: &str = "uuid,deviceApiKey,hostname,persistentLogging\n\
                    0123456789abcdef0123456789abcdef,key-one,alpha,true\n\
                    fedcba9876543210fedcba9876543210,key-two,,false\n\
                    00000000000000000000000000000003,key-three,gamma-{serial},\n";

/// A balenaOS-like image: MBR, a 2 MiB FAT12 `resin-boot` at 1 MiB, then
/// 2 MiB of data outside any partition (written whole), and the files.
struct Setup {
    dir: tempfile::TempDir,
    image: TestImage,
    bytes: Vec<u8>,
    template: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let image = small_resin_boot(dir.path(), "balena.img", 12, 2, &[]);
    let mut bytes = fs::read(&image.path).unwrap();
    bytes.extend(pseudo_random_bytes(2 * MIB, 77));
    fs::write(&image.path, &bytes).unwrap();
    let template = dir.path().join("config.json");
    fs::write(&template, TEMPLATE).unwrap();
    let csv = dir.path().join("devices.csv");
    fs::write(&csv, ROWS).unwrap();
    Setup {
        dir,
        image,
        bytes,
        template,
    }
}

impl Setup {
    fn drives(&self, names: &[&str]) -> Vec<PatternedDrive> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                PatternedDrive::create(self.dir.path(), name, self.bytes.len() + MIB, 40 + i as u64)
            })
            .collect()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The config.json on `drive`, as mtype reads it.
    fn config_on(&self, drive: &PatternedDrive) -> Value {
        let bytes = mtype(
            &drive.loop_device.backing,
            self.image.boot_offset,
            "::/config.json",
        );
        serde_json::from_slice(&bytes).unwrap()
    }

    /// Asserts the drive's boot partition passes `fsck.fat -n` and every
    /// other byte of the image is the image's own.
    fn assert_rest_is_the_image(&self, drive: &PatternedDrive) {
        let now = drive.loop_device.contents();
        let boot = self.image.boot_offset as usize
            ..(self.image.boot_offset + self.image.boot_size) as usize;
        let (clean, said) = fsck_fat(&now[boot.clone()]);
        assert!(clean, "{}: fsck.fat -n: {said}", drive.name());
        assert!(
            now[..boot.start] == self.bytes[..boot.start],
            "{}: before the boot partition",
            drive.name()
        );
        assert!(
            now[boot.end..self.bytes.len()] == self.bytes[boot.end..],
            "{}: after the boot partition",
            drive.name()
        );
    }
}

/// The drive records of the report (claims and releases left out).
fn report_lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l.get("record").is_none())
        .collect()
}

#[test]
fn three_rows_three_drives_each_with_its_own_config_json() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup();
    let drives = s.drives(&["d1.bin", "d2.bin", "d3.bin"]);
    let report = s.path("report.jsonl");
    let out = flash(
        &s.image.path,
        &devices(&drives),
        &[
            "--json",
            "--config",
            &s.path("config.json"),
            "--each",
            &s.path("devices.csv"),
            "--report",
            &report,
        ],
    );
    assert_exit(&out, 0);
    let expected = [
        json!({"applicationId": 1234567, "deviceType": "raspberrypi4-64", "persistentLogging": true,
               "hostname": "alpha", "uuid": "0123456789abcdef0123456789abcdef", "deviceApiKey": "key-one"}),
        json!({"applicationId": 1234567, "deviceType": "raspberrypi4-64", "persistentLogging": false,
               "hostname": "node-2", "uuid": "fedcba9876543210fedcba9876543210", "deviceApiKey": "key-two"}),
        json!({"applicationId": 1234567, "deviceType": "raspberrypi4-64", "persistentLogging": false,
               "hostname": "gamma-d3.bin", "uuid": "00000000000000000000000000000003", "deviceApiKey": "key-three"}),
    ];
    for (drive, expected) in drives.iter().zip(&expected) {
        assert_eq!(&s.config_on(drive), expected, "{}", drive.name());
        s.assert_rest_is_the_image(drive);
    }
    // The image's hash is the unconfigured image's (docs/architecture.md §11); each
    // target's is its own bytes.
    let all = json_events(&out);
    let done = events(&all, "done")[0];
    assert_eq!(done["image_sha256"], sha256_hex(&s.bytes).as_str());
    let lines = report_lines(Path::new(&report));
    assert_eq!(lines.len(), 3);
    let sha: Vec<&str> = lines
        .iter()
        .map(|l| l["sha256"].as_str().unwrap())
        .collect();
    assert!(sha[0] != sha[1] && sha[1] != sha[2], "{sha:?}");
    for (i, (line, expected)) in lines.iter().zip(&expected).enumerate() {
        assert_eq!(line["row"], i + 1);
        assert_eq!(line["n"], i + 1);
        assert_eq!(line["uuid"], expected["uuid"]);
        assert_eq!(line["hostname"], expected["hostname"]);
        assert_eq!(line["result"], "ok");
        let config = serde_json::to_vec(expected).unwrap();
        assert_eq!(line["config_sha256"], sha256_hex(&config).as_str());
    }
}

#[test]
fn a_drive_with_no_row_left_is_refused_before_anything_is_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup();
    let drives = s.drives(&["d1.bin", "d2.bin", "d3.bin", "d4.bin"]);
    let out = flash(
        &s.image.path,
        &devices(&drives),
        &[
            "--config",
            &s.path("config.json"),
            "--each",
            &s.path("devices.csv"),
        ],
    );
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 drives need a row"));
    for drive in &drives {
        drive.assert_unchanged();
    }
    // --new-uuid with a uuid column is a contradiction.
    let out = flash(
        &s.image.path,
        &devices(&drives[..1]),
        &[
            "--config",
            &s.path("config.json"),
            "--each",
            &s.path("devices.csv"),
            "--new-uuid",
        ],
    );
    assert_exit(&out, 2);
    drives[0].assert_unchanged();
}

#[test]
fn rows_continue_from_the_report_and_a_failed_drive_gives_its_row_back() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup();
    let report = s.path("report.jsonl");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "--config",
            &s.path("config.json"),
            "--each",
            &s.path("devices.csv"),
            "--report",
            &report,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    let ok = s.drives(&["a.bin"]).remove(0);
    let locked =
        PatternedDrive::create_read_only(s.dir.path(), "locked.bin", s.bytes.len() + MIB, 9);
    let first = args(&[]);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let out = flash(&s.image.path, &[ok.device(), locked.device()], &first);
    assert_exit(&out, 1);
    let lines = report_lines(Path::new(&report));
    assert_eq!(
        (lines[0]["row"].clone(), lines[0]["result"].clone()),
        (json!(1), json!("ok"))
    );
    assert_eq!(
        (lines[1]["row"].clone(), lines[1]["result"].clone()),
        (json!(2), json!("failed"))
    );

    // The next run: row 1 is used, row 2 was released; n goes on.
    let next = s.drives(&["b.bin", "c.bin"]);
    let out = flash(&s.image.path, &devices(&next), &first);
    assert_exit(&out, 0);
    let lines = report_lines(Path::new(&report));
    assert_eq!(lines.len(), 4);
    assert_eq!(
        (lines[2]["row"].clone(), lines[2]["n"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(
        (lines[3]["row"].clone(), lines[3]["n"].clone()),
        (json!(3), json!(4))
    );
    assert_eq!(s.config_on(&next[0])["deviceApiKey"], "key-two");
    assert_eq!(s.config_on(&next[0])["hostname"], "node-3");

    // Every row is used now.
    let out = flash(&s.image.path, &[ok.device()], &first);
    assert_exit(&out, 2);
}

#[test]
fn new_uuids_are_distinct_and_serial_is_filled() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup();
    fs::write(
        &s.template,
        r#"{"applicationId": 1, "deviceType": "raspberrypi4-64", "hostname": "node-{serial}", "note": "{uuid}"}"#,
    )
    .unwrap();
    let drives = s.drives(&["x1.bin", "x2.bin"]);
    let report = s.path("report.jsonl");
    let out = flash(
        &s.image.path,
        &devices(&drives),
        &[
            "--config",
            &s.path("config.json"),
            "--new-uuid",
            "--report",
            &report,
        ],
    );
    assert_exit(&out, 0);
    let lines = report_lines(Path::new(&report));
    let uuids: Vec<&str> = lines.iter().map(|l| l["uuid"].as_str().unwrap()).collect();
    assert_eq!(uuids.len(), 2);
    assert_ne!(uuids[0], uuids[1]);
    for ((drive, uuid), name) in drives.iter().zip(&uuids).zip(["x1.bin", "x2.bin"]) {
        assert_eq!(uuid.len(), 32);
        assert!(
            uuid.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let config = s.config_on(drive);
        assert_eq!(config["uuid"], *uuid);
        assert_eq!(config["note"], *uuid);
        assert_eq!(config["hostname"], format!("node-{name}"));
        s.assert_rest_is_the_image(drive);
    }
}

#[test]
fn a_station_gives_each_drive_the_next_row() {
    require_root!();
    let _lock = LoopLock::acquire();
    let s = setup();
    let report = s.path("report.jsonl");
    let pattern = format!("{}/st*", s.dir.path().display());
    let station = Station::start_with(
        &s.image.path,
        &pattern,
        &[
            "--count",
            "2",
            "--config",
            &s.path("config.json"),
            "--each",
            &s.path("devices.csv"),
            "--report",
            &report,
        ],
    );
    let drives = s.drives(&["st1.bin", "st2.bin"]);
    let (code, events) = station.wait();
    assert_eq!(code, 0, "{events:#?}");
    // Each drive's identity is announced as it starts.
    let mut rows: Vec<u64> = events
        .iter()
        .filter(|e| e["event"] == "flashing")
        .map(|e| e["row"].as_u64().unwrap())
        .collect();
    rows.sort();
    assert_eq!(rows, [1, 2], "{events:#?}");
    let lines = report_lines(Path::new(&report));
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let mut keys: Vec<String> = drives
        .iter()
        .map(|d| {
            s.assert_rest_is_the_image(d);
            s.config_on(d)["deviceApiKey"].as_str().unwrap().to_string()
        })
        .collect();
    keys.sort();
    assert_eq!(keys, ["key-one", "key-two"]);
}

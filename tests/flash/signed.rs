//! Signed records and `verify-drive` on loop devices: a sparse flash with
//! `--report --sign` writes one signed record per drive, which Debian's
//! `minisign -V` accepts (and refuses under another key); `verify-drive`
//! finds each drive holding what its record says, names the range holding
//! a changed byte, and refuses another key's public key and a record of
//! another drive — all without the image.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::sparse::{IMAGE_LEN, make_image};
use crate::require_root;
use crate::support::flashing::{
    PatternedDrive, assert_exit, describe, drive_size_for, flash_sparse, stdout,
};
use crate::support::imprint;
use crate::support::loopdev::LoopLock;

/// `imprint key new --no-password -o DIR/NAME.key`: the secret key's path.
pub(super) fn new_key(dir: &Path, name: &str) -> PathBuf {
    let secret = dir.join(format!("{name}.key"));
    let out = imprint()
        .args(["key", "new", "--no-password", "-o"])
        .arg(&secret)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    secret
}

pub(super) fn minisign_verify(record: &Path, public: &Path) -> Output {
    Command::new("minisign")
        .arg("-Vm")
        .arg(record)
        .arg("-p")
        .arg(public)
        .output()
        .expect("minisign (Debian package minisign) is installed")
}

pub(super) fn verify_drive(record: &Path, device: &Path, key: &Path) -> Output {
    imprint()
        .arg("verify-drive")
        .arg(record)
        .arg("-t")
        .arg(device)
        .arg("--key")
        .arg(key)
        .output()
        .unwrap()
}

/// The report's records, one per drive, by device.
fn records(report: &Path) -> Vec<Value> {
    std::fs::read_to_string(report)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn signed_records_verify_with_minisign_and_verify_drive_finds_a_changed_byte() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("os.img");
    std::fs::write(&image, make_image(dir.path())).unwrap();
    let size = drive_size_for(IMAGE_LEN);
    let drives: Vec<PatternedDrive> = (0..2)
        .map(|i| PatternedDrive::create(dir.path(), &format!("d{i}.bin"), size, 0x5160 + i))
        .collect();
    let secret = new_key(dir.path(), "station");
    let public = secret.with_extension("pub");
    let other = new_key(dir.path(), "other").with_extension("pub");
    let report = dir.path().join("cards.jsonl");
    let out = flash_sparse(
        &image,
        &[drives[0].device(), drives[1].device()],
        &[
            "--report",
            report.to_str().unwrap(),
            "--sign",
            secret.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 0);

    let records = records(&report);
    assert_eq!(records.len(), 2, "{}", describe(&out));
    let mut signed = Vec::new();
    for (record, drive) in records.iter().zip(&drives) {
        assert_eq!(record["path"], drive.name());
        assert_eq!(record["imprint_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(record["image_bytes"], IMAGE_LEN as u64);
        let ranges = record["ranges"].as_array().unwrap();
        let used: u64 = ranges.iter().map(|r| r["len"].as_u64().unwrap()).sum();
        // Sparse: the map's used bytes, not the whole image.
        assert!(used > 0 && used < IMAGE_LEN as u64 / 2, "used {used}");
        let file = PathBuf::from(record["signed_record"].as_str().unwrap());
        let ok = minisign_verify(&file, &public);
        assert!(ok.status.success(), "minisign -V: {}", describe(&ok));
        let refused = minisign_verify(&file, &other);
        assert!(
            !refused.status.success(),
            "another key: {}",
            describe(&refused)
        );
        signed.push(file);
    }

    for (file, drive) in signed.iter().zip(&drives) {
        let out = verify_drive(file, drive.device(), &public);
        assert_exit(&out, 0);
        assert!(
            stdout(&out).contains("holds what the record says"),
            "{}",
            describe(&out)
        );
    }
    // Another key's public key: refused, and nothing read.
    let out = verify_drive(&signed[0], drives[0].device(), &other);
    assert_exit(&out, 2);
    assert!(
        describe(&out).contains("was not made by the key"),
        "{}",
        describe(&out)
    );
    // drive 1's record against drive 0: another drive.
    let out = verify_drive(&signed[1], drives[0].device(), &public);
    assert_exit(&out, 2);
    assert!(
        describe(&out).contains("another drive"),
        "{}",
        describe(&out)
    );

    // One byte changed inside the third piece of drive 0's used ranges.
    let piece = &records[0]["ranges"][2];
    let (start, len) = (
        piece["start"].as_u64().unwrap(),
        piece["len"].as_u64().unwrap(),
    );
    let backing = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.path().join("d0.bin"))
        .unwrap();
    let at = start + len / 2;
    let mut byte = [0u8];
    backing.read_exact_at(&mut byte, at).unwrap();
    backing.write_all_at(&[byte[0] ^ 0x01], at).unwrap();
    backing.sync_all().unwrap();
    let out = verify_drive(&signed[0], drives[0].device(), &public);
    assert_exit(&out, 1);
    let named = format!("bytes {start}..{}", start + len);
    assert!(stdout(&out).contains(&named), "{named}: {}", describe(&out));
    assert_eq!(
        stdout(&out).matches("differs:").count(),
        1,
        "{}",
        describe(&out)
    );

    // The same as JSON lines: every line parses, the changed range is named,
    // the last line is the verdict; the untouched drive's verdict is ok.
    let (code, lines) = verify_drive_json(&signed[0], drives[0].device(), &public);
    assert_eq!(code, 1, "{lines:#?}");
    let ranges: Vec<&Value> = lines.iter().filter(|l| l["event"] == "range").collect();
    assert_eq!(ranges.len(), 1, "{lines:#?}");
    assert_eq!(ranges[0]["start"], start);
    assert_eq!(ranges[0]["len"], len);
    assert_eq!(ranges[0]["result"], "differs");
    let verdict = lines.last().unwrap();
    assert_eq!(verdict["event"], "verdict", "{lines:#?}");
    assert_eq!(verdict["ok"], false);
    assert_eq!(verdict["differing"], 1);
    assert_eq!(verdict["signature_checked"], true);
    let (code, lines) = verify_drive_json(&signed[1], drives[1].device(), &public);
    assert_eq!(code, 0, "{lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["event"], "verdict");
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[0]["differing"], 0);
}

/// `verify-drive --json`: its exit code and its lines, each parsed (a line
/// that is not JSON fails the test).
fn verify_drive_json(record: &Path, device: &Path, key: &Path) -> (i32, Vec<Value>) {
    let out = imprint()
        .arg("verify-drive")
        .arg(record)
        .arg("-t")
        .arg(device)
        .arg("--key")
        .arg(key)
        .arg("--json")
        .output()
        .unwrap();
    let lines = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    (out.status.code().unwrap_or(-1), lines)
}

#[test]
fn a_tampered_record_is_refused() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("os.img");
    std::fs::write(&image, make_image(dir.path())).unwrap();
    let drive = PatternedDrive::create(dir.path(), "d.bin", drive_size_for(IMAGE_LEN), 0x7A);
    let secret = new_key(dir.path(), "k");
    let report = dir.path().join("r.jsonl");
    let out = flash_sparse(
        &image,
        &[drive.device()],
        &[
            "--report",
            report.to_str().unwrap(),
            "--sign",
            secret.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 0);
    let file = PathBuf::from(records(&report)[0]["signed_record"].as_str().unwrap());
    // The record edited to match a changed card: its signature no longer holds.
    let text = std::fs::read_to_string(&file).unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    let hash = record["ranges"][0]["sha256"].as_str().unwrap();
    std::fs::write(&file, text.replace(hash, &"0".repeat(64))).unwrap();
    let out = verify_drive(&file, drive.device(), &secret.with_extension("pub"));
    assert_exit(&out, 2);
    assert!(
        describe(&out).contains("does not verify"),
        "{}",
        describe(&out)
    );
    assert!(
        !minisign_verify(&file, &secret.with_extension("pub"))
            .status
            .success()
    );
}

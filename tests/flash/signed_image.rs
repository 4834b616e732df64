//! Signed images on loop devices: an image signed with Debian's `minisign`
//! (the publisher's tool) flashes with `--trusted-key`; the same image
//! with one byte changed fails every drive (exit 1, the signature named);
//! another key's signature is refused before anything is written (exit 2).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::require_root;
use crate::support::fixture;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, describe, drive_size_for, flash, json_events,
    target_done,
};
use crate::support::loopdev::LoopLock;

/// A minisign key pair made by minisign itself, unencrypted: (secret, public).
fn minisign_keys(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (secret, public) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    );
    let out = Command::new("minisign")
        .args(["-G", "-W", "-p"])
        .arg(&public)
        .arg("-s")
        .arg(&secret)
        .output()
        .expect("minisign (Debian package minisign) is installed");
    assert!(out.status.success(), "minisign -G: {}", describe(&out));
    (secret, public)
}

/// `minisign -S`: FILE.minisig beside `file`.
fn minisign_sign(secret: &Path, file: &Path) {
    let out = Command::new("minisign")
        .arg("-S")
        .arg("-s")
        .arg(secret)
        .arg("-m")
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "minisign -S: {}", describe(&out));
}

/// The fixture's raw test.img, decompressed into `dir`.
fn raw_image(dir: &Path) -> PathBuf {
    let out = Command::new("xz")
        .arg("-dc")
        .arg(fixture("test.img.xz"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let image = dir.join("test.img");
    std::fs::write(&image, out.stdout).unwrap();
    image
}

#[test]
fn a_signed_image_flashes_and_a_tampered_one_fails_every_drive() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (secret, public) = minisign_keys(dir.path(), "publisher");
    let expected = ExpectedImage::test_img();
    let size = drive_size_for(expected.len);
    let drives: Vec<PatternedDrive> = (0..2)
        .map(|i| PatternedDrive::create(dir.path(), &format!("d{i}.bin"), size, 0x516 + i))
        .collect();
    let devices: Vec<&Path> = drives.iter().map(|d| d.device()).collect();
    let key = ["--trusted-key", public.to_str().unwrap()];

    // Compressed: the check reads the xz file to its end, past the decoder.
    let xz = dir.path().join("test.img.xz");
    std::fs::copy(fixture("test.img.xz"), &xz).unwrap();
    minisign_sign(&secret, &xz);
    let out = flash(&xz, &devices, &key);
    assert_exit(&out, 0);
    for drive in &drives {
        drive.assert_holds(&expected);
    }

    // Raw, signed, then one byte changed in the middle.
    let image = raw_image(dir.path());
    minisign_sign(&secret, &image);
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[expected.len / 2] ^= 0x20;
    std::fs::write(&image, &bytes).unwrap();
    let mut args = key.to_vec();
    args.push("--json");
    let out = flash(&image, &devices, &args);
    assert_exit(&out, 1);
    let events = json_events(&out);
    for device in &devices {
        let done = target_done(&events, device);
        assert_eq!(done["ok"], false, "{done}");
        let error = done["error"].as_str().unwrap_or_default().to_string();
        assert!(error.contains("does not verify"), "{error}");
    }
}

#[test]
fn another_keys_signature_is_refused_before_writing() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (secret, _) = minisign_keys(dir.path(), "stranger");
    let (_, trusted) = minisign_keys(dir.path(), "publisher");
    let image = raw_image(dir.path());
    minisign_sign(&secret, &image);
    let drive = PatternedDrive::create(
        dir.path(),
        "d.bin",
        drive_size_for(ExpectedImage::test_img().len),
        0x77,
    );
    let out = flash(
        &image,
        &[drive.device()],
        &["--trusted-key", trusted.to_str().unwrap()],
    );
    assert_exit(&out, 2);
    assert!(
        describe(&out).contains("was not made by the key"),
        "{}",
        describe(&out)
    );
    drive.assert_unchanged();
    // No signature at all: refused too.
    std::fs::remove_file(dir.path().join("test.img.minisig")).unwrap();
    let out = flash(
        &image,
        &[drive.device()],
        &["--trusted-key", trusted.to_str().unwrap()],
    );
    assert_exit(&out, 2);
    assert!(
        describe(&out).contains("--signature FILE"),
        "{}",
        describe(&out)
    );
    drive.assert_unchanged();
}

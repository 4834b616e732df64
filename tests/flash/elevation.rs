//! Run through pkexec (`PKEXEC_UID` set, as root), Imprint writes drives
//! only and reads and writes every file for the user with the user's
//! rights: a file target is refused, an image only root may read is
//! refused ("you cannot read"), a world-readable one is written, and the
//! report is created as the user — or refused where they may not write.
//! The user is `nobody` (uid 65534).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Output;

use crate::require_root;
use crate::support::flashing::{ExpectedImage, PatternedDrive, assert_exit, describe, stderr};
use crate::support::imprint;
use crate::support::loopdev::LoopLock;
use crate::support::pseudo_random_bytes;

const NOBODY: u32 = 65534;

/// `imprint flash IMAGE -t TARGET --yes EXTRA…` as pkexec runs it for
/// `nobody`.
fn flash_elevated(image: &Path, target: &Path, extra: &[&str]) -> Output {
    imprint()
        .arg("flash")
        .arg(image)
        .arg("-t")
        .arg(target)
        .arg("--yes")
        .args(extra)
        .env("PKEXEC_UID", NOBODY.to_string())
        .output()
        .unwrap()
}

/// A folder anyone may enter, holding `image.img` with `mode`.
fn image_with_mode(dir: &Path, mode: u32) -> (std::path::PathBuf, Vec<u8>) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    let image = dir.join(format!("image-{mode:o}.img"));
    let bytes = pseudo_random_bytes(1 << 20, u64::from(mode));
    fs::write(&image, &bytes).unwrap();
    fs::set_permissions(&image, fs::Permissions::from_mode(mode)).unwrap();
    (image, bytes)
}

fn assert_refused_saying(output: &Output, words: &str) {
    assert_exit(output, 2);
    assert!(stderr(output).contains(words), "{}", describe(output));
}

#[test]
fn under_pkexec_a_file_target_is_refused_whatever_the_image() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let (secret, _) = image_with_mode(dir.path(), 0o600);
    let target = dir.path().join("copy.img");
    let output = flash_elevated(&secret, &target, &[]);
    assert_refused_saying(&output, "is not a drive");
    assert!(!target.exists(), "the file target was created");
    // /etc/shadow into an existing file: refused, the file unchanged.
    fs::write(&target, b"mine").unwrap();
    let output = flash_elevated(Path::new("/etc/shadow"), &target, &[]);
    assert_refused_saying(&output, "is not a drive");
    assert_eq!(fs::read(&target).unwrap(), b"mine");
}

#[test]
fn under_pkexec_the_image_is_read_as_the_user() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = PatternedDrive::create(dir.path(), "drive.bin", 4 << 20, 0xE1);
    let (secret, _) = image_with_mode(dir.path(), 0o600);
    let output = flash_elevated(&secret, drive.device(), &[]);
    assert_refused_saying(&output, "you cannot read");
    drive.assert_unchanged();

    let (public, bytes) = image_with_mode(dir.path(), 0o644);
    let output = flash_elevated(&public, drive.device(), &["--full"]);
    assert_exit(&output, 0);
    drive.assert_holds(&ExpectedImage::from_bytes(bytes));
}

#[test]
fn under_pkexec_the_report_is_written_as_the_user() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = PatternedDrive::create(dir.path(), "drive.bin", 4 << 20, 0xE2);
    let (public, _) = image_with_mode(dir.path(), 0o644);

    // A folder only root may write: the user may not create a report there.
    let report = dir.path().join("report.jsonl");
    let output = flash_elevated(
        &public,
        drive.device(),
        &["--report", report.to_str().unwrap()],
    );
    assert_refused_saying(&output, "you cannot write");
    assert!(!report.exists());
    drive.assert_unchanged();

    let theirs = dir.path().join("theirs");
    fs::create_dir(&theirs).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o777)).unwrap();
    let report = theirs.join("report.jsonl");
    let output = flash_elevated(
        &public,
        drive.device(),
        &["--report", report.to_str().unwrap()],
    );
    assert_exit(&output, 0);
    let metadata = fs::metadata(&report).unwrap();
    assert_eq!(metadata.uid(), NOBODY, "the report belongs to the user");
    assert!(metadata.len() > 0, "the report holds the drive's record");
}

//! The smaller promises of `imprint flash` and `imprint hash`: a drive named
//! twice, `--dry-run`, `--sha256`, confirmation without a terminal, a missing
//! image, file targets.

use std::process::Stdio;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, assert_exit, devices, drive_size_for, flash, stderr, stdout, three_drives,
    tool_output,
};
use crate::support::loopdev::LoopLock;
use crate::support::{TEST_IMG_BYTES, TEST_IMG_SHA256, fixture, imprint, run_imprint};

const TEST_IMG_XZ: &str = "test.img.xz";

#[test]
fn the_same_drive_named_twice_is_refused_nothing_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let image = fixture(TEST_IMG_XZ);

    let twice = [drives[0].device(), drives[1].device(), drives[0].device()];
    let output = flash(&image, &twice, &[]);

    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("named twice"),
        "{}",
        stderr(&output)
    );
    for drive in &drives {
        drive.assert_unchanged();
    }
}

#[test]
fn the_same_drive_under_a_second_name_is_refused_nothing_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let alias = dir.path().join("same-drive");
    std::os::unix::fs::symlink(drives[2].device(), &alias).unwrap();
    let image = fixture(TEST_IMG_XZ);

    let output = flash(&image, &[drives[2].device(), &alias], &[]);

    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains("named twice") && message.contains(&alias.display().to_string()),
        "{message}"
    );
    drives[2].assert_unchanged();
}

#[test]
fn dry_run_checks_everything_and_writes_nothing() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let file_target = dir.path().join("out.img");
    let image = fixture(TEST_IMG_XZ);
    let mut targets = devices(&drives);
    targets.push(&file_target);

    let output = flash(&image, &targets, &["--dry-run"]);

    assert_exit(&output, 0);
    let said = stdout(&output);
    for drive in &drives {
        assert!(
            said.contains(&drive.name()),
            "dry run lists the drives: {said}"
        );
        drive.assert_unchanged();
    }
    assert!(!file_target.exists(), "dry run creates no file target");
}

#[test]
fn dry_run_still_refuses_a_drive_too_small() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), 1 << 20);

    let output = flash(&fixture(TEST_IMG_XZ), &devices(&drives), &["--dry-run"]);

    assert_exit(&output, 2);
    assert!(stderr(&output).contains("too small"), "{}", stderr(&output));
}

#[test]
fn a_gzip_image_refuses_a_drive_smaller_than_its_trailer_says_nothing_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    // gzip records no size up front, but its trailer's ISIZE is a lower
    // bound: a 1 MiB drive cannot hold the 5 MB image, so it is refused
    // before it is erased, not failed after.
    let drives = three_drives(dir.path(), 1 << 20);

    let output = flash(&fixture("test.img.gz"), &[drives[0].device()], &[]);

    assert_exit(&output, 2);
    assert!(stderr(&output).contains("too small"), "{}", stderr(&output));
    drives[0].assert_unchanged();
}

#[test]
fn wrong_sha256_fails_every_drive_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let wrong = TEST_IMG_SHA256.replace('0', "1");

    let output = flash(
        &fixture(TEST_IMG_XZ),
        &devices(&drives),
        &["--sha256", &wrong],
    );

    assert_exit(&output, 1);
    let report = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        report.contains(&wrong) && report.contains(TEST_IMG_SHA256),
        "the failure shows the expected and the actual SHA-256: {report}"
    );
    for drive in &drives {
        assert!(
            report
                .lines()
                .any(|l| l.contains(&drive.name()) && l.contains("FAILED")),
            "{} is reported FAILED: {report}",
            drive.name()
        );
    }
    assert!(report.contains("0 of 3 target(s) succeeded"), "{report}");
}

#[test]
fn right_sha256_in_capitals_succeeds() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let right = TEST_IMG_SHA256.to_ascii_uppercase();

    let output = flash(
        &fixture(TEST_IMG_XZ),
        &devices(&drives),
        &["--sha256", &right],
    );

    assert_exit(&output, 0);
    for drive in &drives {
        drive.assert_holds(&ExpectedImage::test_img());
    }
}

#[test]
fn malformed_sha256_is_refused_before_writing() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));

    let output = flash(
        &fixture(TEST_IMG_XZ),
        &devices(&drives),
        &["--sha256", "abc"],
    );

    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--sha256"), "{}", stderr(&output));
    for drive in &drives {
        drive.assert_unchanged();
    }
}

#[test]
fn without_yes_and_no_terminal_flash_refuses_nothing_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let mut cmd = imprint();
    cmd.arg("flash").arg(fixture(TEST_IMG_XZ));
    for drive in &drives {
        cmd.arg("-t").arg(drive.device());
    }
    // "y" on a pipe must not count as the user's answer.
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"y\n").unwrap();
    let output = child.wait_with_output().unwrap();

    assert_exit(&output, 2);
    assert!(stderr(&output).contains("--yes"), "{}", stderr(&output));
    for drive in &drives {
        drive.assert_unchanged();
    }
}

#[test]
fn missing_image_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-image.img.xz");
    let target = dir.path().join("out.img");

    let output = flash(&missing, &[&target], &[]);

    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains(&missing.display().to_string()),
        "{}",
        stderr(&output)
    );
    assert!(!target.exists(), "no file target was created");
}

#[test]
fn hash_prints_the_sha256_of_each_decompressed_fixture() {
    for name in [
        "test.img.gz",
        "test.img.xz",
        "test.img.bz2",
        "zip-deflate.zip",
        "xz-without-extension",
    ] {
        let output = run_imprint([std::ffi::OsStr::new("hash"), fixture(name).as_os_str()]);
        assert_exit(&output, 0);
        assert!(
            stdout(&output).starts_with(TEST_IMG_SHA256),
            "{name}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn file_target_receives_exactly_the_decompressed_image() {
    let dir = tempfile::tempdir().unwrap();
    let image = fixture("test.img.bz2");
    let new_file = dir.path().join("new.img");
    // An older, longer file must not keep its tail.
    let old_file = dir.path().join("old.img");
    std::fs::write(&old_file, vec![0xAB; 7 << 20]).unwrap();

    let output = flash(&image, &[&new_file, &old_file], &[]);

    assert_exit(&output, 0);
    let expected = ExpectedImage::from_bytes(tool_output("bzip2", &["-dc"], &image));
    assert_eq!(expected.sha256, TEST_IMG_SHA256, "bzip2 -dc agrees");
    expected.assert_is(&std::fs::read(&new_file).unwrap(), "new file target");
    expected.assert_is(&std::fs::read(&old_file).unwrap(), "old file target");
}

#[test]
fn eject_reports_each_flashed_drive_safe_to_remove_before_the_end_and_leaves_files_alone() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let file_target = dir.path().join("out.img");
    let image = fixture(TEST_IMG_XZ);
    let targets = [drives[0].device(), file_target.as_path()];

    let output = flash(&image, &targets, &["--eject", "--json"]);

    assert_exit(&output, 0);
    drives[0].assert_holds(&ExpectedImage::test_img());
    let all = crate::support::flashing::json_events(&output);
    let names: Vec<&str> = all.iter().map(|e| e["event"].as_str().unwrap()).collect();
    let ejected = crate::support::flashing::events(&all, "ejected");
    assert_eq!(ejected.len(), 1, "only the drive is ejected: {names:?}");
    assert_eq!(
        ejected[0]["target"],
        drives[0].device().display().to_string()
    );
    // A loop device is not a USB drive: flushed, not powered off.
    assert_eq!(ejected[0]["outcome"], "flushed", "{}", ejected[0]);
    let drive = drives[0].device().display().to_string();
    let position = |name: &str| {
        all.iter()
            .position(|e| e["event"] == name && (name == "done" || e["target"] == drive.as_str()))
            .unwrap()
    };
    assert!(
        position("target_done") < position("ejected") && position("ejected") < position("done"),
        "ejected comes after the drive's target_done and before done: {names:?}"
    );
}

/// clap turns `{n}` in help text into a line break: the placeholder must
/// still read `{n}`, in `flash` and `station` alike.
#[test]
fn help_names_the_n_placeholder() {
    for command in ["flash", "station"] {
        let out = run_imprint([command, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command} --help: {help}");
        assert!(
            help.contains("{serial}, {n} (the drive's number"),
            "{command} --help: {help}"
        );
        assert!(
            !help.contains('\x1b'),
            "no escape codes in a pipe: {help:?}"
        );
    }
}

//! The run's own files — `--config`, the `--each` CSV, the `--report`
//! file, a bmap — are never targets, under any name (the path itself,
//! another spelling, a hard link): exit 2, the file unchanged.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::balena_image::small_resin_boot;
use crate::support::flashing::{assert_exit, describe, flash, stderr};
use crate::support::pseudo_random_bytes;

const CONFIG: &str = r#"{"applicationId":1234,"deviceType":"raspberrypi4-64","uuid":"0123456789abcdef0123456789abcdef"}"#;
const ROWS: &str = "uuid,hostname\n0123456789abcdef0123456789abcdef,alpha\n";

/// Asserts a refusal naming `what`, and that `file` still holds `before`.
fn assert_refused_unchanged(output: &std::process::Output, what: &str, file: &Path, before: &[u8]) {
    assert_exit(output, 2);
    assert!(
        stderr(output).contains(what),
        "the refusal says {what:?}\n{}",
        describe(output)
    );
    assert!(
        fs::read(file).unwrap() == before,
        "{} was changed",
        file.display()
    );
}

fn hard_link(dir: &Path, file: &Path) -> PathBuf {
    let link = dir.join("hard-link");
    let _ = fs::remove_file(&link);
    fs::hard_link(file, &link).unwrap();
    link
}

#[test]
fn the_config_the_csv_and_the_report_are_never_targets() {
    let dir = tempfile::tempdir().unwrap();
    let image = small_resin_boot(dir.path(), "balena.img", 12, 2, &[]);
    let config = dir.path().join("config.json");
    fs::write(&config, CONFIG).unwrap();
    let config_arg = config.display().to_string();
    let other_spelling = dir.path().join(".").join("config.json");
    for target in [
        config.clone(),
        other_spelling,
        hard_link(dir.path(), &config),
    ] {
        let output = flash(&image.path, &[&target], &["--config", &config_arg]);
        assert_refused_unchanged(&output, "the --config file", &config, CONFIG.as_bytes());
    }

    let csv = dir.path().join("devices.csv");
    fs::write(&csv, ROWS).unwrap();
    for target in [csv.clone(), hard_link(dir.path(), &csv)] {
        let output = flash(
            &image.path,
            &[&target],
            &["--config", &config_arg, "--each", csv.to_str().unwrap()],
        );
        assert_refused_unchanged(&output, "the --each CSV", &csv, ROWS.as_bytes());
    }

    let report = dir.path().join("report.jsonl");
    fs::write(&report, b"").unwrap();
    for target in [report.clone(), hard_link(dir.path(), &report)] {
        let output = flash(
            &image.path,
            &[&target],
            &["--report", report.to_str().unwrap()],
        );
        assert_refused_unchanged(&output, "the --report file", &report, b"");
    }
}

/// A report still to be created, named as the target too.
#[test]
fn a_report_still_to_be_created_is_not_a_target_either() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    fs::write(&image, pseudo_random_bytes(1 << 20, 12)).unwrap();
    let report = dir.path().join("new-report.jsonl");
    let output = flash(&image, &[&report], &["--report", report.to_str().unwrap()]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("the --report file"),
        "{}",
        describe(&output)
    );
    let left = fs::read(&report).unwrap_or_default();
    assert!(left.is_empty(), "the report holds {} bytes", left.len());
}

#[test]
fn the_bmap_is_never_a_target() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("os.img");
    let mut bytes = pseudo_random_bytes(1 << 20, 13);
    bytes.extend(vec![0u8; 1 << 20]);
    fs::write(&image, &bytes).unwrap();
    let bmap = dir.path().join("os.img.bmap");
    let made = Command::new("bmaptool")
        .arg("create")
        .arg("-o")
        .arg(&bmap)
        .arg(&image)
        .output()
        .expect("run bmaptool");
    assert!(made.status.success(), "bmaptool create failed");
    let before = fs::read(&bmap).unwrap();
    for target in [bmap.clone(), hard_link(dir.path(), &bmap)] {
        // Found beside the image, and named with --bmap.
        let output = flash(&image, &[&target], &[]);
        assert_refused_unchanged(&output, "the bmap file", &bmap, &before);
        let output = flash(&image, &[&target], &["--bmap", bmap.to_str().unwrap()]);
        assert_refused_unchanged(&output, "the bmap file", &bmap, &before);
    }
}

/// A loop device over the report (1 MiB of blank lines, which a report
/// may hold) as the target: writing it would write into the report.
#[test]
fn a_loop_device_over_the_report_is_not_a_target() {
    crate::require_root!();
    let _lock = crate::support::loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    fs::write(&image, pseudo_random_bytes(64 << 10, 14)).unwrap();
    let report = dir.path().join("report.jsonl");
    let before = vec![b'\n'; 1 << 20];
    fs::write(&report, &before).unwrap();
    let over_report = crate::support::loopdev::LoopDevice::attach(&report, false);
    let output = flash(
        &image,
        &[&over_report.device],
        &["--report", report.to_str().unwrap()],
    );
    assert_refused_unchanged(&output, "writes into the --report file", &report, &before);
}

//! Images that are not plain files: standard input (`-`), `/dev/stdin`, a
//! pipe from process substitution, a FIFO, a block device, a character
//! device, empty input. A source is opened once and its first bytes are
//! sniffed by peeking, so what is written is exactly the image — never the
//! image shifted by the bytes that were read to detect its format.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::require_root;
use crate::support::balena_image;
use crate::support::child::{mkfifo, signal, wait_at_most};
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, compress, drive_size_for, events, json_events,
    stderr, stdout, target_done,
};
use crate::support::loopdev::{LoopDevice, LoopLock};
use crate::support::{imprint, pseudo_random_bytes, sha256_hex};

/// 5 MiB and a bit: random data with a zero run, not a multiple of 4 KiB.
fn image_bytes() -> Vec<u8> {
    let mut bytes = pseudo_random_bytes(5 * (1 << 20) + 777, 0x5EED);
    bytes[1 << 20..3 << 20].fill(0);
    bytes
}

/// The image, raw and in every compressed format, in `dir`.
fn images(dir: &Path) -> (Vec<u8>, Vec<PathBuf>) {
    let bytes = image_bytes();
    let raw = dir.join("os.img");
    fs::write(&raw, &bytes).unwrap();
    let mut all = vec![raw.clone()];
    for (program, suffix) in [
        ("xz", ".xz"),
        ("gzip", ".gz"),
        ("zstd", ".zst"),
        ("bzip2", ".bz2"),
    ] {
        all.push(compress(program, &raw, suffix));
    }
    (bytes, all)
}

/// Runs `imprint ARGS…` with `input` piped to its standard input.
fn run_with_stdin(args: &[&std::ffi::OsStr], input: &Path) -> Output {
    imprint()
        .args(args)
        .stdin(fs::File::open(input).unwrap())
        .output()
        .unwrap()
}

/// `cat INPUT | imprint flash - -t TARGET… --yes EXTRA…`.
fn flash_piped(input: &Path, targets: &[&Path], extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["flash".as_ref(), "-".as_ref()];
    for target in targets {
        args.push("-t".as_ref());
        args.push(target.as_os_str());
    }
    args.push("--yes".as_ref());
    args.extend(extra.iter().map(|arg| std::ffi::OsStr::new(*arg)));
    run_with_pipe(&args, input)
}

/// `cat FILE | imprint ARGS…`: a real pipe, not a file, on standard input.
fn run_with_pipe(args: &[&std::ffi::OsStr], input: &Path) -> Output {
    let mut cat = Command::new("cat")
        .arg(input)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = imprint()
        .args(args)
        .stdin(cat.stdout.take().unwrap())
        .output()
        .unwrap();
    cat.wait().unwrap();
    out
}

#[test]
fn every_format_through_a_pipe_is_written_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, images) = images(dir.path());
    let expected = ExpectedImage::from_bytes(bytes);
    for image in &images {
        let out_file = dir.path().join("out.img");
        let _ = fs::remove_file(&out_file);
        let out = flash_piped(
            image,
            &[&out_file],
            &["--json", "--sha256", expected.sha256.as_str()],
        );
        assert_exit(&out, 0);
        let all = json_events(&out);
        assert_eq!(events(&all, "start")[0]["size"], serde_json::Value::Null);
        assert_eq!(events(&all, "done")[0]["image_sha256"], expected.sha256);
        expected.assert_is(&fs::read(&out_file).unwrap(), &image.display().to_string());

        let hashed = run_with_pipe(&["hash".as_ref(), "/dev/stdin".as_ref()], image);
        assert_exit(&hashed, 0);
        assert!(
            stdout(&hashed).starts_with(&expected.sha256),
            "hash of {} through a pipe: {}",
            image.display(),
            stdout(&hashed)
        );
    }
}

#[test]
fn process_substitution_and_redirected_stdin_are_written_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, images) = images(dir.path());
    let expected = ExpectedImage::from_bytes(bytes);
    let xz = &images[1];
    let out_file = dir.path().join("substituted.img");
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#""$0" flash <(cat "$1") -t "$2" --yes"#)
        .arg(env!("CARGO_BIN_EXE_imprint"))
        .arg(xz)
        .arg(&out_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    expected.assert_is(&fs::read(&out_file).unwrap(), "<(cat os.img.xz)");

    // `< os.img.gz`: standard input is then a regular file.
    let out_file = dir.path().join("redirected.img");
    let out = run_with_stdin(
        &[
            "flash".as_ref(),
            "-".as_ref(),
            "-t".as_ref(),
            out_file.as_os_str(),
            "--yes".as_ref(),
        ],
        &images[2],
    );
    assert_exit(&out, 0);
    expected.assert_is(&fs::read(&out_file).unwrap(), "- < os.img.gz");
}

#[test]
fn stdin_image_to_loop_devices_is_verified() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (bytes, images) = images(dir.path());
    let expected = ExpectedImage::from_bytes(bytes);
    let size = drive_size_for(expected.len);
    let drives: Vec<_> = (0..2)
        .map(|i| PatternedDrive::create(dir.path(), &format!("d{i}.bin"), size, 40 + i))
        .collect();
    let devices: Vec<&Path> = drives.iter().map(PatternedDrive::device).collect();
    let out = flash_piped(&images[3], &devices, &["--json"]);
    assert_exit(&out, 0);
    let all = json_events(&out);
    for drive in &drives {
        assert_eq!(target_done(&all, drive.device())["ok"], true);
        drive.assert_holds(&expected);
    }
}

#[test]
fn a_balena_image_from_a_pipe_is_configured_like_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::mbr_fat16_resin_boot(dir.path());
    let config = dir.path().join("config.json");
    fs::write(
        &config,
        r#"{"applicationId":1234,"deviceType":"raspberrypi4-64","uuid":"abc"}"#,
    )
    .unwrap();
    let from_file = dir.path().join("from-file.img");
    let out = imprint()
        .arg("configure")
        .arg(&image.path)
        .arg("--config")
        .arg(&config)
        .arg("-o")
        .arg(&from_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let compressed = compress("xz", &image.path, ".xz");
    let from_pipe = dir.path().join("from-pipe.img");
    let out = flash_piped(
        &compressed,
        &[&from_pipe],
        &["--config", config.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    assert_eq!(
        sha256_hex(&fs::read(&from_pipe).unwrap()),
        sha256_hex(&fs::read(&from_file).unwrap()),
        "the configured image from a pipe differs from the one from the file"
    );
}

#[test]
fn a_fifo_is_read_once_when_its_writer_comes() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, images) = images(dir.path());
    let expected = ExpectedImage::from_bytes(bytes);
    let fifo = dir.path().join("image.fifo");
    mkfifo(&fifo);
    let out_file = dir.path().join("out.img");
    let child = imprint()
        .arg("flash")
        .arg(&fifo)
        .arg("-t")
        .arg(&out_file)
        .arg("--yes")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let compressed = fs::read(&images[1]).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .unwrap()
        .write_all(&compressed)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 0);
    expected.assert_is(&fs::read(&out_file).unwrap(), "FIFO image");
}

#[test]
fn ctrl_c_while_a_fifo_has_no_writer_stops_at_once_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("image.fifo");
    mkfifo(&fifo);
    let target = dir.path().join("untouched.img");
    fs::write(&target, b"keep me").unwrap();
    let mut child = imprint()
        .arg("flash")
        .arg(&fifo)
        .arg("-t")
        .arg(&target)
        .args(["--yes", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, libc::SIGINT);
    let stopped_in = wait_at_most(&mut child, Duration::from_secs(2));
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 2);
    let all = json_events(&out);
    assert_eq!(events(&all, "error").len(), 1, "{all:?}");
    assert_eq!(fs::read(&target).unwrap(), b"keep me");
    assert!(stopped_in < Duration::from_secs(2));
}

/// A pipe that delivers part of an image, then stalls: SIGINT, SIGTERM and
/// SIGHUP each end the run within a second with every `target_done` and
/// `done`, exit 1.
#[test]
fn a_signal_ends_a_run_whose_pipe_stalls() {
    let dir = tempfile::tempdir().unwrap();
    let head = pseudo_random_bytes(6 << 20, 9);
    for signal_number in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let out_file = dir.path().join(format!("out-{signal_number}.img"));
        let mut child = imprint()
            .arg("flash")
            .arg("-")
            .arg("-t")
            .arg(&out_file)
            .args(["--yes", "--json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Keep the pipe open (no end of input) while the run waits on it.
        let mut input = child.stdin.take().unwrap();
        input.write_all(&head).unwrap();
        std::thread::sleep(Duration::from_millis(700));
        signal(&child, signal_number);
        let stopped_in = wait_at_most(&mut child, Duration::from_secs(5));
        let out = child.wait_with_output().unwrap();
        drop(input);
        assert_exit(&out, 1);
        assert!(
            stopped_in < Duration::from_millis(1500),
            "signal {signal_number}: stopped after {stopped_in:?}"
        );
        let all = json_events(&out);
        let done = target_done(&all, &out_file);
        assert_eq!(done["ok"], false);
        assert!(
            done["error"].as_str().unwrap().contains("cancelled"),
            "{done}"
        );
        let finished = events(&all, "done");
        assert_eq!(finished.len(), 1, "{all:?}");
        assert_eq!(finished[0]["image_bytes"], serde_json::Value::Null);
        assert!(stderr(&out).contains("stopping"), "{}", stderr(&out));
    }
}

#[test]
fn devices_that_are_not_images_and_empty_images_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("untouched.img");
    fs::write(&target, b"keep me").unwrap();
    let empty = dir.path().join("empty.img");
    fs::write(&empty, b"").unwrap();
    let empty_xz = compress("xz", &empty, ".xz");
    for image in [
        "/dev/zero".as_ref(),
        "/dev/null".as_ref(),
        empty.as_path(),
        empty_xz.as_path(),
        dir.path(),
    ] {
        let out = imprint()
            .arg("flash")
            .arg(image)
            .arg("-t")
            .arg(&target)
            .args(["--yes", "--json"])
            .output()
            .unwrap();
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("is not an image"),
            "{}: {}",
            image.display(),
            stderr(&out)
        );
        assert_eq!(events(&json_events(&out), "error").len(), 1);
        assert_eq!(fs::read(&target).unwrap(), b"keep me");
    }
    // Empty standard input: a pipe that ends at once.
    let out = flash_piped(&empty, &[&target], &[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
    assert_eq!(fs::read(&target).unwrap(), b"keep me");
}

#[test]
fn a_zip_from_a_pipe_is_refused_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("os.img");
    fs::write(&raw, image_bytes()).unwrap();
    let zip = dir.path().join("os.zip");
    let made = Command::new("zip")
        .arg("-jq")
        .arg(&zip)
        .arg(&raw)
        .status()
        .unwrap();
    assert!(made.success());
    let target = dir.path().join("out.img");
    let out = flash_piped(&zip, &[&target], &[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("unzip -p"), "{}", stderr(&out));
    assert!(!target.exists());
}

/// A block device as the image (cloning a drive) has its real size up front,
/// so a smaller target is refused before anything is written.
#[test]
fn a_block_device_image_has_its_size_and_a_smaller_target_is_refused() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let source = LoopDevice::create_with(&dir.path().join("source.bin"), &image_bytes()[..4 << 20]);
    let small = PatternedDrive::create(dir.path(), "small.bin", 2 << 20, 7);
    let out = imprint()
        .arg("flash")
        .arg(&source.device)
        .arg("-t")
        .arg(small.device())
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stdout(&out).contains("too small"), "{}", stdout(&out));
    small.assert_unchanged();

    let big = PatternedDrive::create(dir.path(), "big.bin", 6 << 20, 8);
    let out = imprint()
        .arg("flash")
        .arg(&source.device)
        .arg("-t")
        .arg(big.device())
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let all = json_events(&out);
    assert_eq!(events(&all, "start")[0]["size"], 4 << 20);
    big.assert_holds(&ExpectedImage::from_bytes(
        image_bytes()[..4 << 20].to_vec(),
    ));
}

#[test]
fn usage_errors_are_json_events_under_json() {
    let out = imprint()
        .args(["flash", "os.img", "--json"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let all = json_events(&out);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["event"], "error");
    assert_eq!(all[0]["kind"], "usage");
    assert!(all[0]["error"].as_str().unwrap().contains("--target"));
}

#[test]
fn a_failed_read_reports_no_image_length() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("os.img");
    fs::write(&raw, image_bytes()).unwrap();
    let gz = compress("gzip", &raw, ".gz");
    let mut damaged = fs::read(&gz).unwrap();
    let cut = damaged.len() / 2;
    damaged.truncate(cut);
    fs::write(&gz, damaged).unwrap();
    let out = imprint()
        .arg("flash")
        .arg(&gz)
        .arg("-t")
        .arg(dir.path().join("out.img"))
        .args(["--yes", "--json"])
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let all = json_events(&out);
    let done = events(&all, "done");
    assert_eq!(done[0]["image_bytes"], serde_json::Value::Null, "{all:?}");
    assert_eq!(done[0]["image_sha256"], serde_json::Value::Null);
}

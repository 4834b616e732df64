//! Ctrl-C during a flash: imprint exits 1, says which drive is
//! incomplete and leaves it blank (its first MiB zero); and it stops within two seconds (see the
//! reason on that test).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::require_root;
use crate::support::flashing::PatternedDrive;
use crate::support::imprint;
use crate::support::loopdev::LoopLock;
use crate::support::pseudo_random_bytes;

/// About 300 MiB: 19 pieces of 16 MiB.
const IMAGE_BYTES: usize = 19 * (16 << 20);
const OLD_BYTE: u8 = 0xAB;
/// How long imprint may take to stop after Ctrl-C (the engine promises a
/// second; allow for a loaded CI machine).
const STOP_WITHIN: Duration = Duration::from_secs(2);
/// Where a test that checks what is said, not how fast, gives up.
const STOP_EVENTUALLY: Duration = Duration::from_secs(60);

/// A 304 MiB raw image: random data (16 MiB repeated) and long zero runs,
/// like an OS image.
fn write_large_image(path: &Path) {
    let random = pseudo_random_bytes(16 << 20, 300);
    let zeros = vec![0u8; 16 << 20];
    let mut file = File::create(path).unwrap();
    for i in 0..IMAGE_BYTES / random.len() {
        file.write_all(if i % 3 == 2 { &zeros } else { &random })
            .unwrap();
    }
}

fn interrupt(child: &Child) {
    let rc = crate::support::sys::kill(child.id(), libc::SIGINT);
    assert_eq!(rc, 0, "send SIGINT");
}

/// Waits for `child` to exit; kills it and panics after `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> (ExitStatus, Duration) {
    let since = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, since.elapsed());
        }
        if since.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("imprint did not stop within {limit:?} of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Everything a test needs: the image and one drive, on /dev/shm so that
/// the disk under the test is not what is measured.
struct Setup {
    _dir: tempfile::TempDir,
    image: std::path::PathBuf,
    drive: PatternedDrive,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir_in("/dev/shm").unwrap();
    let image = dir.path().join("large.img");
    write_large_image(&image);
    let drive = PatternedDrive::filled(dir.path(), "drive.bin", IMAGE_BYTES + (1 << 20), OLD_BYTE);
    Setup {
        _dir: dir,
        image,
        drive,
    }
}

/// The drive was left blank: its first MiB (the partition table, written
/// last) and its last MiB (where a backup GPT lives, cleared first) are
/// zero — here the drive's last MiB is all that follows the image.
fn assert_left_blank(drive: &PatternedDrive) {
    let now = drive.loop_device.contents();
    assert!(
        now[..1 << 20].iter().all(|&b| b == 0),
        "the first MiB of a cancelled drive is zero"
    );
    assert!(
        now[IMAGE_BYTES..].iter().all(|&b| b == 0),
        "the drive's last MiB was cleared"
    );
}

/// What the result of a failed or cancelled drive says.
const LEFT_BLANK: &str = "the card was left blank so it cannot be mistaken for a good one";

#[test]
fn ctrl_c_during_a_json_flash_reports_the_drive_incomplete_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let setup = setup();
    let mut child = imprint()
        .arg("flash")
        .arg(&setup.image)
        .arg("-t")
        .arg(setup.drive.device())
        .args(["--yes", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let reader = std::thread::Builder::new()
        .name("test/stdout-lines".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let _ = lines_tx.send(line.unwrap());
            }
        })
        .unwrap();

    // Interrupt once the drive is being written, not before.
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a progress event while writing");
        let event: Value = serde_json::from_str(&line).unwrap();
        seen.push(event.clone());
        if event["event"] == "progress"
            && event["phase"] == "write"
            && event["bytes"].as_u64() > Some(0)
        {
            break;
        }
        assert_ne!(
            event["event"], "target_done",
            "finished before Ctrl-C: {seen:#?}"
        );
    }
    interrupt(&child);
    let (status, took) = wait_at_most(&mut child, STOP_EVENTUALLY);
    reader.join().unwrap();
    seen.extend(
        lines
            .try_iter()
            .map(|l| serde_json::from_str::<Value>(&l).unwrap()),
    );

    assert_eq!(
        status.code(),
        Some(1),
        "exit 1 after Ctrl-C, in {took:?}: {seen:#?}"
    );
    let done: Vec<_> = seen
        .iter()
        .filter(|e| e["event"] == "target_done")
        .collect();
    assert_eq!(done.len(), 1, "{seen:#?}");
    assert_eq!(done[0]["ok"], false);
    let error = done[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("cancelled")
            && error.contains("incomplete")
            && error.contains(&setup.drive.name()),
        "the drive is named incomplete: {error}"
    );
    assert!(error.contains(LEFT_BLANK), "{error}");
    assert!(
        seen.last()
            .is_some_and(|e| e["event"] == "done" && e["failed"] == 1),
        "a final done event: {seen:#?}"
    );
    assert_left_blank(&setup.drive);
}

/// Starts a plain flash (no `--json`), sends Ctrl-C after 0.3 s, and
/// returns the exit status, how long imprint took to stop, and all it said.
fn ctrl_c_after_a_third_of_a_second(
    setup: &Setup,
    limit: Duration,
) -> (ExitStatus, Duration, String) {
    let mut child = imprint()
        .arg("flash")
        .arg(&setup.image)
        .arg("-t")
        .arg(setup.drive.device())
        .arg("--yes")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the flash ended before Ctrl-C; the image is too small to test cancelling"
    );
    interrupt(&child);
    let (status, took) = wait_at_most(&mut child, limit);
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (status, took, said)
}

#[test]
fn ctrl_c_after_a_third_of_a_second_says_incomplete_exit_1() {
    require_root!();
    let _lock = LoopLock::acquire();
    let setup = setup();

    let (status, took, said) = ctrl_c_after_a_third_of_a_second(&setup, STOP_EVENTUALLY);

    assert_eq!(
        status.code(),
        Some(1),
        "exit 1 after Ctrl-C in {took:?}: {said}"
    );
    assert!(
        said.lines().any(|l| l.contains(&setup.drive.name())
            && l.contains("incomplete")
            && l.contains("cancelled")),
        "a line names the drive as cancelled and incomplete: {said}"
    );
    assert!(said.contains("0 of 1 target(s) succeeded"), "{said}");
    assert!(said.contains(LEFT_BLANK), "{said}");
    assert_left_blank(&setup.drive);
}

#[test]
fn ctrl_c_stops_the_flash_within_two_seconds() {
    require_root!();
    let _lock = LoopLock::acquire();
    let setup = setup();

    let (status, took, said) = ctrl_c_after_a_third_of_a_second(&setup, STOP_WITHIN);

    assert_eq!(
        status.code(),
        Some(1),
        "exit 1 after Ctrl-C in {took:?}: {said}"
    );
}

/// `verify` writes nothing: Ctrl-C during it says the verification was
/// interrupted and the drive is unchanged, never that it is incomplete.
#[test]
fn ctrl_c_during_verify_says_the_drive_is_unchanged_not_incomplete() {
    let dir = tempfile::tempdir_in("/dev/shm").unwrap();
    let image = dir.path().join("large.img");
    write_large_image(&image);
    // A file target holding the image: verify compares to its end unless
    // stopped.
    let target = dir.path().join("card.img");
    std::fs::copy(&image, &target).unwrap();
    let mut child = imprint()
        .arg("verify")
        .arg(&image)
        .arg("-t")
        .arg(&target)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    // Interrupt once comparing has begun.
    for line in lines.by_ref() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        seen.push(event.clone());
        assert_ne!(
            event["event"], "target_done",
            "done before Ctrl-C: {seen:#?}"
        );
        if event["event"] == "progress" && event["bytes"].as_u64() > Some(0) {
            break;
        }
    }
    interrupt(&child);
    seen.extend(lines.map(|l| serde_json::from_str::<Value>(&l.unwrap()).unwrap()));
    let (status, _) = wait_at_most(&mut child, STOP_EVENTUALLY);
    let output = child.wait_with_output().unwrap();
    let said = format!("{seen:?}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(status.code(), Some(1), "{said}");
    assert!(!said.contains("incomplete"), "{said}");
    assert!(said.contains("verification was interrupted"), "{said}");
    let done: Vec<_> = seen
        .iter()
        .filter(|e| e["event"] == "target_done")
        .collect();
    assert_eq!(done[0]["outcome"], "cancelled", "{said}");
    assert!(
        done[0]["error"]
            .as_str()
            .unwrap()
            .contains("the drive is unchanged"),
        "{said}"
    );
}

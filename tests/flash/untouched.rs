//! A signal after the run started but before any byte reached a target —
//! the image is a pipe that delivered its first bytes and stalls before a
//! whole piece — is exit 2: the message says nothing was written and names
//! the drive as untouched, a file target keeps its old bytes (it is cut
//! only at the first write) and a drive keeps every byte.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::require_root;
use crate::support::child::wait_at_most;
use crate::support::flashing::{PatternedDrive, assert_exit, describe, stderr};
use crate::support::imprint;
use crate::support::loopdev::LoopLock;
use crate::support::pseudo_random_bytes;

/// Starts `imprint flash - -t TARGET`, feeds it 64 KiB and keeps the pipe
/// open; after a while sends `signal`. Returns the output.
fn interrupt_before_first_byte(target: &Path, signal: libc::c_int) -> std::process::Output {
    let mut child = imprint()
        .args(["flash", "-", "-t"])
        .arg(target)
        .arg("--yes")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(&pseudo_random_bytes(64 << 10, 17)).unwrap();
    // Long enough for the checks and the target's opening: the engine now
    // waits for the rest of its first piece.
    std::thread::sleep(Duration::from_millis(1500));
    crate::support::child::signal(&child, signal);
    wait_at_most(&mut child, Duration::from_secs(5));
    let output = child.wait_with_output().unwrap();
    drop(input);
    output
}

fn assert_untouched_exit_2(output: &std::process::Output, target: &Path) {
    assert_exit(output, 2);
    let said = stderr(output);
    assert!(
        said.contains("nothing was written")
            && said.contains(&format!("{} is untouched", target.display())),
        "{}",
        describe(output)
    );
}

#[test]
fn ctrl_c_or_sighup_before_the_first_byte_leaves_a_file_target_whole_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for signal in [libc::SIGINT, libc::SIGHUP] {
        let target = dir.path().join(format!("keep-{signal}.img"));
        fs::write(&target, b"the old contents").unwrap();
        let output = interrupt_before_first_byte(&target, signal);
        assert_untouched_exit_2(&output, &target);
        assert_eq!(fs::read(&target).unwrap(), b"the old contents");
    }
}

#[test]
fn ctrl_c_before_the_first_byte_leaves_a_drive_untouched_exit_2() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = PatternedDrive::create(dir.path(), "drive.bin", 8 << 20, 0xF1);
    let output = interrupt_before_first_byte(drive.device(), libc::SIGINT);
    assert_untouched_exit_2(&output, drive.device());
    drive.assert_unchanged();
}

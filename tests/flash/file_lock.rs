//! Targets another program is writing are refused before anything is
//! written (exit 2, "another program is writing it"): a file target locked
//! by another run (file targets are locked with `flock` for the whole run,
//! as block devices are opened O_EXCL), and a block device another program
//! holds open exclusively. The target's bytes are untouched.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, drive_size_for, flash, stderr,
};
use crate::support::loopdev::LoopLock;
use crate::support::pseudo_random_bytes;

/// Whether some open file holds an exclusive `flock` on `path`.
fn locked_by_another(path: &Path) -> bool {
    let file = File::open(path).unwrap();
    // A shared lock only looks.
    crate::support::sys::flock(&file, libc::LOCK_SH | libc::LOCK_NB) != 0
}

fn assert_refused_as_busy(output: &std::process::Output, target: &Path) {
    assert_exit(output, 2);
    let message = stderr(output);
    assert!(
        message.contains(&target.display().to_string())
            && message.contains("another program is writing it"),
        "the refusal names {} and says another program is writing it: {message}",
        target.display()
    );
}

#[test]
fn a_file_target_locked_by_another_program_is_refused_exit_2_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let image_bytes = pseudo_random_bytes(1 << 20, 0x10C4);
    let image = dir.path().join("image.img");
    fs::write(&image, &image_bytes).unwrap();
    let target = dir.path().join("out.img");
    let before = pseudo_random_bytes(3 << 20, 0xB0D1);
    fs::write(&target, &before).unwrap();
    let holder = File::open(&target).unwrap();
    assert_eq!(crate::support::sys::flock(&holder, libc::LOCK_EX), 0);

    let output = flash(&image, &[&target], &[]);

    assert_refused_as_busy(&output, &target);
    assert!(
        fs::read(&target).unwrap() == before,
        "the target was changed"
    );
    // Once the other program lets go, the same run writes it.
    drop(holder);
    let output = flash(&image, &[&target], &[]);
    assert_exit(&output, 0);
    ExpectedImage::from_bytes(image_bytes).assert_is(&fs::read(&target).unwrap(), "out.img");
}

/// A first run reading its image from a pipe the test holds half-fed: it
/// has opened and locked its target and waits for the rest. A second run to
/// the same file is refused and changes nothing; the first then finishes.
#[test]
fn a_second_run_to_a_file_a_first_run_is_writing_is_refused_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let image_bytes = pseudo_random_bytes(3 << 20, 0x2E);
    let image = dir.path().join("image.img");
    fs::write(&image, &image_bytes).unwrap();
    let target = dir.path().join("out.img");
    let mut first = crate::support::imprint()
        .args(["flash", "/dev/stdin", "-t"])
        .arg(&target)
        .arg("--yes")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut feed = first.stdin.take().unwrap();
    feed.write_all(&image_bytes[..1 << 20]).unwrap();
    let started = Instant::now();
    while !(target.exists() && locked_by_another(&target)) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the first run never locked {}",
            target.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let during = fs::read(&target).unwrap();

    let second = flash(&image, &[&target], &[]);

    assert_refused_as_busy(&second, &target);
    assert!(
        fs::read(&target).unwrap() == during,
        "the refused run changed the target"
    );
    feed.write_all(&image_bytes[1 << 20..]).unwrap();
    drop(feed);
    let output = first.wait_with_output().unwrap();
    assert_exit(&output, 0);
}

#[test]
fn a_drive_another_program_holds_exclusively_is_refused_exit_2_untouched() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = PatternedDrive::create(dir.path(), "drive.bin", drive_size_for(1 << 20), 5);
    let image = dir.path().join("image.img");
    let image_bytes = pseudo_random_bytes(1 << 20, 0xE8C1);
    fs::write(&image, &image_bytes).unwrap();
    // What an Imprint run (or a mounted filesystem, or dm) does to it.
    let holder = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_EXCL)
        .open(drive.device())
        .unwrap();

    let output = flash(&image, &[drive.device()], &[]);

    assert_refused_as_busy(&output, drive.device());
    drive.assert_unchanged();
    drop(holder);
    // The exclusive hold was the only reason: without it the run writes.
    let output = flash(&image, &[drive.device()], &[]);
    assert_exit(&output, 0);
    drive.assert_holds(&ExpectedImage::from_bytes(image_bytes));
}

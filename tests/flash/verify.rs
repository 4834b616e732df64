//! `imprint verify`: a freshly flashed drive is identical to the image; one
//! byte changed on the drive behind imprint's back is found, by offset.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::process::Command;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, assert_exit, devices, drive_size_for, flash, stderr, stdout, three_drives,
};
use crate::support::loopdev::LoopLock;
use crate::support::{TEST_IMG_BYTES, TEST_IMG_P2_BYTES, TEST_IMG_P2_OFFSET, fixture, imprint};

/// Inside test.img, in the middle of its second partition (an odd offset,
/// so that no sector or chunk boundary hides a wrong count).
const CHANGED_OFFSET: u64 = TEST_IMG_P2_OFFSET + TEST_IMG_P2_BYTES / 2 + 1;

#[test]
fn verify_after_flash_succeeds_then_finds_one_changed_byte_by_offset() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = three_drives(dir.path(), drive_size_for(TEST_IMG_BYTES));
    let image = fixture("test.img.gz");
    assert_exit(&flash(&image, &devices(&drives), &[]), 0);
    let verify = |drives: &[_]| {
        let mut cmd = imprint();
        // The changed byte lies in free space, which only --full compares.
        cmd.arg("verify").arg("--full").arg(&image);
        for drive in drives {
            cmd.arg("-t").arg(drive);
        }
        cmd.output().unwrap()
    };

    let all_good = verify(&devices(&drives));
    assert_exit(&all_good, 0);

    let changed = &drives[1];
    let backing = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&changed.loop_device.backing)
        .unwrap();
    let mut old = [0u8];
    backing.read_exact_at(&mut old, CHANGED_OFFSET).unwrap();
    backing.write_all_at(&[!old[0]], CHANGED_OFFSET).unwrap();
    backing.sync_all().unwrap();
    drop(backing);
    // The loop device's own buffer cache must not hide the change (imprint
    // reads with O_DIRECT, but be sure the test itself is not the cause).
    let flushed = Command::new("blockdev")
        .arg("--flushbufs")
        .arg(changed.device())
        .status()
        .unwrap();
    assert!(flushed.success());

    let one_bad = verify(&devices(&drives));

    assert_exit(&one_bad, 1);
    let report = format!("{}{}", stdout(&one_bad), stderr(&one_bad));
    let failure_lines: Vec<_> = report.lines().filter(|l| l.contains("FAILED")).collect();
    assert!(
        !failure_lines.is_empty()
            && failure_lines.iter().all(|l| l.contains(&changed.name()))
            && failure_lines
                .iter()
                .any(|l| l.contains(&CHANGED_OFFSET.to_string())),
        "only {} fails, at byte {CHANGED_OFFSET}: {report}",
        changed.name()
    );
    assert!(report.contains("2 of 3 target(s) succeeded"), "{report}");
    // verify writes nothing: the changed byte stays changed.
    let mut now = changed.loop_device.contents();
    assert_eq!(now[CHANGED_OFFSET as usize], !old[0]);
    now[CHANGED_OFFSET as usize] = old[0];
    ExpectedImage::test_img().assert_is(&now[..TEST_IMG_BYTES], &changed.name());
}

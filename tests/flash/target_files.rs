//! File targets: one new file named twice under two spellings is refused
//! before anything is created; a filesystem that fills up mid-write fails
//! saying it is full and what to do, not that a drive was removed.

use std::fs;

use super::holds_image::in_private_mounts;
use crate::require_root;
use crate::support::flashing::{assert_exit, json_events, stderr, target_done};
use crate::support::pseudo_random_bytes;

#[test]
fn a_file_target_on_a_full_filesystem_fails_saying_it_is_full_exit_1() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    fs::write(&image, pseudo_random_bytes(3 << 20, 0xF011)).unwrap();
    let mount_point = dir.path().join("small");
    fs::create_dir(&mount_point).unwrap();
    // A 1 MiB tmpfs, private to the test's mount namespace.
    let script = r#"
        mount -t tmpfs -o size=1m imprint-test "$MNT" || exit 99
        "$IMPRINT" flash "$IMAGE" -t "$MNT/out.img" --yes --json
    "#;
    let output = in_private_mounts(script, &[("MNT", &mount_point), ("IMAGE", &image)]);

    assert_exit(&output, 1);
    let all = json_events(&output);
    let done = target_done(&all, &mount_point.join("out.img"));
    assert_eq!(done["ok"], false, "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(
        error.contains("filesystem holding the file is full") && !error.contains("removed"),
        "the failure says the filesystem is full, not that a drive was removed: {error}"
    );
}

#[test]
fn a_new_file_named_twice_under_two_spellings_is_refused_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    fs::write(&image, pseudo_random_bytes(1 << 20, 0x7A1CE)).unwrap();

    let output = crate::support::imprint()
        .current_dir(dir.path())
        .args([
            "flash",
            "image.img",
            "-t",
            "out.img",
            "-t",
            "./out.img",
            "--yes",
        ])
        .output()
        .unwrap();

    assert_exit(&output, 2);
    let message = stderr(&output);
    assert!(
        message.contains("./out.img") && message.contains("named twice"),
        "the refusal names the second spelling and says named twice: {message}"
    );
    assert!(!dir.path().join("out.img").exists(), "nothing was created");
}

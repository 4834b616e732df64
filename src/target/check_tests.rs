//! The checks every target passes before anything is written.

use super::*;

#[test]
fn a_file_named_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    std::fs::write(&image, b"image").unwrap();
    let target = dir.path().join("out.img");
    std::fs::write(&target, b"").unwrap();
    let refusals = check_targets(&[target.clone(), target.clone()], &image, Some(5)).unwrap_err();
    assert_eq!(refusals.len(), 1);
    assert!(refusals[0].reason.contains("named twice"));
}

#[test]
fn the_image_itself_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    std::fs::write(&image, b"image").unwrap();
    let refusals = check_targets(std::slice::from_ref(&image), &image, Some(5)).unwrap_err();
    assert!(refusals[0].reason.contains("the image itself"));
}

#[test]
fn a_missing_device_and_a_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    std::fs::write(&image, b"image").unwrap();
    let paths = [
        PathBuf::from("/dev/imprint-no-such-disk"),
        dir.path().to_path_buf(),
    ];
    let refusals = check_targets(&paths, &image, Some(5)).unwrap_err();
    assert_eq!(refusals.len(), 2);
    assert!(refusals[0].reason.contains("no such device"));
    assert!(refusals[1].reason.contains("folder"));
}

#[test]
fn a_new_file_is_a_target() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    std::fs::write(&image, b"image").unwrap();
    let infos = check_targets(&[dir.path().join("new.img")], &image, Some(5)).unwrap();
    assert_eq!(infos[0].kind, TargetKind::File);
}

#[test]
fn a_new_file_named_twice_under_two_spellings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    std::fs::write(&image, b"image").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("out.img", dir.path().join("link.img")).unwrap();
    let paths = [
        dir.path().join("out.img"),
        dir.path().join("./out.img"),
        dir.path().join("sub/../out.img"),
        dir.path().join("link.img"),
        dir.path().join("other.img"),
    ];
    let refusals = check_targets(&paths, &image, Some(5)).unwrap_err();
    let refused: Vec<&Path> = refusals.iter().map(|r| r.target.as_path()).collect();
    assert_eq!(refused, [&paths[1], &paths[2], &paths[3]]);
    assert!(
        refusals
            .iter()
            .all(|r| r.reason.contains("named twice") && r.reason.contains("out.img"))
    );
}

#[test]
fn a_file_another_run_has_locked_is_refused_and_a_free_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image.img");
    std::fs::write(&image, b"image").unwrap();
    let target = dir.path().join("out.img");
    std::fs::write(&target, b"other run").unwrap();
    let holder = File::open(&target).unwrap();
    assert!(platform::lock_file(&holder, platform::FileLock::Exclusive).unwrap());
    let refusals = check_targets(std::slice::from_ref(&target), &image, Some(5)).unwrap_err();
    assert!(
        refusals[0].reason.contains("another program is writing it"),
        "{}",
        refusals[0].reason
    );
    drop(holder);
    check_targets(std::slice::from_ref(&target), &image, Some(5)).unwrap();
}

//! Opening as another user: run as root (the helper's case), a file only
//! root may read is refused to `nobody`, one anyone may read is opened, and
//! the rest of the process keeps its rights.

// System calls need unsafe: the tests read the process ids through libc.
#![allow(unsafe_code)]

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::*;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn a_root_only_file_is_refused_to_the_user_and_a_world_readable_one_is_opened() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let secret = dir.path().join("secret.img");
    fs::write(&secret, b"root only").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let public = dir.path().join("public.img");
    fs::write(&public, b"anyone").unwrap();
    fs::set_permissions(&public, fs::Permissions::from_mode(0o644)).unwrap();

    let refused = open_as_uid(&secret, UserOpen::Read, NOBODY).unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::PermissionDenied);
    assert!(
        refused.to_string().contains("you cannot read it"),
        "{refused}"
    );
    let mut opened = open_as_uid(&public, UserOpen::Read, NOBODY).unwrap();
    let mut text = String::new();
    io::Read::read_to_string(&mut opened, &mut text).unwrap();
    assert_eq!(text, "anyone");
    // Only the opening thread changed identity: this one is still root.
    assert_eq!(fs::read(&secret).unwrap(), b"root only");
}

#[test]
fn a_file_created_for_the_user_is_theirs_and_only_where_they_may_write() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let refused =
        open_as_uid(&dir.path().join("r.jsonl"), UserOpen::CreateAppend, NOBODY).unwrap_err();
    assert!(
        refused.to_string().contains("you cannot write it"),
        "{refused}"
    );
    assert!(!dir.path().join("r.jsonl").exists());
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let report = dir.path().join("report.jsonl");
    open_as_uid(&report, UserOpen::CreateAppend, NOBODY).unwrap();
    assert_eq!(fs::metadata(&report).unwrap().uid(), NOBODY);
}

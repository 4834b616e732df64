//! Writing and reading a target: errors explained, locks, the first write.

use super::*;

#[test]
fn a_full_filesystem_is_not_explained_as_a_removed_drive() {
    let full = platform::os_error(IoFailure::NoSpace);
    let file = explain_io_error(&full, TargetKind::File);
    assert!(file.contains("full") && !file.contains("removed"), "{file}");
    let device = explain_io_error(&full, TargetKind::BlockDevice);
    assert!(device.contains("smaller than it claims"), "{device}");
    let gone = platform::os_error(IoFailure::Gone);
    assert!(explain_io_error(&gone, TargetKind::BlockDevice).contains("removed"));
    let read_only = platform::os_error(IoFailure::ReadOnly);
    assert!(explain_io_error(&read_only, TargetKind::File).contains("read-only"));
    let failing = platform::os_error(IoFailure::DeviceError);
    assert!(explain_io_error(&failing, TargetKind::BlockDevice).contains("failing"));
}

#[test]
fn a_write_not_permitted_is_read_only_but_a_denied_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.img");
    std::fs::write(&path, b"bytes").unwrap();
    let info = super::super::inspect(&path).unwrap();
    let target = TargetFile::open_for_read(&info).unwrap();
    for failure in [IoFailure::ReadOnly, IoFailure::NotPermitted] {
        let error = target.write_error(0, platform::os_error(failure));
        assert!(matches!(error, TargetError::ReadOnly { .. }), "{error}");
    }
    let denied = target.write_error(3, platform::os_error(IoFailure::Denied));
    assert!(
        matches!(denied, TargetError::Write { offset: 3, .. }),
        "{denied}"
    );
}

#[test]
fn a_second_writer_of_a_file_is_locked_out_and_cuts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.img");
    let first = open_file_locked(&path).unwrap();
    std::fs::write(&path, b"first run's bytes").unwrap();
    let second = open_file_locked(&path).err().unwrap();
    assert!(matches!(second, TargetError::Locked { .. }), "{second}");
    assert_eq!(std::fs::read(&path).unwrap(), b"first run's bytes");
    drop(first);
    let info = super::super::inspect(&path).unwrap();
    let mut target = TargetFile::open_for_write(&info).unwrap();
    // Opening cuts nothing: the old bytes go at the first write.
    assert_eq!(std::fs::read(&path).unwrap(), b"first run's bytes");
    target.write_at(0, b"new").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
}

//! Drive paths are drives by name and open; other paths by metadata.

use std::path::Path;

use super::kind_of;
use crate::platform::NodeKind;

#[test]
fn a_physical_drive_that_opens_is_a_block_device_without_metadata() {
    for path in [
        r"\\.\PhysicalDrive1",
        r"\\?\physicaldrive12",
        "//./PhysicalDrive0",
    ] {
        let kind = kind_of(Path::new(path), |_| true, |_| panic!("metadata asked"));
        assert_eq!(kind, Some(NodeKind::BlockDevice), "{path}");
    }
}

#[test]
fn a_physical_drive_that_does_not_open_is_nothing() {
    let kind = kind_of(
        Path::new(r"\\.\PhysicalDrive9"),
        |_| false,
        |_| Some(NodeKind::Other),
    );
    assert_eq!(kind, None);
}

#[test]
fn other_paths_are_what_their_metadata_says() {
    let opened = std::cell::Cell::new(false);
    for path in [r"C:\images\pi.img", r"\\.\PhysicalDriveX", r"\\.\C:"] {
        let kind = kind_of(
            Path::new(path),
            |_| {
                opened.set(true);
                true
            },
            |_| Some(NodeKind::File),
        );
        assert_eq!(kind, Some(NodeKind::File), "{path}");
    }
    assert!(!opened.get(), "a path not naming a drive is never opened");
}

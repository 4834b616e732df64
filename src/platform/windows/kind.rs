//! What a path is on Windows: a drive is named `\\.\PhysicalDriveN` (or
//! `\\?\PhysicalDriveN`) and `fs::metadata` of it fails ("incorrect
//! function"), so a drive is recognised by its name and a successful open;
//! anything else by its metadata.

use std::path::Path;

use super::drives::disk_number;
use crate::platform::NodeKind;

/// The kind of `path`, given how to open a drive path (`opens`) and how to
/// read metadata (`by_metadata`); split so that the tests drive it on any OS.
pub(crate) fn kind_of(
    path: &Path,
    opens: impl FnOnce(&Path) -> bool,
    by_metadata: impl FnOnce(&Path) -> Option<NodeKind>,
) -> Option<NodeKind> {
    if disk_number(path).is_some() {
        // A drive number that does not exist is no drive and nothing else.
        return opens(path).then_some(NodeKind::BlockDevice);
    }
    by_metadata(path)
}

/// What `path` is, `None` when it cannot be looked at.
#[cfg(windows)]
pub fn path_kind(path: &Path) -> Option<NodeKind> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_READ, FILE_SHARE_WRITE};
    kind_of(
        path,
        // Access 0 asks for no rights: it works unelevated and while
        // another program holds the drive, and proves that it exists.
        |p| {
            std::fs::OpenOptions::new()
                .access_mode(0)
                .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
                .open(p)
                .is_ok()
        },
        |p| {
            std::fs::metadata(p)
                .ok()
                .map(|m| super::files::node_kind(&m))
        },
    )
}

#[cfg(test)]
#[path = "kind_tests.rs"]
mod tests;

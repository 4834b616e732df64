//! A drive read as the image ("clone a drive"): it must not change while it
//! is read, or the copy is torn (docs/architecture.md §3). It is opened
//! exclusively, as targets are, so no other run may write it meanwhile; a
//! drive with a filesystem mounted read-write is refused, since the system
//! may write that filesystem at any moment (read-only mounts are fine:
//! they hold the drive against writers themselves). Run elevated, a drive
//! that backs the running system is refused: the user would get a copy of
//! files only root may read.

use std::fs::File;
use std::path::Path;

use super::SourceError;
use crate::platform::{self, IoFailure};

/// Opens the drive at `path` to read it as the image; messages call it
/// `shown` (`-` for standard input).
pub(super) fn open(path: &Path, shown: &Path) -> Result<File, SourceError> {
    let refuse = |why: String| SourceError::DriveInUse {
        path: shown.to_owned(),
        why,
    };
    let open_error = |cause| SourceError::Open {
        path: shown.to_owned(),
        cause,
    };
    if let Some(uid) = platform::elevated_user() {
        match platform::system_drive_reason(path) {
            Ok(None) => {}
            Ok(Some(reason)) => {
                return Err(refuse(format!(
                    "it is a system drive ({reason}), and Imprint runs with administrator rights for user {uid} (pkexec): a copy of it would hand them files only root may read"
                )));
            }
            Err(e) => return Err(open_error(e)),
        }
    }
    let writable = platform::writable_mounts_of(path).map_err(open_error)?;
    if !writable.is_empty() {
        let points: Vec<String> = writable.iter().map(|p| p.display().to_string()).collect();
        return Err(refuse(format!(
            "a filesystem on it is mounted read-write at {}, so it may change while it is copied and the copy would be torn; unmount it (or mount it read-only) first",
            points.join(", ")
        )));
    }
    let mounted = !platform::mounts_of(path).map_err(open_error)?.is_empty();
    if mounted {
        // Read-only mounts claim the drive: no writer can open it anyway,
        // and an exclusive open of ours would fail.
        return File::open(path).map_err(open_error);
    }
    platform::open_block_device_exclusive_read(path).map_err(|cause| {
        match platform::io_failure(&cause) {
            IoFailure::Busy => refuse(
                "another program has it open exclusively (another Imprint run writing it?), so it may change while it is copied; wait for it to finish".to_string(),
            ),
            _ => open_error(cause),
        }
    })
}

//! Whether writing a target would destroy the image while it is read: the
//! target stores the image (the image is on a filesystem of it, or on a loop
//! device or a dm/md volume stored on it, or is the drive itself or one of
//! its partitions), or the target stores its bytes in the image (a loop
//! device over the image file). Both are found by comparing what each one's
//! bytes are stored on ([`platform::storage_of`]).

use std::io;
use std::path::{Path, PathBuf};

use super::TargetKind;
use crate::platform::{self, Storage};

/// The image's storage, looked up once for every target.
pub(super) struct ImageStorage {
    path: PathBuf,
    storage: Result<Storage, String>,
}

impl ImageStorage {
    /// `-` is standard input, which may well be a file or a drive
    /// redirected (`< /dev/sdb`): [`platform::stdin_path`] leads to what
    /// it really is.
    pub(super) fn of(image: &Path) -> ImageStorage {
        let path = if image == Path::new("-") {
            platform::stdin_path()
        } else {
            image
        };
        let storage = match platform::storage_of(path) {
            Ok(storage) => Ok(storage),
            // Not a local path (a URL) or absent: opening it will say so,
            // and no target can hold what is not on this machine.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Storage::default()),
            Err(e) => Err(e.to_string()),
        };
        ImageStorage {
            path: image.to_path_buf(),
            storage,
        }
    }

    /// Why writing the target at `target` would destroy the image, or
    /// `None` when it cannot. A file target only conflicts by being the
    /// image or a file the image is stored in: another file on the image's
    /// filesystem, or on a drive read as the image, leaves it whole.
    pub(super) fn conflict(&self, target: &Path, kind: TargetKind) -> Option<String> {
        let image = match &self.storage {
            Ok(storage) => storage,
            Err(e) => return Some(self.unknown(e)),
        };
        let target_storage = match platform::storage_of(target) {
            Ok(storage) => storage,
            Err(e) => return Some(self.unknown(&e.to_string())),
        };
        let image_path = self.path.display();
        if target_storage.is(image) {
            return Some(match kind {
                TargetKind::File => "is the image itself".to_string(),
                TargetKind::BlockDevice => format!(
                    "is the image's own drive: the image {image_path} is this drive or one of its partitions; to copy a drive, write to another one"
                ),
            });
        }
        if image.is_stored_on(&target_storage) {
            return Some(match kind {
                TargetKind::File => format!(
                    "holds the image: {image_path} is stored in this file (through a loop device backed by it), so writing it would destroy the image while it is read; choose another target"
                ),
                TargetKind::BlockDevice => format!(
                    "holds the image: {image_path} is stored on it (on one of its filesystems, directly or through a loop device or a device-mapper/md volume), so writing it would destroy the image while it is read; copy the image to another drive first, or choose another target"
                ),
            });
        }
        if kind == TargetKind::BlockDevice && target_storage.is_stored_on(image) {
            return Some(format!(
                "writes into the image: it is stored in {image_path} (a loop device backed by it, or a device stacked on one), so writing it would destroy the image while it is read; choose another target"
            ));
        }
        None
    }

    fn unknown(&self, error: &str) -> String {
        format!(
            "cannot tell whether it holds the image {} ({error}); refusing to write it",
            self.path.display()
        )
    }
}

//! Whether writing a target would destroy the image while it is read: the
//! target stores the image (the image is on a filesystem of it, or on a loop
//! device or a dm/md volume stored on it, or is the drive itself or one of
//! its partitions), or the target stores its bytes in the image (a loop
//! device over the image file). Both are found by comparing what each one's
//! bytes are stored on ([`platform::storage_of`]).

use std::io;
use std::path::{Path, PathBuf};

use crate::platform::{self, Storage, StorageUnit};

/// The image's storage, looked up once for every target.
pub(super) struct ImageStorage {
    path: PathBuf,
    storage: Result<Storage, String>,
}

impl ImageStorage {
    /// `-` is standard input, which may well be a file or a drive
    /// redirected (`< /dev/sdb`): `/dev/stdin` leads to what it really is.
    pub(super) fn of(image: &Path) -> ImageStorage {
        let path = if image == Path::new("-") {
            Path::new("/dev/stdin")
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

    /// Why writing the block device `target` would destroy the image, or
    /// `None` when it cannot.
    pub(super) fn conflict_with_device(&self, target: &Path) -> Option<String> {
        let image = match &self.storage {
            Ok(storage) => storage,
            Err(e) => return Some(self.unknown(e)),
        };
        let target_storage = match platform::storage_of(target) {
            Ok(storage) => storage,
            Err(e) => return Some(self.unknown(&e.to_string())),
        };
        let image_path = self.path.display();
        let target_top = target_storage.top.as_ref()?;
        if image.depends_on(target_top) {
            let reason = if image.top.as_ref() == Some(target_top) {
                format!(
                    "is the image's own drive: the image {image_path} is this drive or one of its partitions; to copy a drive, write to another one"
                )
            } else {
                format!(
                    "holds the image: {image_path} is stored on it (on one of its filesystems, directly or through a loop device or a device-mapper/md volume), so writing it would destroy the image while it is read; copy the image to another drive first, or choose another target"
                )
            };
            return Some(reason);
        }
        if let Some(image_top) = &image.top
            && target_storage.depends_on(image_top)
        {
            return Some(format!(
                "writes into the image: it is stored in {image_path} (a loop device backed by it, or a device stacked on one), so writing it would destroy the image while it is read; choose another target"
            ));
        }
        None
    }

    /// Why writing the regular file `(dev, ino)` would destroy the image,
    /// or `None`. Another file on the image's filesystem cannot: only the
    /// image itself, or the file behind a loop device the image is on.
    pub(super) fn conflict_with_file(&self, dev: u64, ino: u64) -> Option<String> {
        let image = match &self.storage {
            Ok(storage) => storage,
            Err(e) => return Some(self.unknown(e)),
        };
        let unit = StorageUnit::File { dev, ino };
        if image.top.as_ref() == Some(&unit) {
            return Some("is the image itself".to_string());
        }
        image.depends_on(&unit).then(|| {
            format!(
                "holds the image: {} is stored in this file (through a loop device backed by it), so writing it would destroy the image while it is read; choose another target",
                self.path.display()
            )
        })
    }

    fn unknown(&self, error: &str) -> String {
        format!(
            "cannot tell whether it holds the image {} ({error}); refusing to write it",
            self.path.display()
        )
    }
}

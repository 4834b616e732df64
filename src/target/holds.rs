//! One storage, one name (docs/architecture.md §3): writing a target must
//! not destroy the image while it is read, another target, or one of the
//! run's own files (config, CSV, report, bmap). A target conflicts with
//! such a path when it is that path (under any name, or its whole drive
//! and one of its partitions), when it stores it (the path is on a
//! filesystem of it, or on a loop device or a dm/md volume stored on it),
//! when it is stored in it (a loop device over the file), or when both
//! read and write the same bytes under two names (two loop devices over
//! one file). All of it is found by comparing what each one's bytes are
//! stored on ([`platform::storage_of`]); a partition next to the one
//! holding the image is another storage.

use std::io;
use std::path::{Path, PathBuf};

use super::TargetKind;
use crate::platform::{self, Storage};

/// What a target is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The image being read.
    Image,
    /// Another target of the run.
    Target,
    /// One of the run's own files (`--config`, the `--each` CSV, …).
    Input,
}

/// A path's storage, looked up once and compared with every target.
pub(super) struct Stored {
    path: PathBuf,
    /// How messages name it: "the image", "the --config file", "target".
    what: String,
    role: Role,
    storage: Result<Storage, String>,
}

impl Stored {
    /// The image. `-` is standard input, which may well be a file or a
    /// drive redirected (`< /dev/sdb`): [`platform::stdin_path`] leads to
    /// what it really is.
    pub(super) fn image(image: &Path) -> Stored {
        let path = if image == Path::new("-") {
            platform::stdin_path()
        } else {
            image
        };
        Stored::of(image, path, "the image".to_string(), Role::Image)
    }

    /// One of the run's own files, `what` naming its role.
    pub(super) fn input(path: &Path, what: &str) -> Stored {
        Stored::of(path, path, what.to_string(), Role::Input)
    }

    /// A target already checked, for the targets after it.
    pub(super) fn target(path: &Path, storage: Result<Storage, String>) -> Stored {
        Stored {
            path: path.to_path_buf(),
            what: "target".to_string(),
            role: Role::Target,
            storage,
        }
    }

    fn of(named: &Path, path: &Path, what: String, role: Role) -> Stored {
        let storage = match platform::storage_of(path) {
            Ok(storage) => Ok(storage),
            // Not a local path (a URL) or absent (a report still to be
            // created): no target can hold what is not there; a file to be
            // created is compared by name (check.rs).
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Storage::default()),
            Err(e) => Err(e.to_string()),
        };
        Stored {
            path: named.to_path_buf(),
            what,
            role,
            storage,
        }
    }

    /// Why writing the target at `target` (whose storage is `target_storage`)
    /// would destroy this one, or `None` when it cannot. A file target
    /// conflicts with the image only by being it or a file it is stored
    /// in: another file on the image's filesystem leaves it whole.
    pub(super) fn conflict(
        &self,
        target_storage: &Result<Storage, String>,
        kind: TargetKind,
    ) -> Option<String> {
        let this = match &self.storage {
            Ok(storage) => storage,
            Err(e) => return Some(self.unknown(e)),
        };
        let target = match target_storage {
            Ok(storage) => storage,
            Err(e) => return Some(self.unknown(e)),
        };
        if self.role == Role::Image {
            return image_conflict(&self.path, this, target, kind);
        }
        let name = format!("{} {}", self.what, self.path.display());
        if target.is(this) {
            return Some(format!(
                "is {name} itself (or its drive); choose another target"
            ));
        }
        if this.is_stored_on(target) {
            return Some(format!(
                "holds {name}: it is stored on it (on a filesystem of it, or through a loop device or a device-mapper/md volume), so writing it would destroy it; choose another target"
            ));
        }
        if target.is_stored_on(this) {
            return Some(format!(
                "writes into {name}: it is stored there (a loop device over it, or a file on a filesystem of it), so writing one destroys the other; choose another target"
            ));
        }
        if target.shares_bytes_with(this) {
            return Some(format!(
                "is the same storage as {name} under another name (a loop device over the same file), so writing it would overwrite it; choose another target"
            ));
        }
        None
    }

    fn unknown(&self, error: &str) -> String {
        format!(
            "cannot tell whether it holds {} {} ({error}); refusing to write it",
            self.what,
            self.path.display()
        )
    }
}

/// [`Stored::conflict`] with the image, in the image's own words.
fn image_conflict(
    image_path: &Path,
    image: &Storage,
    target: &Storage,
    kind: TargetKind,
) -> Option<String> {
    let image_path = image_path.display();
    if target.is(image) {
        return Some(match kind {
            TargetKind::File => "is the image itself".to_string(),
            TargetKind::BlockDevice => format!(
                "is the image's own drive: the image {image_path} is this drive or one of its partitions; to copy a drive, write to another one"
            ),
        });
    }
    if image.is_stored_on(target) {
        return Some(match kind {
            TargetKind::File => format!(
                "holds the image: {image_path} is stored in this file (through a loop device backed by it), so writing it would destroy the image while it is read; choose another target"
            ),
            TargetKind::BlockDevice => format!(
                "holds the image: {image_path} is stored on it (on one of its filesystems, directly or through a loop device or a device-mapper/md volume), so writing it would destroy the image while it is read; copy the image to another drive first, or choose another target"
            ),
        });
    }
    if kind == TargetKind::BlockDevice && target.is_stored_on(image) {
        return Some(format!(
            "writes into the image: it is stored in {image_path} (a loop device backed by it, or a device stacked on one), so writing it would destroy the image while it is read; choose another target"
        ));
    }
    if target.shares_bytes_with(image) {
        return Some(format!(
            "is the same storage as the image {image_path} under another name (two loop devices over one file), so writing it would destroy the image while it is read; choose another target"
        ));
    }
    None
}

/// The storage of a target: an existing one's own, or for a file still to
/// be created (`folder` is its folder, resolved) the filesystem it will be
/// on, with no bytes of its own yet.
pub(super) fn target_storage(path: &Path, new_in: Option<&Path>) -> Result<Storage, String> {
    let Some(folder) = new_in else {
        return platform::storage_of(path).map_err(|e| e.to_string());
    };
    let mut storage = platform::storage_of(folder).map_err(|e| e.to_string())?;
    for unit in std::mem::take(&mut storage.top) {
        storage.under.remove(&unit);
    }
    storage.bytes.clear();
    Ok(storage)
}

//! What a target is, and whether it may be written: every target is checked
//! before any target is opened for writing (DESIGN.md §3).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::Refusal;
use crate::humanize;
use crate::platform;

/// A block device, or a regular file that receives the decompressed image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    BlockDevice,
    File,
}

/// What is known of a target before anything is written to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    pub path: PathBuf,
    pub kind: TargetKind,
    /// Capacity of a block device; `None` for a file (it grows).
    pub size_bytes: Option<u64>,
    /// The kernel has the device marked read-only. Not a refusal: such a
    /// target fails on its own while the others are written.
    pub read_only: bool,
    /// O_DIRECT granularity of a block device (1 for files).
    pub logical_block_size: u32,
    /// Identifies the same device or file under two names.
    identity: Option<(u64, u64)>,
}

/// Looks at `path` without opening it for writing.
pub fn inspect(path: &Path) -> Result<TargetInfo, String> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return new_file_target(path),
        Err(e) => return Err(format!("cannot look at it: {e}")),
    };
    let file_type = metadata.file_type();
    if file_type.is_block_device() {
        let file = File::open(path).map_err(|e| format!("cannot open it to read its size: {e}"))?;
        let size = platform::block_device_size_bytes(&file)
            .map_err(|e| format!("cannot read its size: {e}"))?;
        let read_only =
            platform::is_read_only(&file).map_err(|e| format!("cannot read its state: {e}"))?;
        let logical_block_size = platform::logical_block_size(&file)
            .map_err(|e| format!("cannot read its sector size: {e}"))?;
        Ok(TargetInfo {
            path: path.to_path_buf(),
            kind: TargetKind::BlockDevice,
            size_bytes: Some(size),
            read_only,
            logical_block_size,
            identity: Some((0, metadata.rdev())),
        })
    } else if file_type.is_file() {
        Ok(TargetInfo {
            path: path.to_path_buf(),
            kind: TargetKind::File,
            size_bytes: None,
            read_only: metadata.permissions().readonly(),
            logical_block_size: 1,
            identity: Some((metadata.dev(), metadata.ino())),
        })
    } else if file_type.is_dir() {
        Err("is a folder; name a drive (/dev/sdX) or an image file to create".to_string())
    } else {
        Err("is neither a block device nor a regular file".to_string())
    }
}

fn new_file_target(path: &Path) -> Result<TargetInfo, String> {
    if path.starts_with("/dev") {
        return Err(
            "no such device: is the drive plugged in? `imprint list` shows the drives".into(),
        );
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(format!(
            "no such file, and its folder {} does not exist",
            parent.display()
        ));
    }
    Ok(TargetInfo {
        path: path.to_path_buf(),
        kind: TargetKind::File,
        size_bytes: None,
        read_only: false,
        logical_block_size: 1,
        identity: None,
    })
}

/// Checks every target against DESIGN.md §3: the system drive, a target
/// smaller than the image (when its size is known), the same device named
/// twice, the image itself. Returns every refusal, not only the first.
pub fn check_targets(
    paths: &[PathBuf],
    image: &Path,
    image_size: Option<u64>,
) -> Result<Vec<TargetInfo>, Vec<Refusal>> {
    let image_identity = std::fs::metadata(image).ok().map(|m| (m.dev(), m.ino()));
    let mut refusals = Vec::new();
    let mut infos = Vec::new();
    let mut seen: HashMap<(u64, u64), PathBuf> = HashMap::new();
    let mut disks: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut refuse = |target: &Path, reason: String| {
        refusals.push(Refusal {
            target: target.to_path_buf(),
            reason,
        })
    };
    for path in paths {
        // The system check needs only sysfs and the mount table, and comes
        // first: the system drive is refused before it is even opened.
        let is_block_device = std::fs::metadata(path)
            .map(|m| m.file_type().is_block_device())
            .unwrap_or(false);
        if is_block_device {
            match platform::system_drive_reason(path) {
                Ok(Some(reason)) => {
                    refuse(
                        path,
                        format!("is a system drive: {reason}; refusing to write it"),
                    );
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    refuse(
                        path,
                        format!(
                            "cannot tell whether it is a system drive ({e}); refusing to write it"
                        ),
                    );
                    continue;
                }
            }
        }
        let info = match inspect(path) {
            Ok(info) => info,
            Err(reason) => {
                refuse(path, reason);
                continue;
            }
        };
        let identity = info.identity.unwrap_or((u64::MAX, seen.len() as u64));
        if let Some(first) = seen.get(&identity) {
            refuse(
                path,
                format!("is the same target as {}, named twice", first.display()),
            );
            continue;
        }
        seen.insert(identity, path.clone());
        if info.kind == TargetKind::BlockDevice
            && let Ok(disk) = platform::whole_disk(path)
        {
            if let Some(first) = disks.get(&disk) {
                refuse(
                    path,
                    format!("is on the same drive as {}, named twice", first.display()),
                );
                continue;
            }
            disks.insert(disk, path.clone());
        }
        if info.identity.is_some() && info.identity == image_identity {
            refuse(path, "is the image itself".to_string());
            continue;
        }
        if let (Some(image_bytes), Some(drive_bytes)) = (image_size, info.size_bytes)
            && image_bytes > drive_bytes
        {
            refuse(
                path,
                format!(
                    "is too small: the image needs {} ({image_bytes} bytes), the drive holds {} ({drive_bytes} bytes)",
                    humanize::bytes(image_bytes),
                    humanize::bytes(drive_bytes)
                ),
            );
            continue;
        }
        infos.push(info);
    }
    if refusals.is_empty() {
        Ok(infos)
    } else {
        Err(refusals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_named_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("image.img");
        std::fs::write(&image, b"image").unwrap();
        let target = dir.path().join("out.img");
        std::fs::write(&target, b"").unwrap();
        let refusals =
            check_targets(&[target.clone(), target.clone()], &image, Some(5)).unwrap_err();
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
}

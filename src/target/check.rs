//! What a target is, and whether it may be written: every target is checked
//! before any target is opened for writing (docs/architecture.md §3).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::Refusal;
use super::holds::ImageStorage;
use crate::humanize;
use crate::platform::{self, NodeId, NodeKind};

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
    identity: Identity,
}

/// What a target is, whatever it is called: `/dev/disk/by-id/…` and
/// `/dev/sdb` are one device; `out.img` and `./out.img` one file, even
/// before it exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    /// An existing block device or file.
    Existing(NodeId),
    /// A file still to be created: its folder, resolved, and its name.
    NewFile(PathBuf),
}

/// Looks at `path` without opening it for writing.
pub fn inspect(path: &Path) -> Result<TargetInfo, String> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return new_file_target(path),
        Err(e) => return Err(format!("cannot look at it: {e}")),
    };
    let kind = platform::node_kind(&metadata);
    if kind == NodeKind::BlockDevice {
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
            identity: Identity::Existing(platform::node_id(&metadata)),
        })
    } else if kind == NodeKind::File {
        Ok(TargetInfo {
            path: path.to_path_buf(),
            kind: TargetKind::File,
            size_bytes: None,
            read_only: metadata.permissions().readonly(),
            logical_block_size: 1,
            identity: Identity::Existing(platform::node_id(&metadata)),
        })
    } else if kind == NodeKind::Dir {
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
    let created = file_to_create(path)?;
    let parent = match created.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(name) = created.file_name() else {
        return Err("names a folder; name a drive (/dev/sdX) or an image file to create".into());
    };
    if !parent.is_dir() {
        return Err(format!(
            "no such file, and its folder {} does not exist",
            parent.display()
        ));
    }
    let folder = std::fs::canonicalize(parent)
        .map_err(|e| format!("cannot resolve its folder {}: {e}", parent.display()))?;
    Ok(TargetInfo {
        path: path.to_path_buf(),
        kind: TargetKind::File,
        size_bytes: None,
        read_only: false,
        logical_block_size: 1,
        identity: Identity::NewFile(folder.join(name)),
    })
}

/// The file that opening `path` with O_CREAT creates: `path` itself, or
/// where a dangling symlink points (followed as the kernel would).
fn file_to_create(path: &Path) -> Result<PathBuf, String> {
    /// The kernel's own limit on symlinks followed in one lookup.
    const MAX_LINKS: usize = 40;
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)
                    .map_err(|e| format!("cannot read the link {}: {e}", current.display()))?;
                current = match current.parent() {
                    Some(parent) => parent.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err("is a chain of symbolic links that never ends".to_string())
}

/// Checks every target against docs/architecture.md §3: the system drive, a target
/// that holds the image or is stored in it, a target another program is
/// writing, a target smaller than the image (when its size is known), the
/// same device named twice. Returns every refusal, not only the first.
///
/// `image` may be `-` or `/dev/stdin`: what standard input really is (a
/// file, a drive) is what is compared.
pub fn check_targets(
    paths: &[PathBuf],
    image: &Path,
    image_size: Option<u64>,
) -> Result<Vec<TargetInfo>, Vec<Refusal>> {
    let image_storage = ImageStorage::of(image);
    let mut refusals = Vec::new();
    let mut infos = Vec::new();
    let mut seen: HashMap<Identity, PathBuf> = HashMap::new();
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
        let is_block_device =
            std::fs::metadata(path).is_ok_and(|m| platform::node_kind(&m) == NodeKind::BlockDevice);
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
        if let Some(first) = seen.get(&info.identity) {
            refuse(
                path,
                format!("is the same target as {}, named twice", first.display()),
            );
            continue;
        }
        seen.insert(info.identity.clone(), path.clone());
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
        // A file still to be created cannot be the image, nor store it.
        let conflict = match &info.identity {
            Identity::NewFile(_) => None,
            _ => image_storage.conflict(path, info.kind),
        };
        if let Some(reason) = conflict {
            refuse(path, reason);
            continue;
        }
        if let Some(reason) = in_use_reason(&info) {
            refuse(path, reason);
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

/// Why another program keeps the target from being written, found before
/// anything is written: a device-mapper or md device stacked on the drive,
/// a block device someone else holds exclusively (the writer opens it
/// O_EXCL and would fail), a file another run has locked.
fn in_use_reason(info: &TargetInfo) -> Option<String> {
    const ANOTHER_WRITER: &str = "another program is writing it (another Imprint run?); wait for it to finish or choose another target";
    match (info.kind, &info.identity) {
        (_, Identity::NewFile(_)) => None,
        (TargetKind::BlockDevice, _) => {
            // Unmounting does not release a stacked device: refuse it by
            // name rather than fail to open the drive later.
            let stacked = platform::stacked_on(&info.path).unwrap_or_default();
            if !stacked.is_empty() {
                let names: Vec<String> = stacked.iter().map(|n| format!("/dev/{n}")).collect();
                return Some(format!(
                    "has {} stacked on it (device-mapper, md or LVM), which writing it would destroy; deactivate that first (dmsetup remove, mdadm --stop, vgchange -an)",
                    names.join(", ")
                ));
            }
            // Mounted filesystems also hold it; they are unmounted before
            // writing, so only a drive with none mounted is judged here.
            let mounted = platform::mounts_of(&info.path).map(|m| !m.is_empty());
            if !matches!(mounted, Ok(false)) {
                return None;
            }
            match platform::block_device_claimed(&info.path) {
                Ok(true) => Some(format!("is open exclusively: {ANOTHER_WRITER}")),
                Ok(false) => None,
                Err(e) => Some(format!("cannot open it to look whether it is in use: {e}")),
            }
        }
        (TargetKind::File, _) => {
            // Unreadable: the write will say why; nothing to look at here.
            let file = File::open(&info.path).ok()?;
            match platform::lock_file(&file, platform::FileLock::Shared) {
                Ok(true) => None,
                Ok(false) => Some(format!("is locked: {ANOTHER_WRITER}")),
                Err(e) => Some(format!("cannot look whether it is locked: {e}")),
            }
        }
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
}

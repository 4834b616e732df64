//! What a target is, and whether it may be written: every target is checked
//! before any target is opened for writing (docs/architecture.md §3).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::Refusal;
use super::holds::{Stored, target_storage};
use crate::humanize;
use crate::platform::{self, NodeId, NodeKind};

/// A block device, or a regular file that receives the decompressed image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetKind {
    BlockDevice,
    File,
}

/// What is known of a target before anything is written to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetInfo {
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
pub(crate) fn inspect(path: &Path) -> Result<TargetInfo, String> {
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

/// One of the run's own files (`--config`, the `--each` CSV, `--report`,
/// a bmap): never a target, under any name (docs/architecture.md §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInput {
    /// How messages name it: "the --config file".
    pub what: String,
    pub path: PathBuf,
}

impl RunInput {
    pub fn new(what: &str, path: &Path) -> RunInput {
        RunInput {
            what: what.to_string(),
            path: path.to_path_buf(),
        }
    }
}

/// Checks every target against docs/architecture.md §3: the system drive, a target
/// that holds the image or is stored in it, a target another program is
/// writing, a target smaller than the image (when its size is known), the
/// same device named twice. Returns every refusal, not only the first.
///
/// `image` may be `-` or `/dev/stdin`: what standard input really is (a
/// file, a drive) is what is compared.
pub(crate) fn check_targets(
    paths: &[PathBuf],
    image: &Path,
    image_size: Option<u64>,
) -> Result<Vec<TargetInfo>, Vec<Refusal>> {
    check_targets_with(paths, image, image_size, &[])
}

/// [`check_targets`], also refusing a target that is one of `inputs`, holds
/// one, or shares its storage, and any two targets that share storage.
pub(crate) fn check_targets_with(
    paths: &[PathBuf],
    image: &Path,
    image_size: Option<u64>,
    inputs: &[RunInput],
) -> Result<Vec<TargetInfo>, Vec<Refusal>> {
    let mut checker = Checker::new(image, image_size, inputs);
    let mut refusals = Vec::new();
    let mut infos = Vec::new();
    for path in paths {
        match checker.check(path) {
            Ok(info) => infos.push(info),
            Err(reason) => refusals.push(Refusal {
                target: path.clone(),
                reason,
            }),
        }
    }
    if refusals.is_empty() {
        Ok(infos)
    } else {
        Err(refusals)
    }
}

/// What the targets checked so far are compared with.
struct Checker<'a> {
    image_size: Option<u64>,
    inputs: Vec<(Identity, &'a RunInput)>,
    /// The image, the run's own files, the targets accepted so far.
    others: Vec<Stored>,
    seen: HashMap<Identity, PathBuf>,
    disks: HashMap<PathBuf, PathBuf>,
    elevated: Option<u32>,
}

impl<'a> Checker<'a> {
    fn new(image: &Path, image_size: Option<u64>, inputs: &'a [RunInput]) -> Checker<'a> {
        let mut others = vec![Stored::image(image)];
        others.extend(inputs.iter().map(|i| Stored::input(&i.path, &i.what)));
        Checker {
            image_size,
            inputs: inputs
                .iter()
                .filter_map(|input| Some((identity_of(&input.path)?, input)))
                .collect(),
            others,
            seen: HashMap::new(),
            disks: HashMap::new(),
            elevated: platform::elevated_user(),
        }
    }

    fn check(&mut self, path: &Path) -> Result<TargetInfo, String> {
        // The system check needs only sysfs and the mount table, and comes
        // first: the system drive is refused before it is even opened.
        let is_block_device = platform::path_kind(path) == Some(NodeKind::BlockDevice);
        if !is_block_device && let Some(uid) = self.elevated {
            return Err(not_a_drive_under_elevation(uid));
        }
        if is_block_device {
            match platform::system_drive_reason(path) {
                Ok(Some(reason)) => {
                    return Err(format!("is a system drive: {reason}; refusing to write it"));
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(format!(
                        "cannot tell whether it is a system drive ({e}); refusing to write it"
                    ));
                }
            }
        }
        let info = inspect(path)?;
        self.check_names(path, &info)?;
        let new_in = match &info.identity {
            Identity::NewFile(file) => file.parent(),
            Identity::Existing(_) => None,
        };
        let storage = target_storage(path, new_in);
        for other in &self.others {
            if let Some(reason) = other.conflict(&storage, info.kind) {
                return Err(reason);
            }
        }
        if let Some(reason) = in_use_reason(&info) {
            return Err(reason);
        }
        if let (Some(image_bytes), Some(drive_bytes)) = (self.image_size, info.size_bytes)
            && image_bytes > drive_bytes
        {
            return Err(format!(
                "is too small: the image needs {} ({image_bytes} bytes), the drive holds {} ({drive_bytes} bytes)",
                humanize::bytes(image_bytes),
                humanize::bytes(drive_bytes)
            ));
        }
        self.others.push(Stored::target(path, storage));
        Ok(info)
    }

    /// The same target, drive or run file under another name.
    fn check_names(&mut self, path: &Path, info: &TargetInfo) -> Result<(), String> {
        if let Some(first) = self.seen.get(&info.identity) {
            return Err(format!(
                "is the same target as {}, named twice",
                first.display()
            ));
        }
        self.seen.insert(info.identity.clone(), path.to_path_buf());
        if let Some((_, input)) = self.inputs.iter().find(|(id, _)| *id == info.identity) {
            return Err(format!(
                "is {} {}, one of this run's own files; choose another target",
                input.what,
                input.path.display()
            ));
        }
        if info.kind == TargetKind::BlockDevice
            && let Ok(disk) = platform::whole_disk(path)
        {
            if let Some(first) = self.disks.get(&disk) {
                return Err(format!(
                    "is on the same drive as {}, named twice",
                    first.display()
                ));
            }
            self.disks.insert(disk, path.to_path_buf());
        }
        Ok(())
    }
}

/// Under elevation (pkexec), every target that is not a drive, refused:
/// root may write any file, so a file target would let any user overwrite
/// any file. Looked at before the image is even opened.
pub(crate) fn refuse_files_under_elevation(paths: &[PathBuf]) -> Vec<Refusal> {
    let Some(uid) = platform::elevated_user() else {
        return Vec::new();
    };
    paths
        .iter()
        .filter(|path| platform::path_kind(path) != Some(NodeKind::BlockDevice))
        .map(|path| Refusal {
            target: path.clone(),
            reason: not_a_drive_under_elevation(uid),
        })
        .collect()
}

fn not_a_drive_under_elevation(uid: u32) -> String {
    format!(
        "is not a drive: Imprint runs with administrator rights here (pkexec, for user {uid}), and then writes drives only, never files — as root it could overwrite any file; run imprint without pkexec to write an image file"
    )
}

/// What `path` is under any name, as a target's [`Identity`]; `None` when
/// it cannot be a target anyway (a folder, a URL's odd path).
fn identity_of(path: &Path) -> Option<Identity> {
    inspect(path).ok().map(|info| info.identity)
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
#[path = "check_tests.rs"]
mod tests;

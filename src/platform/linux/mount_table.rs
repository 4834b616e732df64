//! What the running system has mounted and swapping, read from
//! `/proc/self/mountinfo` and `/proc/swaps`, each entry resolved to the
//! kernel name of its block device.
//!
//! `/proc/self/mountinfo` is read rather than `/proc/mounts` of PID 1: the
//! calling process's mount namespace is the one it could break.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::io_context::at;
use super::sysfs::{SysBlock, block_by_dev_number};

pub(super) const MOUNTINFO: &str = "/proc/self/mountinfo";
const SWAPS: &str = "/proc/swaps";
/// One directory per mounted btrfs filesystem, listing its member devices.
const SYS_FS_BTRFS: &str = "/sys/fs/btrfs";

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MountInfoLine {
    /// Field 1: the mount's ID, which `statx` reports for a file on it.
    pub mount_id: u64,
    /// Field 3: the device number of the mounted filesystem. For btrfs this
    /// is an anonymous number (`0:NN`) that names no block device.
    pub dev_major: u32,
    pub dev_minor: u32,
    pub mount_point: PathBuf,
    pub fs_type: String,
    /// What was mounted, as given to mount(2): `/dev/sdb1`, `tmpfs`, …
    pub source: PathBuf,
}

/// One line of `/proc/swaps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SwapLine {
    pub path: PathBuf,
    /// `partition` or `file`.
    pub kind: String,
}

/// Undoes the octal escapes the kernel writes for space, tab, newline and
/// backslash in mountinfo and swaps (`/media/my\040card`).
fn unescape_octal(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes.get(i + 1..i + 4);
        match escape {
            Some(digits)
                if bytes[i] == b'\\' && digits.iter().all(|d| (b'0'..=b'7').contains(d)) =>
            {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

/// Parses the text of `/proc/self/mountinfo`; lines that do not have the
/// documented shape (proc(5)) are skipped rather than failing the caller.
pub(super) fn parse_mountinfo(text: &str) -> Vec<MountInfoLine> {
    text.lines().filter_map(parse_mountinfo_line).collect()
}

fn parse_mountinfo_line(line: &str) -> Option<MountInfoLine> {
    // id parent MAJ:MIN root mount-point options [optional…] - fstype source super-options
    let (before, after) = line.split_once(" - ")?;
    let mut fields = before.split(' ');
    let (id, _parent) = (fields.next()?, fields.next()?);
    let (major, minor) = fields.next()?.split_once(':')?;
    let _root = fields.next()?;
    let mount_point = unescape_octal(fields.next()?);
    let mut tail = after.split(' ');
    let fs_type = tail.next()?.to_string();
    let source = unescape_octal(tail.next()?);
    Some(MountInfoLine {
        mount_id: id.parse().ok()?,
        dev_major: major.parse().ok()?,
        dev_minor: minor.parse().ok()?,
        mount_point,
        fs_type,
        source,
    })
}

/// Parses the text of `/proc/swaps` (a header line, then one line per
/// active swap area).
pub(super) fn parse_swaps(text: &str) -> Vec<SwapLine> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let path = unescape_octal(fields.next()?);
            let kind = fields.next()?.to_string();
            Some(SwapLine { path, kind })
        })
        .collect()
}

/// A mounted filesystem and the block devices under it: one, or every
/// member of a multi-device btrfs or bcachefs (a btrfs RAID1 `/` on `sda2`
/// and `sdb2` makes both drives system drives, though mountinfo names one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ResolvedMount {
    pub line: MountInfoLine,
    pub blocks: Vec<SysBlock>,
}

/// An active swap area and the block devices it lives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ResolvedSwap {
    pub line: SwapLine,
    pub blocks: Vec<SysBlock>,
}

/// The mounts and swaps of the calling process, resolved to block devices.
/// Filesystems without a block device (proc, tmpfs, NFS) are left out.
#[derive(Debug, Clone, Default)]
pub(super) struct MountTable {
    /// In mountinfo order: a mount stacked on another comes after it.
    pub mounts: Vec<ResolvedMount>,
    pub swaps: Vec<ResolvedSwap>,
}

impl MountTable {
    /// Reads `/proc/self/mountinfo` and `/proc/swaps` now.
    pub(super) fn read() -> io::Result<MountTable> {
        let mountinfo = fs::read_to_string(MOUNTINFO).map_err(at("read", Path::new(MOUNTINFO)))?;
        let swaps = match fs::read_to_string(SWAPS) {
            Ok(text) => text,
            // A kernel built without swap has no /proc/swaps: nothing swaps.
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(at("read", Path::new(SWAPS))(e)),
        };
        MountTable::resolve(parse_mountinfo(&mountinfo), parse_swaps(&swaps))
    }

    fn resolve(lines: Vec<MountInfoLine>, swap_lines: Vec<SwapLine>) -> io::Result<MountTable> {
        let mut mounts = Vec::new();
        for line in lines {
            let blocks = blocks_of_mount(&line, Path::new(SYS_FS_BTRFS))?;
            if !blocks.is_empty() {
                mounts.push(ResolvedMount { line, blocks });
            }
        }
        let mut swaps = Vec::new();
        for line in swap_lines {
            let blocks = blocks_of_swap(&line, &mounts)?;
            if !blocks.is_empty() {
                swaps.push(ResolvedSwap { line, blocks });
            }
        }
        Ok(MountTable { mounts, swaps })
    }
}

/// The block devices a mount lives on: by its device number when that
/// names a block device, else (btrfs reports anonymous numbers) by its
/// source path(s), plus the other members of a multi-device btrfs.
fn blocks_of_mount(line: &MountInfoLine, btrfs_root: &Path) -> io::Result<Vec<SysBlock>> {
    if let Some(block) = block_by_dev_number(line.dev_major, line.dev_minor)? {
        return Ok(vec![block]);
    }
    let sources: Vec<PathBuf> = if line.fs_type == "bcachefs" {
        // bcachefs names every member: `/dev/sda2:/dev/sdb2`.
        let source = line.source.to_string_lossy();
        source.split(':').map(PathBuf::from).collect()
    } else {
        vec![line.source.clone()]
    };
    let mut blocks = Vec::new();
    for source in sources {
        if let Some(block) = block_of_node(&source)? {
            blocks.push(block);
        }
    }
    if line.fs_type == "btrfs"
        && let Some(first) = blocks.first()
    {
        for member in btrfs_members(btrfs_root, &first.name)? {
            if !blocks.iter().any(|b| b.name == member) {
                blocks.push(SysBlock::new(member));
            }
        }
    }
    Ok(blocks)
}

/// Every member device of the mounted btrfs that `member` belongs to, by
/// kernel name (`/sys/fs/btrfs/<fsid>/devices/<name>`); empty when none.
fn btrfs_members(btrfs_root: &Path, member: &str) -> io::Result<Vec<String>> {
    let filesystems = match fs::read_dir(btrfs_root) {
        Ok(entries) => entries,
        // btrfs not loaded: no btrfs is mounted.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(at("list", btrfs_root)(e)),
    };
    for filesystem in filesystems {
        let devices_dir = filesystem
            .map_err(at("list", btrfs_root))?
            .path()
            .join("devices");
        // `features` and other entries have no devices/ directory.
        let Ok(devices) = fs::read_dir(&devices_dir) else {
            continue;
        };
        let names: Vec<String> = devices
            .flatten()
            .map(|device| device.file_name().to_string_lossy().into_owned())
            .collect();
        if names.iter().any(|name| name == member) {
            return Ok(names);
        }
    }
    Ok(Vec::new())
}

/// The block device a device node refers to, or `None` when `path` is not a
/// block device node (a mount source like `tmpfs`, a vanished node).
fn block_of_node(path: &Path) -> io::Result<Option<SysBlock>> {
    if !path.is_absolute() {
        return Ok(None);
    }
    match fs::metadata(path) {
        Ok(metadata) if metadata.file_type().is_block_device() => {
            let rdev = metadata.rdev();
            block_by_dev_number(libc::major(rdev), libc::minor(rdev))
        }
        Ok(_) => Ok(None),
        Err(e) if is_not_inspectable(&e) => Ok(None),
        Err(e) => Err(at("inspect", path)(e)),
    }
}

/// Errors that say "this path names no device we can see", not "the
/// machine is broken": one odd mount source (a FUSE path in a private home,
/// a node that vanished) must not stop every drive from being listed. Device
/// nodes in /dev can be inspected by anyone, and the engine runs as root,
/// so no system drive hides behind these.
fn is_not_inspectable(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::PermissionDenied
    )
}

/// The block devices a swap area lives on: the partition itself, or for a
/// swap file the device(s) of the filesystem holding it.
fn blocks_of_swap(line: &SwapLine, mounts: &[ResolvedMount]) -> io::Result<Vec<SysBlock>> {
    if let Some(block) = block_of_node(&line.path)? {
        return Ok(vec![block]);
    }
    let metadata = match fs::metadata(&line.path) {
        Ok(metadata) => metadata,
        // A deleted swap file shows as "/path (deleted)"; its filesystem
        // is unknown here, and the mounts already cover the usual case.
        Err(e) if is_not_inspectable(&e) => return Ok(Vec::new()),
        Err(e) => return Err(at("inspect", &line.path)(e)),
    };
    let (major, minor) = (libc::major(metadata.dev()), libc::minor(metadata.dev()));
    if let Some(block) = block_by_dev_number(major, minor)? {
        return Ok(vec![block]);
    }
    // btrfs: the file's anonymous device number matches its mount's field 3.
    Ok(mounts
        .iter()
        .find(|m| m.line.dev_major == major && m.line.dev_minor == minor)
        .map(|m| m.blocks.clone())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE_MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
36 27 8:17 / /media/my\\040card rw,nosuid shared:5 master:1 - vfat /dev/sdb1 rw,fmask=0022
37 27 0:45 /@home /home rw,relatime shared:7 - btrfs /dev/mapper/vg-home rw,space_cache
garbage line without separator
";

    #[test]
    fn mountinfo_lines_give_device_numbers_mount_points_and_sources() {
        let lines = parse_mountinfo(SAMPLE_MOUNTINFO);
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[1],
            MountInfoLine {
                mount_id: 27,
                dev_major: 254,
                dev_minor: 0,
                mount_point: PathBuf::from("/"),
                fs_type: "ext4".into(),
                source: PathBuf::from("/dev/vda"),
            }
        );
        // Optional fields (shared:5 master:1) do not shift the others, and
        // an escaped space is a space.
        assert_eq!(lines[2].mount_point, PathBuf::from("/media/my card"));
        assert_eq!(lines[2].source, PathBuf::from("/dev/sdb1"));
        assert_eq!((lines[2].dev_major, lines[2].dev_minor), (8, 17));
        assert_eq!(lines[3].fs_type, "btrfs");
        assert_eq!(lines[3].mount_point, PathBuf::from("/home"));
    }

    #[test]
    fn octal_escapes_become_their_bytes_and_lone_backslashes_stay() {
        assert_eq!(
            unescape_octal("a\\011b\\012c\\134d"),
            PathBuf::from("a\tb\nc\\d")
        );
        assert_eq!(
            unescape_octal("trailing\\04"),
            PathBuf::from("trailing\\04")
        );
        assert_eq!(unescape_octal("\\xyz"), PathBuf::from("\\xyz"));
    }

    #[test]
    fn btrfs_members_are_every_device_of_the_filesystem_holding_one() {
        let root = tempfile::tempdir().unwrap();
        for (fsid, members) in [
            ("1111-aaaa", ["sda2", "sdb2"]),
            ("2222-bbbb", ["sdc", "sdd"]),
        ] {
            for member in members {
                fs::create_dir_all(root.path().join(fsid).join("devices").join(member)).unwrap();
            }
        }
        fs::create_dir_all(root.path().join("features")).unwrap();
        let mut members = btrfs_members(root.path(), "sdb2").unwrap();
        members.sort();
        assert_eq!(members, ["sda2", "sdb2"]);
        assert!(btrfs_members(root.path(), "sde").unwrap().is_empty());
        assert!(
            btrfs_members(&root.path().join("absent"), "sda2")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn swaps_skip_the_header_and_read_path_and_kind() {
        let text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n\
                    /dev/sda3                               partition\t8388604\t\t0\t\t-2\n\
                    /swap\\040file                           file\t\t1048572\t\t0\t\t-3\n";
        assert_eq!(
            parse_swaps(text),
            vec![
                SwapLine {
                    path: "/dev/sda3".into(),
                    kind: "partition".into()
                },
                SwapLine {
                    path: "/swap file".into(),
                    kind: "file".into()
                },
            ]
        );
        assert!(parse_swaps("Filename\tType\tSize\tUsed\tPriority\n").is_empty());
    }
}

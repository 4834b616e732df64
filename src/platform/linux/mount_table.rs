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

const MOUNTINFO: &str = "/proc/self/mountinfo";
const SWAPS: &str = "/proc/swaps";

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfoLine {
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
pub struct SwapLine {
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
pub fn parse_mountinfo(text: &str) -> Vec<MountInfoLine> {
    text.lines().filter_map(parse_mountinfo_line).collect()
}

fn parse_mountinfo_line(line: &str) -> Option<MountInfoLine> {
    // id parent MAJ:MIN root mount-point options [optional…] - fstype source super-options
    let (before, after) = line.split_once(" - ")?;
    let mut fields = before.split(' ');
    let (_id, _parent) = (fields.next()?, fields.next()?);
    let (major, minor) = fields.next()?.split_once(':')?;
    let _root = fields.next()?;
    let mount_point = unescape_octal(fields.next()?);
    let mut tail = after.split(' ');
    let fs_type = tail.next()?.to_string();
    let source = unescape_octal(tail.next()?);
    Some(MountInfoLine {
        dev_major: major.parse().ok()?,
        dev_minor: minor.parse().ok()?,
        mount_point,
        fs_type,
        source,
    })
}

/// Parses the text of `/proc/swaps` (a header line, then one line per
/// active swap area).
pub fn parse_swaps(text: &str) -> Vec<SwapLine> {
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

/// A mounted filesystem and the block device under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMount {
    pub line: MountInfoLine,
    pub block: SysBlock,
}

/// An active swap area and the block device it lives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSwap {
    pub line: SwapLine,
    pub block: SysBlock,
}

/// The mounts and swaps of the calling process, resolved to block devices.
/// Filesystems without a block device (proc, tmpfs, NFS) are left out.
#[derive(Debug, Clone, Default)]
pub struct MountTable {
    /// In mountinfo order: a mount stacked on another comes after it.
    pub mounts: Vec<ResolvedMount>,
    pub swaps: Vec<ResolvedSwap>,
}

impl MountTable {
    /// Reads `/proc/self/mountinfo` and `/proc/swaps` now.
    pub fn read() -> io::Result<MountTable> {
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
            if let Some(block) = block_of_mount(&line)? {
                mounts.push(ResolvedMount { line, block });
            }
        }
        let mut swaps = Vec::new();
        for line in swap_lines {
            if let Some(block) = block_of_swap(&line, &mounts)? {
                swaps.push(ResolvedSwap { line, block });
            }
        }
        Ok(MountTable { mounts, swaps })
    }
}

/// The block device a mount lives on: by its device number when that names
/// a block device, else (btrfs reports anonymous numbers) by its source path.
fn block_of_mount(line: &MountInfoLine) -> io::Result<Option<SysBlock>> {
    if let Some(block) = block_by_dev_number(line.dev_major, line.dev_minor)? {
        return Ok(Some(block));
    }
    block_of_node(&line.source)
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
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(at("inspect", path)(e)),
    }
}

/// The block device a swap area lives on: the partition itself, or for a
/// swap file the device of the filesystem holding it.
fn block_of_swap(line: &SwapLine, mounts: &[ResolvedMount]) -> io::Result<Option<SysBlock>> {
    if let Some(block) = block_of_node(&line.path)? {
        return Ok(Some(block));
    }
    let metadata = match fs::metadata(&line.path) {
        Ok(metadata) => metadata,
        // A deleted swap file shows as "/path (deleted)"; its filesystem
        // is unknown here, and the mounts already cover the usual case.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(at("inspect", &line.path)(e)),
    };
    let (major, minor) = (libc::major(metadata.dev()), libc::minor(metadata.dev()));
    if let Some(block) = block_by_dev_number(major, minor)? {
        return Ok(Some(block));
    }
    // btrfs: the file's anonymous device number matches its mount's field 3.
    Ok(mounts
        .iter()
        .find(|m| m.line.dev_major == major && m.line.dev_minor == minor)
        .map(|m| m.block.clone()))
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

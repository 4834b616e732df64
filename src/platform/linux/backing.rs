//! What a file's or a block device's bytes are stored on, all the way down:
//! a file lives on the block device of its filesystem; a partition on its
//! disk; a device-mapper or md device on its `slaves`; a loop device on its
//! backing file, which lives on a filesystem in turn. A target must not be
//! anywhere under the image (writing it destroys the image while it is read),
//! nor the image under the target.
//!
//! Partitions count as their whole disk: the tables of a drive being
//! rewritten cannot be trusted to keep a neighbouring partition intact.

// System calls need unsafe: ioctls on loop devices through libc.
#![allow(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;

use super::io_context::{at, path_error};
use super::mount_table::{MOUNTINFO, MountTable, parse_mountinfo};
use super::sysfs::{SysBlock, block_by_dev_number};
use crate::platform::{Storage, StorageUnit};

/// `LOOP_GET_STATUS64` from <linux/loop.h>.
const LOOP_GET_STATUS64: libc::c_ulong = 0x4C05;

/// Loops of loops are legal; a cycle is not, but a bound keeps a kernel
/// oddity from turning into endless recursion.
const MAX_DEPTH: usize = 32;

/// The storage of `path`, following symlinks (`/dev/stdin` is what standard
/// input really is). Mounts are those of the calling process.
pub fn storage_of(path: &Path) -> io::Result<Storage> {
    let metadata = std::fs::metadata(path).map_err(at("inspect", path))?;
    let mut walk = Walk::new();
    let mut top = BTreeSet::new();
    if metadata.file_type().is_block_device() {
        let rdev = metadata.rdev();
        let block =
            block_by_dev_number(libc::major(rdev), libc::minor(rdev))?.ok_or_else(|| {
                path_error(
                    "find in /sys/dev/block",
                    path,
                    io::Error::new(io::ErrorKind::NotFound, "the kernel does not list it"),
                )
            })?;
        top.insert(walk.block(&block, 0)?);
    } else if metadata.file_type().is_file() || metadata.file_type().is_dir() {
        // A folder counts as a file: what matters is the filesystem under
        // it (a file still to be created there).
        top.insert(walk.file(metadata.dev(), metadata.ino(), 0)?);
        // The loop driver records a backing file by its filesystem's own
        // device number: the file is known under that name too.
        if let Some(dev) = filesystem_dev(path)?
            && dev != metadata.dev()
        {
            top.insert(walk.file(dev, metadata.ino(), 0)?);
        }
    }
    let bytes = walk.bytes_of(&top);
    Ok(Storage {
        top,
        under: walk.seen,
        bytes,
    })
}

/// The storage of a block device known by its sysfs entry (also one of a
/// sysfs-shaped test tree).
#[cfg(test)]
fn storage_of_block(block: &SysBlock) -> io::Result<Storage> {
    let mut walk = Walk::new();
    let top = BTreeSet::from([walk.block(block, 0)?]);
    let bytes = walk.bytes_of(&top);
    Ok(Storage {
        top,
        under: walk.seen,
        bytes,
    })
}

struct Walk {
    seen: BTreeSet<StorageUnit>,
    /// The unit each loop device seen (by disk name) is attached to.
    loop_backing: BTreeMap<String, StorageUnit>,
    /// Read once, and only when a file's device number is not a block
    /// device's (btrfs).
    mounts: Option<MountTable>,
}

impl Walk {
    fn new() -> Walk {
        Walk {
            seen: BTreeSet::new(),
            loop_backing: BTreeMap::new(),
            mounts: None,
        }
    }

    fn deeper(depth: usize) -> io::Result<usize> {
        if depth >= MAX_DEPTH {
            return Err(io::Error::other(
                "devices are stacked deeper than Imprint follows",
            ));
        }
        Ok(depth + 1)
    }

    /// Adds `block` (a partition: and its whole disk) and what it is stored
    /// on; returns `block`'s own unit.
    fn block(&mut self, block: &SysBlock, depth: usize) -> io::Result<StorageUnit> {
        let depth = Walk::deeper(depth)?;
        let disk = block.whole_disk()?;
        let disk_unit = StorageUnit::Disk(disk.name.clone());
        let unit = if block.is_partition() {
            StorageUnit::Partition {
                disk: disk.name.clone(),
                name: block.name.clone(),
            }
        } else {
            disk_unit.clone()
        };
        let disk_walked = !self.seen.insert(disk_unit);
        self.seen.insert(unit.clone());
        if disk_walked {
            return Ok(unit);
        }
        for slave in disk.slaves()? {
            self.block(&slave, depth)?;
        }
        let backing = match loop_backing_identity(&disk)? {
            Some(Backing::File { dev, ino }) => Some(self.file(dev, ino, depth)?),
            Some(Backing::Device(device)) => Some(self.block(&device, depth)?),
            None => None,
        };
        if let Some(backing) = backing {
            self.loop_backing.insert(disk.name.clone(), backing);
        }
        Ok(unit)
    }

    /// `top` and, for each loop device in it, what it is attached to, on
    /// down (a loop device over a loop device).
    fn bytes_of(&self, top: &BTreeSet<StorageUnit>) -> BTreeSet<StorageUnit> {
        let mut bytes = BTreeSet::new();
        for unit in top {
            let mut current = Some(unit.clone());
            while let Some(unit) = current.take() {
                if !bytes.insert(unit.clone()) {
                    break;
                }
                if let StorageUnit::Disk(name) = &unit {
                    current = self.loop_backing.get(name).cloned();
                }
            }
        }
        bytes
    }

    /// Adds the file `(dev, ino)` and the devices of its filesystem.
    fn file(&mut self, dev: u64, ino: u64, depth: usize) -> io::Result<StorageUnit> {
        let depth = Walk::deeper(depth)?;
        let unit = StorageUnit::File { dev, ino };
        if !self.seen.insert(unit.clone()) {
            return Ok(unit);
        }
        let (major, minor) = (libc::major(dev), libc::minor(dev));
        if let Some(block) = block_by_dev_number(major, minor)? {
            self.block(&block, depth)?;
            return Ok(unit);
        }
        // btrfs gives its files an anonymous device number: the mount with
        // that number names the real devices. tmpfs, NFS, FUSE have none.
        if self.mounts.is_none() {
            self.mounts = Some(MountTable::read()?);
        }
        let blocks: Vec<SysBlock> = self
            .mounts
            .iter()
            .flat_map(|table| &table.mounts)
            .filter(|m| m.line.dev_major == major && m.line.dev_minor == minor)
            .flat_map(|m| m.blocks.clone())
            .collect();
        for block in blocks {
            self.block(&block, depth)?;
        }
        Ok(unit)
    }
}

/// What a loop device is attached to.
enum Backing {
    /// A regular file, by (device, inode).
    File { dev: u64, ino: u64 },
    /// A block device (a loop device over `/dev/loop0`, over a partition).
    Device(SysBlock),
}

impl Backing {
    /// A backing file identified by the loop driver's record or by `stat`:
    /// a device node names the device it stands for (`rdev`).
    fn from_identity(dev: u64, ino: u64, rdev: u64) -> io::Result<Backing> {
        if rdev != 0
            && let Some(block) = block_by_dev_number(libc::major(rdev), libc::minor(rdev))?
        {
            return Ok(Backing::Device(block));
        }
        Ok(Backing::File { dev, ino })
    }
}

/// What a loop device reads and writes (by identity, never by name), or
/// `None` when `disk` is not a loop device or has nothing attached.
///
/// The kernel's own record (`LOOP_GET_STATUS64`) is asked first: the
/// `backing_file` attribute is only a name, which a rename or another mount
/// namespace makes point elsewhere. A sysfs-shaped test tree has no device
/// node, so there the name is all there is.
fn loop_backing_identity(disk: &SysBlock) -> io::Result<Option<Backing>> {
    let Some(name) = disk.loop_backing_file()? else {
        return Ok(None);
    };
    if disk.is_machine_sysfs() {
        let node = disk.dev_path();
        // Read-only: looking must never claim or change the device.
        match File::open(&node) {
            Ok(file) => match loop_status(&file) {
                Ok(info) => {
                    return Backing::from_identity(info.lo_device, info.lo_inode, info.lo_rdevice)
                        .map(Some);
                }
                // Detached between the attribute read and the ioctl.
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Ok(None),
                Err(e) => return Err(path_error("ask the loop driver about", &node, e)),
            },
            // No node under /dev (a container): fall back to the name.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(path_error("open", &node, e)),
        }
    }
    let metadata = std::fs::metadata(&name).map_err(at("inspect the loop backing file", &name))?;
    let rdev = if metadata.file_type().is_block_device() {
        metadata.rdev()
    } else {
        0
    };
    Backing::from_identity(metadata.dev(), metadata.ino(), rdev).map(Some)
}

/// The device number of the filesystem holding `path` as mountinfo shows
/// it (the superblock's), found through the mount ID `statx` reports; `None`
/// when the kernel is too old to report one.
fn filesystem_dev(path: &Path) -> io::Result<Option<u64>> {
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        path_error(
            "inspect",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"),
        )
    })?;
    // SAFETY: libc::statx is plain integers: all zeros is a valid value.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: a valid NUL-terminated path and a pointer to a statx buffer.
    let rc = unsafe {
        libc::statx(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            0,
            libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    if rc != 0 {
        return Err(path_error("inspect", path, io::Error::last_os_error()));
    }
    if stx.stx_mask & libc::STATX_MNT_ID == 0 {
        return Ok(None);
    }
    let mountinfo = Path::new(MOUNTINFO);
    let text = std::fs::read_to_string(mountinfo).map_err(at("read", mountinfo))?;
    Ok(parse_mountinfo(&text)
        .into_iter()
        .find(|line| line.mount_id == stx.stx_mnt_id)
        .map(|line| libc::makedev(line.dev_major, line.dev_minor)))
}

/// `struct loop_info64` from <linux/loop.h>.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

fn loop_status(file: &File) -> io::Result<LoopInfo64> {
    // SAFETY: LoopInfo64 is plain integers and byte arrays: all zeros is a
    // valid value.
    let mut info: LoopInfo64 = unsafe { std::mem::zeroed() };
    // SAFETY: LOOP_GET_STATUS64 writes one `struct loop_info64` through the
    // pointer, which points at one of the same layout.
    let rc = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            LOOP_GET_STATUS64 as _,
            &mut info as *mut LoopInfo64,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

#[cfg(test)]
#[path = "backing_tests.rs"]
mod tests;

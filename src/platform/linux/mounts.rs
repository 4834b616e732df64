//! Mounts and swaps: which block devices back the running system, which
//! partitions of a device are mounted, and unmounting them.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::io_context::path_error;
use super::mount_table::MountTable;
use super::sysfs::{SysBlock, block_of_path};

/// Mount points whose loss takes the running system down with it. `/boot`
/// and the EFI system partition count: overwriting them breaks the next boot.
const SYSTEM_MOUNT_POINTS: [&str; 7] = ["/", "/boot", "/usr", "/var", "/home", "/boot/efi", "/efi"];

/// A mounted filesystem whose source is a block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The block device mounted (a partition, the whole disk, or a device
    /// stacked on them such as `/dev/dm-0`).
    pub device: PathBuf,
    pub mount_point: PathBuf,
}

/// Why `device` (a whole disk or a partition) must never be written, or
/// `None` when it does not back the running system: one of its partitions,
/// directly or through dm/md/LVM holders, is mounted at `/`, `/boot`, `/usr`,
/// `/var` or `/home` (or the EFI system partition), or is active swap.
///
/// A partition is judged by its whole disk: writing an image to `/dev/sda2`
/// is refused when `/` lives on `/dev/sda1`. Mounts are those of the calling
/// process's mount namespace.
pub fn system_drive_reason(device: &Path) -> io::Result<Option<String>> {
    let disk = block_of_path(device)?.whole_disk()?;
    system_reason_in(&disk, &MountTable::read()?)
}

/// [`system_drive_reason`] for a whole disk against a mount table already
/// read (listing every drive reads the table once).
pub fn system_reason_in(disk: &SysBlock, table: &MountTable) -> io::Result<Option<String>> {
    let family = disk.family()?;
    let disk_path = disk.dev_path();
    for system_mount_point in SYSTEM_MOUNT_POINTS {
        let backing = table.mounts.iter().find(|mount| {
            mount.line.mount_point == Path::new(system_mount_point)
                && family.contains(&mount.block.name)
        });
        if let Some(mount) = backing {
            return Ok(Some(format!(
                "{} holds {} (mounted from {})",
                disk_path.display(),
                system_mount_point,
                mount.line.source.display()
            )));
        }
    }
    if let Some(swap) = table
        .swaps
        .iter()
        .find(|swap| family.contains(&swap.block.name))
    {
        return Ok(Some(format!(
            "{} holds active swap ({})",
            disk_path.display(),
            swap.line.path.display()
        )));
    }
    Ok(None)
}

/// Every mounted filesystem on `device`, on one of its partitions (when it
/// is a whole disk), or on a device stacked on them — in the order to
/// unmount them: a filesystem mounted inside another comes first.
pub fn mounts_of(device: &Path) -> io::Result<Vec<Mount>> {
    let block = block_of_path(device)?;
    Ok(mounts_in(&block, &MountTable::read()?)?)
}

/// [`mounts_of`] against a mount table already read.
pub fn mounts_in(block: &SysBlock, table: &MountTable) -> io::Result<Vec<Mount>> {
    let family = block.family()?;
    // mountinfo lists a mount after the one it is mounted on, so the
    // reverse order unmounts children before their parents.
    Ok(table
        .mounts
        .iter()
        .rev()
        .filter(|mount| family.contains(&mount.block.name))
        .map(|mount| Mount {
            device: mount.block.dev_path(),
            mount_point: mount.line.mount_point.clone(),
        })
        .collect())
}

/// Unmounts `mount_point` (not lazily: a busy filesystem is an error, so a
/// device is never written while something still has files open on it).
pub fn unmount(mount_point: &Path) -> io::Result<()> {
    let c_path = CString::new(mount_point.as_os_str().as_bytes()).map_err(|_| {
        path_error(
            "unmount",
            mount_point,
            io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"),
        )
    })?;
    // SAFETY: `c_path` is a valid NUL-terminated string for the call.
    let rc = unsafe { libc::umount2(c_path.as_ptr(), 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(path_error(
            "unmount",
            mount_point,
            io::Error::last_os_error(),
        ))
    }
}

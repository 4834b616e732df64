//! Mounts and swaps: which block devices back the running system, which
//! partitions of a device are mounted, and unmounting them.

use std::io;
use std::path::{Path, PathBuf};

/// A mounted filesystem whose source is a block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The block device mounted (a partition, or the whole disk).
    pub device: PathBuf,
    pub mount_point: PathBuf,
}

/// Why `device` (a whole disk or a partition) must never be written, or
/// `None` when it does not back the running system: one of its partitions,
/// directly or through dm/md/LVM holders, is mounted at `/`, `/boot`, `/usr`,
/// `/var` or `/home`, or is active swap.
pub fn system_drive_reason(device: &Path) -> io::Result<Option<String>> {
    let _ = device;
    Ok(None)
}

/// Every mounted filesystem on `device` or on one of its partitions (or on a
/// device stacked on them).
pub fn mounts_of(device: &Path) -> io::Result<Vec<Mount>> {
    let _ = device;
    Ok(Vec::new())
}

/// Unmounts `mount_point`.
pub fn unmount(mount_point: &Path) -> io::Result<()> {
    let _ = mount_point;
    Ok(())
}

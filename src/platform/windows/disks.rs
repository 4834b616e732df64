//! The platform's drive items on Windows, on the real seam: the drive
//! list, the mounts (volumes and their mount points) of a drive, the
//! system disk, what storage a path depends on, a snapshot for the drive
//! watcher, and ejecting.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use std::os::windows::fs::OpenOptionsExt;

use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_READ, FILE_SHARE_WRITE};
use windows_sys::Win32::System::Ioctl::{
    IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, IOCTL_DISK_UPDATE_PROPERTIES, IOCTL_STORAGE_EJECT_MEDIA,
};

use super::blockdev::{disk_of, let_go};
use super::drives::{disk_number, disk_path, drive_facts, mounts_on, system_reason};
use super::seam::{DiskAnswer, VolumeAnswer, Win32};
use super::take::take_disk;
use super::win32::{RealWindows, ioctl, open_to_query, volume_of_path};
use crate::platform::{
    DriveFacts, Ejected, MediaIdentity, Mount, NodeId, Storage, StorageUnit, node_id,
};

/// Every physical disk with a medium.
pub fn list_drives() -> io::Result<Vec<DriveFacts>> {
    drive_facts(&RealWindows)
}

/// Windows shows neither an SD card's CID nor a backing file.
pub fn media_identity(_device: &Path) -> io::Result<MediaIdentity> {
    Ok(MediaIdentity::default())
}

/// Whether the drive is there without a medium: it opens, but has no
/// geometry (ERROR_NOT_READY, ERROR_NO_MEDIA_IN_DRIVE).
pub fn is_empty_slot(device: &Path) -> bool {
    open_to_query(device).is_ok_and(|file| {
        ioctl(&file, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, &[])
            .is_err_and(|e| matches!(e.raw_os_error(), Some(21 | 1112)))
    })
}

/// The disks and volumes: equal snapshots, an equal drive list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSnapshot {
    disks: Vec<DiskAnswer>,
    volumes: Vec<VolumeAnswer>,
}

pub fn block_snapshot() -> io::Result<BlockSnapshot> {
    Ok(BlockSnapshot {
        disks: RealWindows.disks()?,
        volumes: RealWindows.volumes()?,
    })
}

/// The volumes of `device` (a drive, or one volume) and where each is
/// mounted.
pub fn mounts_of(device: &Path) -> io::Result<Vec<Mount>> {
    let volumes = RealWindows.volumes()?;
    if let Some(disk) = disk_number(device) {
        return Ok(mounts_on(&volumes, disk));
    }
    let name = volume_name(device)?;
    Ok(volumes
        .iter()
        .filter(|v| v.name == name)
        .flat_map(|v| {
            v.mount_points.iter().map(|p| Mount {
                device: PathBuf::from(&v.name),
                mount_point: p.clone(),
            })
        })
        .collect())
}

/// Every mount of `device` counts as writable: a read-only volume is still
/// locked and dismounted before the drive is written.
pub fn writable_mounts_of(device: &Path) -> io::Result<Vec<PathBuf>> {
    Ok(mounts_of(device)?
        .into_iter()
        .map(|m| m.mount_point)
        .collect())
}

/// Dismounts the volume mounted at `mount_point` (locked first, so a
/// volume in use is refused rather than pulled from under its programs).
pub fn unmount(mount_point: &Path) -> io::Result<()> {
    let name = volume_of_path(mount_point)?;
    let os = RealWindows;
    let volume = os.open_volume(&name)?;
    os.lock_volume(&volume).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot dismount {}: it is in use ({e})",
                mount_point.display()
            ),
        )
    })?;
    os.dismount_volume(&volume)
}

pub fn system_drive_reason(device: &Path) -> io::Result<Option<String>> {
    let disk = disk_number(Path::new(&whole_disk(device)?)).unwrap_or(u32::MAX);
    let system = RealWindows.system_volume().ok();
    Ok(system_reason(
        disk,
        &RealWindows.volumes()?,
        system.as_deref(),
    ))
}

/// The volume GUID path of a volume path (`\\?\Volume{…}\`) or a mount
/// point (`E:\`, `\\.\E:`).
fn volume_name(device: &Path) -> io::Result<String> {
    let text = device.to_string_lossy();
    if text.starts_with(r"\\?\Volume{") {
        return Ok(format!("{}\\", text.trim_end_matches('\\')));
    }
    let mount = text.strip_prefix(r"\\.\").unwrap_or(&text);
    volume_of_path(Path::new(&format!("{}\\", mount.trim_end_matches('\\'))))
}

/// The drive a drive path, volume or mount point is on (a volume spanning
/// several: its first).
pub fn whole_disk(device: &Path) -> io::Result<PathBuf> {
    if disk_number(device).is_some() {
        return Ok(device.to_path_buf());
    }
    let name = volume_name(device)?;
    let volumes = RealWindows.volumes()?;
    volumes
        .iter()
        .find(|v| v.name == name)
        .and_then(|v| v.extents.first())
        .map(|e| disk_path(e.disk))
        .ok_or_else(|| io::Error::other(format!("{} lies on no physical drive", device.display())))
}

/// Windows stacks nothing that unmounting leaves behind: a volume spanning
/// disks is itself one of the volumes locked and dismounted.
pub fn stacked_on(_device: &Path) -> io::Result<Vec<String>> {
    Ok(Vec::new())
}

fn disk_unit(disk: u32) -> StorageUnit {
    StorageUnit::Disk(format!("PhysicalDrive{disk}"))
}

/// A drive, or a file with the volume and drives that hold it.
pub fn storage_of(path: &Path) -> io::Result<Storage> {
    if let Some(disk) = disk_number(path) {
        let units = BTreeSet::from([disk_unit(disk)]);
        return Ok(Storage {
            top: units.clone(),
            under: units.clone(),
            bytes: units,
        });
    }
    let metadata = std::fs::metadata(path)?;
    let top = BTreeSet::from([match node_id(&metadata) {
        NodeId::File { dev, ino } => StorageUnit::File { dev, ino },
        NodeId::Device(disk) => StorageUnit::Disk(format!("PhysicalDrive{disk}")),
    }]);
    let mut under = top.clone();
    // A file on a volume without a volume name (a network share, Wine's
    // Z:) is on no physical drive, so on none Imprint could write.
    let Ok(name) = volume_of_path(path) else {
        return Ok(Storage {
            bytes: top.clone(),
            top,
            under,
        });
    };
    for volume in RealWindows.volumes()?.iter().filter(|v| v.name == name) {
        for extent in &volume.extents {
            under.insert(disk_unit(extent.disk));
            under.insert(StorageUnit::Partition {
                disk: format!("PhysicalDrive{}", extent.disk),
                name: volume.name.clone(),
            });
        }
    }
    Ok(Storage {
        bytes: top.clone(),
        top,
        under,
    })
}

/// Leaves a flashed drive safe to remove: the volumes let go, Windows told
/// to read the new partition table, then a removable medium ejected.
pub fn eject(device: &Path) -> io::Result<Ejected> {
    let disk = disk_of(device)?;
    let_go(disk);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .open(device)?;
    // FlushFileBuffers: the drive's own write cache too.
    file.sync_all()?;
    // Best effort: without it Windows shows the new volumes at the next
    // plug-in rather than now.
    let _ = ioctl(&file, IOCTL_DISK_UPDATE_PROPERTIES, &[]);
    let removable = RealWindows
        .disks()?
        .iter()
        .any(|d| d.number == disk && d.removable);
    if removable {
        // Ejecting needs the volumes dismounted again (Windows may have
        // mounted the new ones already).
        let taken = take_disk(&RealWindows, disk)?;
        let ejected = ioctl(&file, IOCTL_STORAGE_EJECT_MEDIA, &[]).is_ok();
        drop(taken);
        if ejected {
            return Ok(Ejected::PoweredOff);
        }
    }
    Ok(Ejected::Flushed)
}

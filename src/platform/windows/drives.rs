//! Windows drives as the rest of Imprint sees them: [`DriveFacts`] built
//! from the seam's answers (physical disks, the volumes on each and their
//! mount points, the disk of the running Windows). Plain logic, tested
//! with recorded answers (`drives_tests.rs`).

use std::io;
use std::path::{Path, PathBuf};

use super::seam::{DiskAnswer, VolumeAnswer, Win32, bus};
use crate::platform::{Bus, DriveFacts, Mount, PartitionFacts};

/// The device path of physical disk `number`.
pub(crate) fn disk_path(number: u32) -> PathBuf {
    PathBuf::from(format!(r"\\.\PhysicalDrive{number}"))
}

/// N of a `\\.\PhysicalDriveN` path (any case, `/` or `\`), or `None`.
pub(crate) fn disk_number(path: &Path) -> Option<u32> {
    let text = path.to_str()?.replace('/', "\\");
    let rest = text
        .strip_prefix(r"\\.\")
        .or_else(|| text.strip_prefix(r"\\?\"))?;
    let (prefix, number) = rest.split_at_checked(13)?;
    if !prefix.eq_ignore_ascii_case("PhysicalDrive") {
        return None;
    }
    number.parse().ok()
}

/// A `STORAGE_BUS_TYPE` as the crate's [`Bus`].
pub(crate) fn bus_of(bus_type: i32) -> Bus {
    match bus_type {
        bus::USB => Bus::Usb,
        bus::SD | bus::MMC => Bus::Mmc,
        bus::SATA | bus::ATA | bus::ATAPI => Bus::Sata,
        bus::NVME => Bus::Nvme,
        bus::VIRTUAL | bus::FILE_BACKED_VIRTUAL => Bus::Virtual,
        bus::SCSI | bus::RAID => Bus::Other,
        _ => Bus::Other,
    }
}

/// Every physical disk with the volumes on it, in disk order.
pub(crate) fn drive_facts(os: &impl Win32) -> io::Result<Vec<DriveFacts>> {
    let volumes = os.volumes()?;
    // No system volume found (Wine has no real one) means no disk holds it,
    // not that listing fails.
    let system = os.system_volume().ok();
    let mut disks = os.disks()?;
    disks.sort_by_key(|d| d.number);
    Ok(disks
        .iter()
        .map(|disk| facts_of(disk, &volumes, system.as_deref()))
        .collect())
}

fn facts_of(disk: &DiskAnswer, volumes: &[VolumeAnswer], system: Option<&str>) -> DriveFacts {
    let on_disk = volumes_on(volumes, disk.number);
    let partitions = on_disk
        .iter()
        .map(|v| PartitionFacts {
            path: PathBuf::from(&v.name),
            size_bytes: v
                .extents
                .iter()
                .filter(|e| e.disk == disk.number)
                .map(|e| e.length)
                .sum(),
            mount_points: v.mount_points.clone(),
        })
        .collect();
    DriveFacts {
        path: disk_path(disk.number),
        size_bytes: disk.size_bytes,
        vendor: disk.vendor.clone(),
        model: disk.model.clone(),
        serial: disk.serial.clone(),
        bus: bus_of(disk.bus_type),
        removable: disk.removable,
        read_only: disk.read_only,
        partitions,
        // Windows mounts volumes, never a disk itself.
        mount_points: Vec::new(),
        system: system_reason(disk.number, volumes, system),
    }
}

/// The volumes with bytes on `disk`, in the order they lie on it.
pub(crate) fn volumes_on(volumes: &[VolumeAnswer], disk: u32) -> Vec<&VolumeAnswer> {
    let mut on: Vec<&VolumeAnswer> = volumes.iter().filter(|v| v.is_on(disk)).collect();
    on.sort_by(|a, b| (a.offset_on(disk), &a.name).cmp(&(b.offset_on(disk), &b.name)));
    on
}

/// Why disk `disk` must never be written: it holds the running Windows
/// (or part of it, when the system volume spans disks).
pub(crate) fn system_reason(
    disk: u32,
    volumes: &[VolumeAnswer],
    system: Option<&str>,
) -> Option<String> {
    let system = volumes.iter().find(|v| Some(v.name.as_str()) == system)?;
    system.is_on(disk).then(|| {
        format!(
            "it holds {}, the volume of the running Windows",
            system.label()
        )
    })
}

/// The mounted volumes of `disk`: each mount point of each volume on it.
pub(crate) fn mounts_on(volumes: &[VolumeAnswer], disk: u32) -> Vec<Mount> {
    volumes_on(volumes, disk)
        .into_iter()
        .flat_map(|v| {
            v.mount_points.iter().map(|point| Mount {
                device: PathBuf::from(&v.name),
                mount_point: point.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "drives_tests.rs"]
mod tests;

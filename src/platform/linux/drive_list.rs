//! The drives of the machine from sysfs: every whole-disk block device a
//! person could mean, with identity, bus, partitions, mounts and the system
//! check, as [`DriveFacts`] (from which `drives` builds its `Drive`).

use std::io;
use std::path::{Path, PathBuf};

use super::mount_table::MountTable;
use super::mounts::system_reason_in;
use super::sysfs::{SysBlock, whole_disk_blocks};
use crate::platform::{Bus, DriveFacts, PartitionFacts};

/// Every whole-disk block device worth showing, by kernel name.
///
/// Left out, because nobody flashes them: RAM disks (`ram*`, `zram*`),
/// optical drives (`sr*`), the boot areas of eMMC chips (`mmcblk0boot0`,
/// firmware's, not the user's), loop devices with nothing attached, devices with
/// no medium (size 0: an empty card reader), hidden devices (per-path nodes
/// of multipath NVMe), and stacked devices (`dm-*`, `md*`): these live on
/// drives that are listed themselves, and a stack on a drive makes that
/// drive's partitions "in use" and, when it backs the system, the drive a
/// system drive.
pub fn list_drives() -> io::Result<Vec<DriveFacts>> {
    let table = MountTable::read()?;
    let mut drives = Vec::new();
    for block in whole_disk_blocks()? {
        match drive_of(&block, &table) {
            Ok(Some(drive)) => drives.push(drive),
            Ok(None) => {}
            // Unplugged between listing /sys/class/block and reading it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(drives)
}

/// Whether a whole disk named `name` is a kind of device nobody flashes
/// (before looking at its attributes).
fn is_never_a_drive(name: &str) -> bool {
    let is_emmc_boot_area = name.starts_with("mmcblk") && name.contains("boot");
    is_emmc_boot_area
        || ["ram", "zram", "sr", "dm-", "md"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

fn drive_of(block: &SysBlock, table: &MountTable) -> io::Result<Option<DriveFacts>> {
    if is_never_a_drive(&block.name) || block.is_hidden()? {
        return Ok(None);
    }
    let is_loop = block.name.starts_with("loop");
    if is_loop && block.loop_backing_file()?.is_none() {
        return Ok(None);
    }
    let size_bytes = block.size_bytes()?;
    if size_bytes == 0 {
        return Ok(None);
    }
    let device_dir = block.device_dir()?;
    let mut partitions = Vec::new();
    let mut partition_mounts = Vec::new();
    for partition in block.partitions()? {
        let mount_points = mount_points_on(&partition, table)?;
        partition_mounts.extend(mount_points.iter().cloned());
        partitions.push(PartitionFacts {
            path: partition.dev_path(),
            size_bytes: partition.size_bytes()?,
            mount_points,
        });
    }
    let mount_points = mount_points_on(block, table)?
        .into_iter()
        .filter(|point| !partition_mounts.contains(point))
        .collect();
    Ok(Some(DriveFacts {
        path: block.dev_path(),
        size_bytes,
        vendor: vendor_of(block)?,
        model: model_of(block)?,
        serial: serial_of(block, &device_dir)?,
        bus: bus_of(&block.name, &device_dir),
        removable: block.removable()?,
        read_only: block.read_only()?,
        partitions,
        mount_points,
        system: system_reason_in(block, table)?,
    }))
}

/// Where the filesystems on `block`, or on devices stacked on it, are mounted.
fn mount_points_on(block: &SysBlock, table: &MountTable) -> io::Result<Vec<PathBuf>> {
    let family = block.family()?;
    Ok(table
        .mounts
        .iter()
        .filter(|mount| mount.blocks.iter().any(|b| family.contains(&b.name)))
        .map(|mount| mount.line.mount_point.clone())
        .collect())
}

/// How a drive is attached, from its kernel name and its directory under
/// `/sys/devices` (which lists every bus between the CPU and the device).
pub(super) fn bus_of(name: &str, device_dir: &Path) -> Bus {
    let path = device_dir.to_string_lossy();
    // A USB card reader shows its cards as sdX below a USB port: USB wins,
    // since that is what the user plugged in.
    if path.contains("/usb") {
        Bus::Usb
    } else if name.starts_with("mmcblk") || path.contains("/mmc_host/") {
        Bus::Mmc
    } else if name.starts_with("nvme") || path.contains("/nvme/") {
        Bus::Nvme
    } else if path.contains("/virtual/")
        || path.contains("/virtio")
        || ["loop", "vd", "xvd", "nbd", "zram", "ram", "dm-"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
    {
        Bus::Virtual
    } else if path.contains("/ata") || path.contains("/host") || name.starts_with("sd") {
        Bus::Sata
    } else {
        Bus::Other
    }
}

/// A sysfs identity string, or `None` when it is empty or a numeric ID
/// (virtio reports its PCI vendor, `0x1af4`, which names nothing to a person).
fn identity_attribute(block: &SysBlock, relative: &str) -> io::Result<Option<String>> {
    Ok(block
        .attribute(relative)?
        .filter(|value| !value.starts_with("0x")))
}

fn vendor_of(block: &SysBlock) -> io::Result<Option<String>> {
    identity_attribute(block, "device/vendor")
}

fn model_of(block: &SysBlock) -> io::Result<Option<String>> {
    // SCSI/USB storage and NVMe have `model`; SD and eMMC cards a `name`.
    match identity_attribute(block, "device/model")? {
        Some(model) => Ok(Some(model)),
        None => identity_attribute(block, "device/name"),
    }
}

fn serial_of(block: &SysBlock, device_dir: &Path) -> io::Result<Option<String>> {
    for relative in ["serial", "device/serial"] {
        if let Some(serial) = block.attribute(relative)? {
            return Ok(Some(serial));
        }
    }
    // USB mass storage: the serial belongs to the USB device, an ancestor
    // directory with `idVendor` beside `serial`.
    for ancestor in device_dir.ancestors() {
        if ancestor.join("idVendor").exists() {
            let path = ancestor.join("serial");
            return match std::fs::read_to_string(&path) {
                Ok(serial) => Ok(Some(serial.trim().to_string()).filter(|s| !s.is_empty())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(super::io_context::path_error("read", &path, e)),
            };
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_follows_the_device_path() {
        let cases = [
            (
                "sdb",
                "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb",
                Bus::Usb,
            ),
            (
                "mmcblk0",
                "/sys/devices/platform/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0",
                Bus::Mmc,
            ),
            (
                "nvme0n1",
                "/sys/devices/pci0000:00/0000:00:01.1/0000:01:00.0/nvme/nvme0/nvme0n1",
                Bus::Nvme,
            ),
            (
                "sda",
                "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda",
                Bus::Sata,
            ),
            (
                "vda",
                "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda",
                Bus::Virtual,
            ),
            ("loop3", "/sys/devices/virtual/block/loop3", Bus::Virtual),
            (
                "mtdblock0",
                "/sys/devices/platform/spi/mtd/mtd0/block/mtdblock0",
                Bus::Other,
            ),
        ];
        for (name, path, bus) in cases {
            assert_eq!(bus_of(name, Path::new(path)), bus, "{name}");
        }
    }

    #[test]
    fn ram_optical_and_stacked_devices_are_never_drives() {
        for name in ["ram0", "zram0", "sr0", "dm-0", "md127", "mmcblk0boot1"] {
            assert!(is_never_a_drive(name), "{name}");
        }
        for name in ["sda", "mmcblk0", "nvme0n1", "loop0", "vda"] {
            assert!(!is_never_a_drive(name), "{name}");
        }
    }
}

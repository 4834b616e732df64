//! Drives: the whole-disk block devices a user may flash, classified
//! (system, removable, read-only, size, bus), and a watcher for hot-plug.
//!
//! The facts come from sysfs and `/proc` directly (`crate::platform`), not
//! from a drive-listing crate: `bb-drivelist` runs `lsblk` on Linux and
//! calls a drive "system" when it is neither removable nor virtual, a guess
//! where docs/architecture.md §3 needs the real answer (which drive backs `/`, `/boot`,
//! swap, through dm/md/LVM), and `sysinfo`'s disks are mounted filesystems,
//! not drives. The `system` flag here is the very check the engine enforces.

mod watcher;

use std::io;
use std::path::PathBuf;

pub use watcher::{DEFAULT_POLL_INTERVAL, DriveWatcher};

/// How a drive is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bus {
    Usb,
    /// SD/MMC card readers and eMMC.
    Mmc,
    Sata,
    Nvme,
    /// Loop, virtio, device-mapper and other devices without hardware.
    Virtual,
    Other,
}

impl Bus {
    /// How people name the bus: "USB", "SD/MMC", "NVMe".
    pub fn label(self) -> &'static str {
        match self {
            Bus::Usb => "USB",
            Bus::Mmc => "SD/MMC",
            Bus::Sata => "SATA",
            Bus::Nvme => "NVMe",
            Bus::Virtual => "virtual",
            Bus::Other => "other",
        }
    }
}

/// A partition of a drive and where it is mounted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Partition {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub mount_points: Vec<PathBuf>,
}

/// A whole-disk block device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Drive {
    /// `/dev/sdb`, `/dev/mmcblk0`, `/dev/loop3`.
    pub path: PathBuf,
    pub size_bytes: u64,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub bus: Bus,
    pub removable: bool,
    pub read_only: bool,
    pub partitions: Vec<Partition>,
    /// Where a filesystem on the whole disk itself is mounted (a disk
    /// formatted without a partition table), or one stacked on it directly.
    pub mount_points: Vec<PathBuf>,
    /// Why this drive backs the running system (and may never be written),
    /// or `None`. The same check the engine enforces.
    pub system: Option<String>,
}

impl Drive {
    /// A name for people: "SanDisk Ultra", else the device name.
    pub fn display_name(&self) -> String {
        let name = [self.vendor.as_deref(), self.model.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            self.path.display().to_string()
        } else {
            name
        }
    }

    /// Whether a user would flash this drive without asking for "all drives":
    /// removable, USB or SD/MMC, and not the system drive.
    pub fn is_flashable_by_default(&self) -> bool {
        self.system.is_none() && (self.removable || matches!(self.bus, Bus::Usb | Bus::Mmc))
    }
}

/// Every whole-disk block device of the machine, sorted by path (all of
/// them, system and virtual drives included; filter with
/// [`Drive::is_flashable_by_default`]). What is left out and why:
/// [`crate::platform::list_drives`].
pub fn list() -> io::Result<Vec<Drive>> {
    crate::platform::list_drives()
}

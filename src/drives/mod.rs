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
use std::path::{Path, PathBuf};

use crate::platform::{DriveFacts, PartitionFacts};

pub use watcher::{DEFAULT_POLL_INTERVAL, DriveWatcher};

/// How a drive is attached (a fact the platform reports).
pub use crate::platform::Bus;

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
    let mut drives: Vec<Drive> = crate::platform::list_drives()?
        .into_iter()
        .map(Drive::from)
        .collect();
    drives.sort_by_key(|drive| natural_key(&drive.path));
    Ok(drives)
}

impl From<DriveFacts> for Drive {
    fn from(facts: DriveFacts) -> Drive {
        Drive {
            path: facts.path,
            size_bytes: facts.size_bytes,
            vendor: facts.vendor,
            model: facts.model,
            serial: facts.serial,
            bus: facts.bus,
            removable: facts.removable,
            read_only: facts.read_only,
            partitions: facts.partitions.into_iter().map(Partition::from).collect(),
            mount_points: facts.mount_points,
            system: facts.system,
        }
    }
}

impl From<PartitionFacts> for Partition {
    fn from(facts: PartitionFacts) -> Partition {
        Partition {
            path: facts.path,
            size_bytes: facts.size_bytes,
            mount_points: facts.mount_points,
        }
    }
}

/// The file a loop device is attached to (how people tell loop devices
/// apart), or `None` for any other drive or when it cannot be read.
pub fn backing_file(device: &Path) -> Option<PathBuf> {
    crate::platform::media_identity(device).ok()?.backing_file
}

/// Sorts `/dev/loop2` before `/dev/loop10`, as people count.
pub fn natural_key(path: &Path) -> (String, u64) {
    let text = path.to_string_lossy();
    let prefix = text.trim_end_matches(|c: char| c.is_ascii_digit());
    let number = text[prefix.len()..].parse().unwrap_or(0);
    (prefix.to_string(), number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drives_sort_as_people_count() {
        let mut paths = [
            "/dev/loop10",
            "/dev/sdb",
            "/dev/loop2",
            "/dev/sda",
            "/dev/loop1",
        ];
        paths.sort_by_key(|p| natural_key(Path::new(p)));
        assert_eq!(
            paths,
            [
                "/dev/loop1",
                "/dev/loop2",
                "/dev/loop10",
                "/dev/sda",
                "/dev/sdb"
            ]
        );
    }
}

//! The Win32 seam: the few questions the Windows drive code asks the OS
//! (which physical disks, which volumes and where they lie, lock, dismount),
//! as a trait. The logic built on it (`drives.rs`, `take.rs`) is plain Rust,
//! unit-tested on every OS with recorded answers (`fake.rs`); the real
//! answers come from `win32.rs`, on Windows only. Tests never open a
//! physical drive.

use std::io;
use std::path::PathBuf;

/// A physical disk as `IOCTL_STORAGE_QUERY_PROPERTY` (device descriptor)
/// and `IOCTL_DISK_GET_DRIVE_GEOMETRY_EX` describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskAnswer {
    /// N of `\\.\PhysicalDriveN`.
    pub(crate) number: u32,
    pub(crate) size_bytes: u64,
    /// `DISK_GEOMETRY.BytesPerSector`: the alignment unbuffered I/O needs.
    pub(crate) sector_size: u32,
    /// `STORAGE_DEVICE_DESCRIPTOR.BusType` (a `STORAGE_BUS_TYPE`).
    pub(crate) bus_type: i32,
    pub(crate) removable: bool,
    /// `IOCTL_DISK_IS_WRITABLE` said no (a write-protect switch).
    pub(crate) read_only: bool,
    pub(crate) vendor: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) serial: Option<String>,
}

/// Where a volume's bytes lie (`IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    pub(crate) disk: u32,
    pub(crate) offset: u64,
    pub(crate) length: u64,
}

/// A volume (`FindFirstVolumeW`): its GUID path, its extents, and where it
/// is mounted (`GetVolumePathNamesForVolumeNameW`: drive letters and
/// folders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VolumeAnswer {
    /// `\\?\Volume{…}\`.
    pub(crate) name: String,
    pub(crate) extents: Vec<Extent>,
    pub(crate) mount_points: Vec<PathBuf>,
}

impl VolumeAnswer {
    /// Whether any of the volume's bytes are on physical disk `disk`.
    pub(crate) fn is_on(&self, disk: u32) -> bool {
        self.extents.iter().any(|e| e.disk == disk)
    }

    /// Where the volume starts on `disk` (to lock volumes in disk order).
    pub(crate) fn offset_on(&self, disk: u32) -> u64 {
        self.extents
            .iter()
            .filter(|e| e.disk == disk)
            .map(|e| e.offset)
            .min()
            .unwrap_or(u64::MAX)
    }

    /// The name a person knows the volume by: its first mount point, else
    /// its GUID path.
    pub(crate) fn label(&self) -> String {
        self.mount_points
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| self.name.clone())
    }
}

/// The questions the Windows drive code asks the OS.
pub(crate) trait Win32 {
    /// An open volume; dropping it closes the handle, which releases its
    /// lock (and lets Windows mount it again).
    type Volume;

    /// Every physical disk present.
    fn disks(&self) -> io::Result<Vec<DiskAnswer>>;
    /// Every volume of the machine.
    fn volumes(&self) -> io::Result<Vec<VolumeAnswer>>;
    /// The volume (GUID path) holding the running Windows
    /// (`GetSystemWindowsDirectoryW`, then `GetVolumePathNameW`), whose disk
    /// is never written.
    fn system_volume(&self) -> io::Result<String>;
    /// Opens a volume for reading and writing, shared (a lock needs a
    /// handle with write access).
    fn open_volume(&self, name: &str) -> io::Result<Self::Volume>;
    /// `FSCTL_LOCK_VOLUME`: fails while any other handle has files open on
    /// the volume.
    fn lock_volume(&self, volume: &Self::Volume) -> io::Result<()>;
    /// `FSCTL_DISMOUNT_VOLUME` on a locked volume: the filesystem lets go
    /// and writes nothing more to the disk.
    fn dismount_volume(&self, volume: &Self::Volume) -> io::Result<()>;
    /// Waits before trying a lock again (an antivirus scan or Explorer's
    /// thumbnailer often holds a fresh card for a moment).
    fn pause(&self);
}

/// `STORAGE_BUS_TYPE` values (winioctl.h) that `drives.rs` tells apart.
pub(crate) mod bus {
    pub(crate) const SCSI: i32 = 1;
    pub(crate) const ATAPI: i32 = 2;
    pub(crate) const ATA: i32 = 3;
    pub(crate) const USB: i32 = 7;
    pub(crate) const RAID: i32 = 8;
    pub(crate) const SATA: i32 = 11;
    pub(crate) const SD: i32 = 12;
    pub(crate) const MMC: i32 = 13;
    pub(crate) const VIRTUAL: i32 = 14;
    pub(crate) const FILE_BACKED_VIRTUAL: i32 = 15;
    pub(crate) const NVME: i32 = 17;
}

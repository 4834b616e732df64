//! The facts the platform functions return: plain data, not the crate's
//! domain types (`drives` builds its `Drive` from [`DriveFacts`], `target`
//! its refusals from [`Mount`]s and [`Storage`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

/// How [`lock_file`](super::lock_file) locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileLock {
    /// Held by a run writing the file, for the whole run.
    Exclusive,
    /// Taken for a moment to look whether a writer holds the file: two
    /// lookers never get in each other's way.
    Shared,
}

/// How [`open_as_user`](super::open_as_user) opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserOpen {
    /// Read only.
    Read,
    /// Appending, created when missing (a report).
    CreateAppend,
    /// Writing from empty: created when missing, else cut to nothing (the
    /// output of `imprint configure`).
    Create,
}

/// What an I/O error means for a flash ([`io_failure`](super::io_failure)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoFailure {
    /// No room left (a full filesystem; on a drive, a fake capacity).
    NoSpace,
    QuotaExceeded,
    /// Larger than the filesystem allows for one file.
    FileTooLarge,
    ReadOnly,
    /// Not permitted to this user (file permissions).
    Denied,
    /// Not permitted at all (a write-protected medium, an immutable file).
    NotPermitted,
    /// Another program holds it exclusively.
    Busy,
    /// The device is gone (removed, disconnected).
    Gone,
    /// The storage reported an error.
    DeviceError,
    Other,
}

/// What a path is, from its metadata ([`node_kind`](super::node_kind)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    File,
    Dir,
    BlockDevice,
    /// A FIFO: a stream with no size.
    Pipe,
    /// A character device (a terminal, `/dev/zero`).
    CharDevice,
    Socket,
    /// A symlink (only from metadata that does not follow links).
    Other,
}

/// What a path is whatever it is called ([`node_id`](super::node_id)): `/dev/disk/by-id/…`
/// and `/dev/sdb` are one device, `out.img` and `./out.img` one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeId {
    /// A device node, by the device it stands for.
    Device(u64),
    /// Anything else, by (filesystem, file).
    File { dev: u64, ino: u64 },
}

/// A mounted filesystem whose source is a block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The block device mounted (a partition, the whole disk, or a device
    /// stacked on them such as `/dev/dm-0`).
    pub device: PathBuf,
    pub mount_point: PathBuf,
}

/// A piece of storage that can hold another: a whole disk or a partition
/// by kernel name, or a regular file by (device, inode) — names can lie
/// (renames, other mount namespaces), the inode cannot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum StorageUnit {
    Disk(String),
    /// A partition of the whole disk `disk`: what is on it is also on its
    /// disk, but not on the disk's other partitions.
    Partition {
        disk: String,
        name: String,
    },
    File {
        dev: u64,
        ino: u64,
    },
}

impl StorageUnit {
    /// The whole disk of a partition; any other unit itself.
    fn drive(&self) -> StorageUnit {
        match self {
            StorageUnit::Partition { disk, .. } => StorageUnit::Disk(disk.clone()),
            other => other.clone(),
        }
    }
}

/// A path and every piece of storage its bytes depend on ([`storage_of`](super::storage_of)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Storage {
    /// What the path itself is: its whole disk or partition, or the file —
    /// twice when `stat` and the filesystem disagree on the file's device
    /// number (btrfs numbers each subvolume); empty for a pipe or
    /// character device (nothing stores it).
    pub top: BTreeSet<StorageUnit>,
    /// `top` and everything under it (a partition's disk too).
    pub under: BTreeSet<StorageUnit>,
    /// Every name of the very bytes the path reads and writes: `top`, and
    /// for a loop device the file it is attached to (and so on down, when
    /// that file is a device itself). Two loop devices over one file share
    /// it: they are one storage under two names.
    pub bytes: BTreeSet<StorageUnit>,
}

impl Storage {
    /// Whether this path is `other`'s path itself (under any of its names),
    /// or one is a whole drive and the other one of its partitions.
    pub fn is(&self, other: &Storage) -> bool {
        let drives = |units: &BTreeSet<StorageUnit>| -> BTreeSet<StorageUnit> {
            units
                .iter()
                .filter(|u| matches!(u, StorageUnit::Disk(_)))
                .cloned()
                .collect()
        };
        let drives_of = |units: &BTreeSet<StorageUnit>| -> BTreeSet<StorageUnit> {
            units.iter().map(StorageUnit::drive).collect()
        };
        !self.top.is_disjoint(&other.top)
            || !drives(&self.top).is_disjoint(&drives_of(&other.top))
            || !drives_of(&self.top).is_disjoint(&drives(&other.top))
    }

    /// Whether this path and `other` read and write the same bytes under
    /// different names (two loop devices over one file, a loop device and
    /// its file): writing one changes the other.
    pub fn shares_bytes_with(&self, other: &Storage) -> bool {
        !self.bytes.is_disjoint(&other.bytes)
    }

    /// Whether `other` path is this one or stores (part of) it.
    pub fn is_stored_on(&self, other: &Storage) -> bool {
        !self.under.is_disjoint(&other.top)
    }
}

/// How [`eject`](super::eject) left a drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ejected {
    /// Powered off: the drive has gone away and may be pulled out.
    PoweredOff,
    /// Every byte is on the drive; it may be pulled out.
    Flushed,
}

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

/// A whole disk as the OS reports it ([`list_drives`](super::list_drives)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveFacts {
    /// The device node: `/dev/sdb`, `/dev/mmcblk0`, `/dev/loop3`.
    pub path: PathBuf,
    pub size_bytes: u64,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub bus: Bus,
    pub removable: bool,
    pub read_only: bool,
    pub partitions: Vec<PartitionFacts>,
    /// Where a filesystem on the whole disk itself is mounted (a disk
    /// formatted without a partition table), or one stacked on it directly;
    /// not those of its partitions.
    pub mount_points: Vec<PathBuf>,
    /// Why the drive backs the running system ([`system_drive_reason`](super::system_drive_reason)).
    pub system: Option<String>,
}

/// What identifies the medium in a drive, beyond its serial
/// ([`media_identity`](super::media_identity)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaIdentity {
    /// An SD/MMC card's CID register (unique per card), when the kernel
    /// shows it.
    pub cid: Option<String>,
    /// The file a loop device is attached to.
    pub backing_file: Option<PathBuf>,
}

/// A partition of a drive and where filesystems on it (or stacked on it)
/// are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFacts {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub mount_points: Vec<PathBuf>,
}

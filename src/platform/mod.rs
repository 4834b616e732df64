//! The only place with OS-specific code: every system call, ioctl, signal,
//! privilege check and `/proc` or `/sys` read of the crate is behind the
//! functions re-exported here. The rest of the crate calls plain functions
//! and gets plain facts back (the types defined in this file), so that
//! porting Imprint to another OS means writing one module that provides
//! exactly the items listed below; nothing else changes. How: README.md.
//!
//! The types are facts, not the crate's domain types: `drives` builds its
//! `Drive` from [`DriveFacts`], `target` its refusals from [`Mount`]s and
//! [`Storage`].

use std::collections::BTreeSet;
use std::path::PathBuf;

#[cfg(target_os = "linux")]
mod linux;

#[cfg(test)]
mod sealed;

#[cfg(not(target_os = "linux"))]
compile_error!(
    "Imprint has no platform implementation for this OS yet: add src/platform/<os>.rs providing the functions listed in src/platform/mod.rs"
);

// ---------------------------------------------------------------------------
// Block devices: opening, size, sector size, state.

/// `open_block_device_exclusive(&Path) -> io::Result<File>`: opens a block
/// device for writing, bypassing the page cache and exclusively (no other
/// program may open or mount it meanwhile; fails with [`IoFailure::Busy`]
/// when one holds it).
#[cfg(target_os = "linux")]
pub use linux::open_block_device_exclusive;

/// `open_block_device_exclusive_read(&Path) -> io::Result<File>`: opens a
/// block device to read it as an image, exclusively (fails with
/// [`IoFailure::Busy`] while another program holds it: no run may write
/// a drive while it is cloned).
#[cfg(target_os = "linux")]
pub use linux::open_block_device_exclusive_read;

/// `open_block_device_direct_read(&Path) -> io::Result<File>`: opens a
/// block device for reading back, bypassing the page cache.
#[cfg(target_os = "linux")]
pub use linux::open_block_device_direct_read;

/// `block_device_size_bytes(&File) -> io::Result<u64>`: the capacity of
/// an open block device.
#[cfg(target_os = "linux")]
pub use linux::block_device_size_bytes;

/// `logical_block_size(&File) -> io::Result<u32>`: the granularity
/// (offset, length) of unbuffered I/O on an open block device.
#[cfg(target_os = "linux")]
pub use linux::logical_block_size;

/// `is_read_only(&File) -> io::Result<bool>`: whether the OS has the
/// device marked read-only (write-protect switch and the like).
#[cfg(target_os = "linux")]
pub use linux::is_read_only;

/// `block_device_claimed(&Path) -> io::Result<bool>`: whether another
/// program holds the device exclusively, found without claiming it.
#[cfg(target_os = "linux")]
pub use linux::block_device_claimed;

// ---------------------------------------------------------------------------
// Files and positional I/O.

/// `drop_cached_pages(&File) -> io::Result<()>`: makes the next reads of a
/// regular file reach its storage rather than the OS's cache.
#[cfg(target_os = "linux")]
pub use linux::drop_cached_pages;

/// `lock_file(&File, FileLock) -> io::Result<bool>`: an advisory lock
/// without waiting; `false` when another open file holds a conflicting one.
#[cfg(target_os = "linux")]
pub use linux::lock_file;

/// `read_at(&File, &mut [u8], offset: u64) -> io::Result<usize>`: reads at
/// `offset` without moving a shared file position (many readers, one handle).
#[cfg(target_os = "linux")]
pub use linux::read_at;

/// `read_exact_at(&File, &mut [u8], offset: u64) -> io::Result<()>`.
#[cfg(target_os = "linux")]
pub use linux::read_exact_at;

/// `write_all_at(&File, &[u8], offset: u64) -> io::Result<()>`.
#[cfg(target_os = "linux")]
pub use linux::write_all_at;

/// `node_kind(&Metadata) -> NodeKind`: what a path is (file, block device,
/// pipe…).
#[cfg(target_os = "linux")]
pub use linux::node_kind;

/// `node_id(&Metadata) -> NodeId`: what a path is, whatever it is called.
#[cfg(target_os = "linux")]
pub use linux::node_id;

/// `stdin_file() -> io::Result<File>`: standard input as a file of its own
/// (a duplicate handle), to be classified and read like any input.
#[cfg(target_os = "linux")]
pub use linux::stdin_file;

/// `stdin_path() -> &'static Path`: a path that leads to what standard
/// input really is (a file, a drive, a pipe), for functions taking paths.
#[cfg(target_os = "linux")]
pub use linux::stdin_path;

/// `io_failure(&io::Error) -> IoFailure`: what an OS error means for a
/// flash, so that messages can explain it without knowing error numbers.
#[cfg(target_os = "linux")]
pub use linux::io_failure;

/// `private_dir(&Path) -> io::Result<()>`: creates a folder only this user
/// may use, or checks that the existing one is such a folder (it may be in
/// a shared temporary directory: never use one someone else made).
#[cfg(target_os = "linux")]
pub use linux::private_dir;

/// `free_space_bytes(&Path) -> io::Result<u64>`: bytes this user may still
/// write in the filesystem holding an existing folder.
#[cfg(target_os = "linux")]
pub use linux::free_space_bytes;

/// `nameless_file_in(&Path) -> io::Result<File>`: a new readable, writable
/// file in a folder that no name leads to, gone when its last handle closes
/// however the process ends (the engine's cache file).
#[cfg(target_os = "linux")]
pub use linux::nameless_file_in;

/// `release_range(&File, offset: u64, len: u64)`: gives a range of a file's
/// blocks back to the filesystem, keeping its length; best effort.
#[cfg(target_os = "linux")]
pub use linux::release_range;

// ---------------------------------------------------------------------------
// Mounts, the system drive, and what stores what.

/// `mounts_of(&Path) -> io::Result<Vec<Mount>>`: the mounted filesystems on
/// a device (a whole disk: on any of its partitions or stacked devices).
#[cfg(target_os = "linux")]
pub use linux::mounts_of;

/// `writable_mounts_of(&Path) -> io::Result<Vec<PathBuf>>`: the mount
/// points of the filesystems on a device (as [`mounts_of`]) that are
/// mounted read-write.
#[cfg(target_os = "linux")]
pub use linux::writable_mounts_of;

/// `unmount(&Path) -> io::Result<()>`: unmounts a mount point.
#[cfg(target_os = "linux")]
pub use linux::unmount;

/// `system_drive_reason(&Path) -> io::Result<Option<String>>`: why a drive
/// (or the drive of a partition) backs the running system and must never
/// be written, or `None`.
#[cfg(target_os = "linux")]
pub use linux::system_drive_reason;

/// `whole_disk(&Path) -> io::Result<PathBuf>`: the whole disk a device node
/// belongs to (`/dev/sdb1` → `/dev/sdb`).
#[cfg(target_os = "linux")]
pub use linux::whole_disk;

/// `stacked_on(&Path) -> io::Result<Vec<String>>`: the names of the devices
/// (device-mapper, md, LVM) stacked on a drive or its partitions, which
/// unmounting does not release.
#[cfg(target_os = "linux")]
pub use linux::stacked_on;

/// `storage_of(&Path) -> io::Result<Storage>`: every piece of storage a
/// path's bytes depend on.
#[cfg(target_os = "linux")]
pub use linux::storage_of;

// ---------------------------------------------------------------------------
// Drives.

/// `list_drives() -> io::Result<Vec<DriveFacts>>`: every whole disk a person
/// could mean, in any order; left out are devices nobody flashes (RAM
/// disks, optical drives, devices with no medium, stacked devices).
#[cfg(target_os = "linux")]
pub use linux::list_drives;

/// `media_identity(device) -> io::Result<MediaIdentity>`: what tells one
/// medium from another beyond the serial: an SD card's CID, a loop
/// device's backing file.
#[cfg(target_os = "linux")]
pub use linux::media_identity;

/// `is_empty_slot(device) -> bool`: whether the device still exists with
/// no medium in it (a card reader whose card was taken out), as opposed to
/// a drive unplugged.
#[cfg(target_os = "linux")]
pub use linux::is_empty_slot;

/// `block_snapshot() -> io::Result<BlockSnapshot>`: a cheap fingerprint of
/// the drives and mounts; `BlockSnapshot` is any `Eq` type, and equal
/// snapshots mean that listing the drives again would give the same list.
#[cfg(target_os = "linux")]
pub use linux::{BlockSnapshot, block_snapshot};

/// `eject(&Path) -> io::Result<Ejected>`: leaves a flashed drive safe to
/// remove: flushed, and powered off when it is a USB drive and udisks2 is
/// installed.
#[cfg(target_os = "linux")]
pub use linux::eject;

// ---------------------------------------------------------------------------
// Privileges and processes.

/// `is_administrator() -> bool`: whether this process may write any drive.
#[cfg(target_os = "linux")]
pub use linux::is_administrator;

/// `may_write(&Path) -> bool`: whether this user may open `path` for
/// writing (a file still to be created: its folder), asked without opening.
#[cfg(target_os = "linux")]
pub use linux::may_write;

/// `elevated_user() -> Option<u32>`: the user this process runs for with
/// administrator rights it was given through the elevation command
/// (`PKEXEC_UID`), or `None` when it runs as itself.
#[cfg(target_os = "linux")]
pub use linux::elevated_user;

/// `open_as_user(&Path, UserOpen) -> io::Result<File>`: opens a file the
/// user named with that user's rights only — under elevation, those of
/// [`elevated_user`], never root's (docs/architecture.md §3); a refusal
/// says so in words ("you cannot read it…").
#[cfg(target_os = "linux")]
pub use linux::open_as_user;

/// `user_id() -> u32`: this user, to name per-user folders.
#[cfg(target_os = "linux")]
pub use linux::user_id;

/// `elevation_command() -> Vec<OsString>`: the command that runs the
/// program after it with administrator rights (`pkexec` on Linux).
#[cfg(target_os = "linux")]
pub use linux::elevation_command;

/// `elevation_declined(exit_code: i32) -> bool`: whether the elevation
/// command ended that way because the user cancelled or was not allowed.
#[cfg(target_os = "linux")]
pub use linux::elevation_declined;

/// `return_large_buffers_to_the_system()`: freed buffers of a megabyte or
/// more go back to the system, so peak memory stays what is in use; called
/// first thing by the binary.
#[cfg(target_os = "linux")]
pub use linux::return_large_buffers_to_the_system;

/// `interrupt_process(pid: u32)`: asks a child process to stop as Ctrl-C
/// would, without waiting; a process that may not be signalled is left be.
#[cfg(target_os = "linux")]
pub use linux::interrupt_process;

/// `os_error(IoFailure) -> io::Error`: a representative OS error of that
/// kind, for tests of the messages built on [`io_failure`].
#[cfg(all(test, target_os = "linux"))]
pub(crate) use linux::os_error;

// ---------------------------------------------------------------------------
// The facts those functions return.

/// How [`lock_file`] locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileLock {
    /// Held by a run writing the file, for the whole run.
    Exclusive,
    /// Taken for a moment to look whether a writer holds the file: two
    /// lookers never get in each other's way.
    Shared,
}

/// How [`open_as_user`] opens a file.
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

/// What an I/O error means for a flash ([`io_failure`]).
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

/// What a path is, from its metadata ([`node_kind`]).
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

/// What a path is whatever it is called ([`node_id`]): `/dev/disk/by-id/…`
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

/// A path and every piece of storage its bytes depend on ([`storage_of`]).
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

/// How [`eject`] left a drive.
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

/// A whole disk as the OS reports it ([`list_drives`]).
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
    /// Why the drive backs the running system ([`system_drive_reason`]).
    pub system: Option<String>,
}

/// What identifies the medium in a drive, beyond its serial
/// ([`media_identity`]).
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

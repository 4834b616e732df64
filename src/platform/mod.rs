//! The only place with OS-specific code: every system call, ioctl, signal,
//! privilege check and `/proc` or `/sys` read of the crate is behind the
//! functions re-exported here. The rest of the crate calls plain functions
//! and gets plain facts back (the types of `facts.rs`), so that
//! porting Imprint to another OS means writing one module that provides
//! exactly the items listed below; nothing else changes. How: README.md.
//!
//! The types are facts, not the crate's domain types: `drives` builds its
//! `Drive` from [`DriveFacts`], `target` its refusals from [`Mount`]s and
//! [`Storage`].

pub use facts::*;

mod facts;
#[cfg(target_os = "linux")]
mod linux;
// Windows' pure logic (volume locking order, drive facts from IOCTL answers,
// error codes) is also built for the tests on every OS, driven by a fake of
// its Win32 seam; its system calls only on Windows.
#[cfg(any(windows, test))]
mod windows;

// The implementation of this OS, under one name for the list below.
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(windows)]
use windows as os;

#[cfg(test)]
mod sealed;

#[cfg(not(any(target_os = "linux", windows)))]
compile_error!(
    "Imprint has no platform implementation for this OS yet: add src/platform/<os>/ providing the functions listed in src/platform/mod.rs"
);

// ---------------------------------------------------------------------------
// Block devices: opening, size, sector size, state.

/// `open_block_device_exclusive(&Path) -> io::Result<File>`: opens a block
/// device for writing, bypassing the page cache and exclusively (no other
/// program may open or mount it meanwhile; fails with [`IoFailure::Busy`]
/// when one holds it).
pub use os::open_block_device_exclusive;

/// `open_block_device_exclusive_read(&Path) -> io::Result<File>`: opens a
/// block device to read it as an image, exclusively (fails with
/// [`IoFailure::Busy`] while another program holds it: no run may write
/// a drive while it is cloned).
pub use os::open_block_device_exclusive_read;

/// `open_block_device_direct_read(&Path) -> io::Result<File>`: opens a
/// block device for reading back, bypassing the page cache.
pub use os::open_block_device_direct_read;

/// `block_device_size_bytes(&File) -> io::Result<u64>`: the capacity of
/// an open block device.
pub use os::block_device_size_bytes;

/// `logical_block_size(&File) -> io::Result<u32>`: the granularity
/// (offset, length) of unbuffered I/O on an open block device.
pub use os::logical_block_size;

/// `is_read_only(&File) -> io::Result<bool>`: whether the OS has the
/// device marked read-only (write-protect switch and the like).
pub use os::is_read_only;

/// `block_device_claimed(&Path) -> io::Result<bool>`: whether another
/// program holds the device exclusively, found without claiming it.
pub use os::block_device_claimed;

// ---------------------------------------------------------------------------
// Files and positional I/O.

/// `drop_cached_pages(&File) -> io::Result<()>`: makes the next reads of a
/// regular file reach its storage rather than the OS's cache.
pub use os::drop_cached_pages;

/// `lock_file(&File, FileLock) -> io::Result<bool>`: an advisory lock
/// without waiting; `false` when another open file holds a conflicting one.
pub use os::lock_file;

/// `read_at(&File, &mut [u8], offset: u64) -> io::Result<usize>`: reads at
/// `offset` without moving a shared file position (many readers, one handle).
pub use os::read_at;

/// `read_exact_at(&File, &mut [u8], offset: u64) -> io::Result<()>`.
pub use os::read_exact_at;

/// `write_all_at(&File, &[u8], offset: u64) -> io::Result<()>`.
pub use os::write_all_at;

/// `node_kind(&Metadata) -> NodeKind`: what a path is (file, block device,
/// pipe…).
pub use os::node_kind;

/// `path_kind(&Path) -> Option<NodeKind>`: what a path is, `None` when it
/// cannot be looked at. The question "is this a drive" asks this, not
/// metadata: on Windows a drive (`\\.\PhysicalDriveN`) is known by its
/// name and by opening it, its metadata says nothing.
pub use os::path_kind;

/// `node_id(&Metadata) -> NodeId`: what a path is, whatever it is called.
pub use os::node_id;

/// `stdin_file() -> io::Result<File>`: standard input as a file of its own
/// (a duplicate handle), to be classified and read like any input.
pub use os::stdin_file;

/// `stdin_path() -> &'static Path`: a path that leads to what standard
/// input really is (a file, a drive, a pipe), for functions taking paths.
pub use os::stdin_path;

/// `io_failure(&io::Error) -> IoFailure`: what an OS error means for a
/// flash, so that messages can explain it without knowing error numbers.
pub use os::io_failure;

/// `private_dir(&Path) -> io::Result<()>`: creates a folder only this user
/// may use, or checks that the existing one is such a folder (it may be in
/// a shared temporary directory: never use one someone else made).
pub use os::private_dir;

/// `create_new_file(&Path, private: bool) -> io::Result<File>`: creates a
/// file that must not exist yet (mode 0600 when `private`: a secret key).
pub use os::create_new_file;

/// `free_space_bytes(&Path) -> io::Result<u64>`: bytes this user may still
/// write in the filesystem holding an existing folder.
pub use os::free_space_bytes;

/// `nameless_file_in(&Path) -> io::Result<File>`: a new readable, writable
/// file in a folder that no name leads to, gone when its last handle closes
/// however the process ends (the engine's cache file).
pub use os::nameless_file_in;

/// `release_range(&File, offset: u64, len: u64)`: gives a range of a file's
/// blocks back to the filesystem, keeping its length; best effort.
pub use os::release_range;

// ---------------------------------------------------------------------------
// Mounts, the system drive, and what stores what.

/// `mounts_of(&Path) -> io::Result<Vec<Mount>>`: the mounted filesystems on
/// a device (a whole disk: on any of its partitions or stacked devices).
pub use os::mounts_of;

/// `writable_mounts_of(&Path) -> io::Result<Vec<PathBuf>>`: the mount
/// points of the filesystems on a device (as [`mounts_of`]) that are
/// mounted read-write.
pub use os::writable_mounts_of;

/// `unmount(&Path) -> io::Result<()>`: unmounts a mount point.
pub use os::unmount;

/// `system_drive_reason(&Path) -> io::Result<Option<String>>`: why a drive
/// (or the drive of a partition) backs the running system and must never
/// be written, or `None`.
pub use os::system_drive_reason;

/// `whole_disk(&Path) -> io::Result<PathBuf>`: the whole disk a device node
/// belongs to (`/dev/sdb1` → `/dev/sdb`).
pub use os::whole_disk;

/// `stacked_on(&Path) -> io::Result<Vec<String>>`: the names of the devices
/// (device-mapper, md, LVM) stacked on a drive or its partitions, which
/// unmounting does not release.
pub use os::stacked_on;

/// `storage_of(&Path) -> io::Result<Storage>`: every piece of storage a
/// path's bytes depend on.
pub use os::storage_of;

// ---------------------------------------------------------------------------
// Drives.

/// `list_drives() -> io::Result<Vec<DriveFacts>>`: every whole disk a person
/// could mean, in any order; left out are devices nobody flashes (RAM
/// disks, optical drives, devices with no medium, stacked devices).
pub use os::list_drives;

/// `media_identity(device) -> io::Result<MediaIdentity>`: what tells one
/// medium from another beyond the serial: an SD card's CID, a loop
/// device's backing file.
pub use os::media_identity;

/// `reader_port(device) -> Option<String>`: the port a drive hangs on, as
/// the OS names it (Linux: its name in `/dev/disk/by-path`), for records.
pub use os::reader_port;

/// `is_empty_slot(device) -> bool`: whether the device still exists with
/// no medium in it (a card reader whose card was taken out), as opposed to
/// a drive unplugged.
pub use os::is_empty_slot;

/// `block_snapshot() -> io::Result<BlockSnapshot>`: a cheap fingerprint of
/// the drives and mounts; `BlockSnapshot` is any `Eq` type, and equal
/// snapshots mean that listing the drives again would give the same list.
pub use os::{BlockSnapshot, block_snapshot};

/// `eject(&Path) -> io::Result<Ejected>`: leaves a flashed drive safe to
/// remove: flushed, and powered off when it is a USB drive and udisks2 is
/// installed.
pub use os::eject;

// ---------------------------------------------------------------------------
// Privileges and processes.

/// `is_administrator() -> bool`: whether this process may write any drive.
pub use os::is_administrator;

/// `may_write(&Path) -> bool`: whether this user may open `path` for
/// writing (a file still to be created: its folder), asked without opening.
pub use os::may_write;

/// `elevated_user() -> Option<u32>`: the user this process runs for with
/// administrator rights it was given through the elevation command
/// (`PKEXEC_UID`), or `None` when it runs as itself.
pub use os::elevated_user;

/// `open_as_user(&Path, UserOpen) -> io::Result<File>`: opens a file the
/// user named with that user's rights only — under elevation, those of
/// [`elevated_user`], never root's (docs/architecture.md §3); a refusal
/// says so in words ("you cannot read it…").
pub use os::open_as_user;

/// `user_id() -> u32`: this user, to name per-user folders.
pub use os::user_id;

/// `elevation_command() -> Vec<OsString>`: the command that runs the
/// program after it with administrator rights (`pkexec` on Linux).
pub use os::elevation_command;

/// `elevation_declined(exit_code: i32) -> bool`: whether the elevation
/// command ended that way because the user cancelled or was not allowed.
pub use os::elevation_declined;

/// `return_large_buffers_to_the_system()`: freed buffers of a megabyte or
/// more go back to the system, so peak memory stays what is in use; called
/// first thing by the binary.
pub use os::return_large_buffers_to_the_system;

/// `interrupt_process(pid: u32)`: asks a child process to stop as Ctrl-C
/// would, without waiting; a process that may not be signalled is left be.
pub use os::interrupt_process;

/// `os_error(IoFailure) -> io::Error`: a representative OS error of that
/// kind, for tests of the messages built on [`io_failure`].
#[cfg(all(test, any(target_os = "linux", windows)))]
pub(crate) use os::os_error;

//! Physical drives opened the way proven Windows flashers open them: the
//! disk's volumes locked and dismounted first (`take.rs`), then
//! `\\.\PhysicalDriveN` with `FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH`
//! (the engine's I/O is sector-aligned for every block device, as O_DIRECT
//! needs on Linux). The locked volume handles are held here, by disk, until
//! the drive is ejected or the process ends: while they are open Windows
//! cannot mount the disk's filesystems again mid-write.

// LockFileEx is FFI.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use std::sync::Mutex;

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Storage::FileSystem::{
    FILE_FLAG_NO_BUFFERING, FILE_FLAG_WRITE_THROUGH, FILE_SHARE_READ, FILE_SHARE_WRITE,
    LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY, LockFileEx,
};
use windows_sys::Win32::System::IO::{OVERLAPPED, OVERLAPPED_0, OVERLAPPED_0_0};
use windows_sys::Win32::System::Ioctl::{IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, IOCTL_DISK_IS_WRITABLE};

use super::answers::geometry;
use super::drives::disk_number;
use super::take::{TakenDisk, take_disk};
use super::win32::{RealWindows, ioctl};
use crate::platform::FileLock;

/// The volumes this process holds locked, by disk number.
static TAKEN: Mutex<Vec<(u32, TakenDisk<File>)>> = Mutex::new(Vec::new());

const ERROR_WRITE_PROTECT: i32 = 19;
const ERROR_SHARING_VIOLATION: i32 = 32;
const ERROR_LOCK_VIOLATION: i32 = 33;

/// N of `\\.\PhysicalDriveN`, or an error saying what a drive path is.
pub(crate) fn disk_of(path: &Path) -> io::Result<u32> {
    disk_number(path).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is not a physical drive: name drives as \\\\.\\PhysicalDriveN (imprint list shows them)",
                path.display()
            ),
        )
    })
}

/// Lets go of the volumes held for `disk` (Windows may mount them again).
pub(crate) fn let_go(disk: u32) {
    TAKEN.lock().unwrap().retain(|(d, _)| *d != disk);
}

/// Locks and dismounts every volume of the drive, then opens it unbuffered
/// and write-through for reading and writing.
pub fn open_block_device_exclusive(path: &Path) -> io::Result<File> {
    let disk = disk_of(path)?;
    let taken = take_disk(&RealWindows, disk)?;
    let file = unbuffered(path, true, FILE_SHARE_READ | FILE_SHARE_WRITE)?;
    let mut held = TAKEN.lock().unwrap();
    held.retain(|(d, _)| *d != disk);
    held.push((disk, taken));
    Ok(file)
}

/// Opens a drive to read it as an image; nobody else may write it meanwhile.
pub fn open_block_device_exclusive_read(path: &Path) -> io::Result<File> {
    disk_of(path)?;
    unbuffered(path, false, FILE_SHARE_READ)
}

/// Opens a drive to read it back, bypassing the cache.
pub fn open_block_device_direct_read(path: &Path) -> io::Result<File> {
    disk_of(path)?;
    unbuffered(path, false, FILE_SHARE_READ | FILE_SHARE_WRITE)
}

fn unbuffered(path: &Path, write: bool, share: u32) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(write)
        .share_mode(share)
        .custom_flags(FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH)
        .open(path)
}

fn disk_geometry(file: &File) -> io::Result<(u32, u64)> {
    geometry(&ioctl(file, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, &[])?)
        .ok_or_else(|| io::Error::other("a disk geometry too short to read"))
}

/// The drive's capacity (`DISK_GEOMETRY_EX.DiskSize`).
pub fn block_device_size_bytes(file: &File) -> io::Result<u64> {
    Ok(disk_geometry(file)?.1)
}

/// The drive's sector size: unbuffered I/O's offsets and lengths are
/// multiples of it.
pub fn logical_block_size(file: &File) -> io::Result<u32> {
    Ok(disk_geometry(file)?.0)
}

/// Whether the medium is write-protected (`IOCTL_DISK_IS_WRITABLE`).
pub fn is_read_only(file: &File) -> io::Result<bool> {
    match ioctl(file, IOCTL_DISK_IS_WRITABLE, &[]) {
        Ok(_) => Ok(false),
        Err(e) if e.raw_os_error() == Some(ERROR_WRITE_PROTECT) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Whether another program has the drive open for writing: opening it
/// while sharing only reading fails then.
pub fn block_device_claimed(path: &Path) -> io::Result<bool> {
    match OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ)
        .open(path)
    {
        Ok(_) => Ok(false),
        Err(e) if e.raw_os_error() == Some(ERROR_SHARING_VIOLATION) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Windows has no way to drop one file's cached pages; reads of an image
/// file may come from the cache (drives are read unbuffered).
pub fn drop_cached_pages(_file: &File) -> io::Result<()> {
    Ok(())
}

/// An advisory lock, as `flock` gives on Linux. Windows byte-range locks
/// are mandatory (a locked range cannot be read through another handle),
/// so the lock is on one byte far past any real end of file, which no
/// read or write ever touches.
pub fn lock_file(file: &File, lock: FileLock) -> io::Result<bool> {
    let mut flags = LOCKFILE_FAIL_IMMEDIATELY;
    if lock == FileLock::Exclusive {
        flags |= LOCKFILE_EXCLUSIVE_LOCK;
    }
    let mut at = OVERLAPPED {
        Internal: 0,
        InternalHigh: 0,
        Anonymous: OVERLAPPED_0 {
            Anonymous: OVERLAPPED_0_0 {
                Offset: u32::MAX - 1,
                OffsetHigh: u32::MAX,
            },
        },
        hEvent: std::ptr::null_mut(),
    };
    // SAFETY: the handle is open (borrowed from `file`) and `at` outlives
    // the synchronous call.
    let ok = unsafe { LockFileEx(file.as_raw_handle() as HANDLE, flags, 0, 1, 0, &mut at) };
    if ok != 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(ERROR_LOCK_VIOLATION) => Ok(false),
        _ => Err(error),
    }
}

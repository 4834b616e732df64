//! Block devices: opening with O_DIRECT / O_EXCL, size, logical sector size
//! and read-only state through ioctls, and dropping cached pages; locking
//! file targets, which have no O_EXCL.

// System calls need unsafe: block-device ioctls (size, sector size, flush) through libc.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

use crate::platform::FileLock;

// From <linux/fs.h>. The values are the same on every Linux architecture we
// build for (`_IOR(0x12, 114, size_t)` only depends on the pointer size,
// which is 8 on all of them).
const BLKROGET: libc::c_ulong = 0x125e;
const BLKSSZGET: libc::c_ulong = 0x1268;
const BLKGETSIZE64: libc::c_ulong = 0x8008_1272;

/// Opens a block device for writing, bypassing the page cache (O_DIRECT) and
/// exclusively (O_EXCL: the kernel refuses while a partition is mounted, and
/// nothing can mount it while we hold it).
pub fn open_block_device_exclusive(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_EXCL)
        .open(path)
}

/// Opens a block device to read it as an image, exclusively (O_EXCL): no
/// Imprint run may write it while it is read, nothing may mount it. Fails
/// with EBUSY (`IoFailure::Busy`) when another program holds it.
pub fn open_block_device_exclusive_read(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_EXCL)
        .open(path)
}

/// Opens a block device for reading back what was written. O_DIRECT: a
/// read through the page cache would only prove what the cache holds.
pub fn open_block_device_direct_read(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
}

/// Size of the block device behind `file`, in bytes.
pub fn block_device_size_bytes(file: &File) -> io::Result<u64> {
    let mut size: u64 = 0;
    // SAFETY: BLKGETSIZE64 writes one u64 through the pointer we pass.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), BLKGETSIZE64 as _, &mut size as *mut u64) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(size)
}

/// The logical sector size: O_DIRECT offsets and lengths must be multiples
/// of it.
pub fn logical_block_size(file: &File) -> io::Result<u32> {
    let mut size: libc::c_int = 0;
    // SAFETY: BLKSSZGET writes one int through the pointer we pass.
    let rc = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            BLKSSZGET as _,
            &mut size as *mut libc::c_int,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(size.max(512) as u32)
}

/// Whether the kernel has the device marked read-only (write-protect switch,
/// `losetup -r`, `blockdev --setro`).
pub fn is_read_only(file: &File) -> io::Result<bool> {
    let mut ro: libc::c_int = 0;
    // SAFETY: BLKROGET writes one int through the pointer we pass.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), BLKROGET as _, &mut ro as *mut libc::c_int) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ro != 0)
}

/// Asks the kernel to drop cached pages of `file` (a regular file target),
/// so that reading it back reaches the storage rather than the cache.
pub fn drop_cached_pages(file: &File) -> io::Result<()> {
    // SAFETY: posix_fadvise only takes plain integers.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Whether another program has the block device at `path` open
/// exclusively (another Imprint run, a mounted filesystem, a device-mapper
/// or md device stacked on it). Looks by opening it read-only with O_EXCL
/// for a moment: that claims nothing once closed and writes nothing.
pub fn block_device_claimed(path: &Path) -> io::Result<bool> {
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_EXCL)
        .open(path)
    {
        Ok(_) => Ok(false),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(true),
        Err(e) => Err(e),
    }
}

/// Takes an advisory lock (`flock`) on `file` without waiting. Returns
/// `false` when another open file holds a conflicting lock. A file target
/// has no O_EXCL: this lock is what keeps two runs from writing one file.
pub fn lock_file(file: &File, lock: FileLock) -> io::Result<bool> {
    let operation = match lock {
        FileLock::Exclusive => libc::LOCK_EX,
        FileLock::Shared => libc::LOCK_SH,
    };
    // SAFETY: flock only takes a descriptor we own and integer flags.
    let rc = unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(error)
    }
}

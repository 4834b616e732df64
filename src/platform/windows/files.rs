//! Files on Windows: positional I/O (`seek_read`/`seek_write`), what a
//! path is, standard input as a file, free space, the engine's cache file
//! (deleted on close) and what an error code means.

// GetDiskFreeSpaceExW is FFI.
#![allow(unsafe_code)]

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::windows::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::os::windows::io::AsHandle;
use std::path::Path;

use windows_sys::Win32::Storage::FileSystem::{
    FILE_FLAG_DELETE_ON_CLOSE, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
    GetDiskFreeSpaceExW,
};

use super::answers::wide;
use super::errors::failure_of;
use crate::platform::{IoFailure, NodeId, NodeKind};

/// What a path is. Windows' metadata tells files, folders and links
/// apart; drives (`\\.\PhysicalDriveN`) are named by path, not by kind.
pub fn node_kind(metadata: &Metadata) -> NodeKind {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        NodeKind::File
    } else if file_type.is_dir() {
        NodeKind::Dir
    } else {
        NodeKind::Other
    }
}

/// A file's identity. Stable Rust gives no volume serial or file index
/// from `Metadata` on Windows; the creation time (100 ns ticks), which a
/// rename keeps and a new file does not share, stands in for them.
pub fn node_id(metadata: &Metadata) -> NodeId {
    NodeId::File {
        dev: 0,
        ino: metadata.creation_time(),
    }
}

/// Reads at `offset`. Windows moves the handle's position too; every
/// caller of the platform's positional I/O names its offset each time.
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.seek_read(buf, offset)
}

pub fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub fn write_all_at(file: &File, mut data: &[u8], mut offset: u64) -> io::Result<()> {
    while !data.is_empty() {
        match file.seek_write(data, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                data = &data[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Standard input as a file of its own (a duplicated handle).
pub fn stdin_file() -> io::Result<File> {
    Ok(File::from(io::stdin().as_handle().try_clone_to_owned()?))
}

/// The console's input: Windows has no name for a redirected standard
/// input, and a drive is never standard input here (drives are named).
pub fn stdin_path() -> &'static Path {
    Path::new("CONIN$")
}

/// What an error means for a flash (winerror.h codes: `errors.rs`).
pub fn io_failure(error: &io::Error) -> IoFailure {
    failure_of(error)
}

/// Creates a folder, or checks that the existing one is a folder and not
/// a link. Windows' temporary folder is already per user (its ACL lets
/// only that user in), which `private_dir`'s callers rely on.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let metadata = fs::symlink_metadata(dir)?;
    if !metadata.is_dir() || metadata.file_type().is_symlink() {
        return Err(io::Error::other(format!(
            "{} exists and is not a folder of its own",
            dir.display()
        )));
    }
    Ok(())
}

/// The bytes this user may still write on the volume holding `dir`.
pub fn free_space_bytes(dir: &Path) -> io::Result<u64> {
    let dir_w = wide(&dir.to_string_lossy());
    let mut available = 0u64;
    // SAFETY: `dir_w` is NUL-terminated; the null outputs are optional.
    let ok = unsafe {
        GetDiskFreeSpaceExW(
            dir_w.as_ptr(),
            &mut available,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(available)
}

/// A new file in `dir` that Windows deletes when its last handle closes
/// (`FILE_FLAG_DELETE_ON_CLOSE`), however the process ends. Unlike Linux's
/// `O_TMPFILE` it has a name meanwhile: an unguessable one.
pub fn nameless_file_in(dir: &Path) -> io::Result<File> {
    use std::hash::{BuildHasher, RandomState};
    let unique = RandomState::new().hash_one(std::time::Instant::now());
    let path = dir.join(format!(".imprint-{}-{unique:x}", std::process::id()));
    OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_DELETE_ON_CLOSE)
        .open(path)
}

/// Windows files are not sparse unless marked so; the cache file keeps its
/// blocks until it is closed (and deleted).
pub fn release_range(_file: &File, _offset: u64, _len: u64) {}

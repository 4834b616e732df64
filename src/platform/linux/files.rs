//! Files: what a path is (`stat`'s file type, device and inode numbers),
//! positional I/O (`pread`/`pwrite`), standard input as a file, errno
//! classification, a folder private to this user, free space, and nameless
//! files with holes punched in them (the engine's cache file).

// System calls need unsafe: fallocate and statvfs through libc.
#![allow(unsafe_code)]

use std::fs::{self, File, Metadata};
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{
    DirBuilderExt, FileExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt,
};
use std::path::Path;

use crate::platform::{IoFailure, NodeId, NodeKind};

/// What `metadata`'s path is.
pub fn node_kind(metadata: &Metadata) -> NodeKind {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        NodeKind::File
    } else if file_type.is_dir() {
        NodeKind::Dir
    } else if file_type.is_block_device() {
        NodeKind::BlockDevice
    } else if file_type.is_fifo() {
        NodeKind::Pipe
    } else if file_type.is_char_device() {
        NodeKind::CharDevice
    } else if file_type.is_socket() {
        NodeKind::Socket
    } else {
        NodeKind::Other
    }
}

/// What `path` is, following links; `None` when it cannot be looked at
/// (missing, no permission). Exactly `stat`'s answer.
pub fn path_kind(path: &Path) -> Option<NodeKind> {
    fs::metadata(path).ok().map(|m| node_kind(&m))
}

/// A block device by its device number (`st_rdev`: every node of one
/// device has it); anything else by (`st_dev`, `st_ino`).
pub fn node_id(metadata: &Metadata) -> NodeId {
    if metadata.file_type().is_block_device() {
        NodeId::Device(metadata.rdev())
    } else {
        NodeId::File {
            dev: metadata.dev(),
            ino: metadata.ino(),
        }
    }
}

/// `pread`: one handle may be read from many threads at once.
pub fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.read_at(buf, offset)
}

/// `pread` until `buf` is full.
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    file.read_exact_at(buf, offset)
}

/// `pwrite` until all of `data` is written.
pub fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    file.write_all_at(data, offset)
}

/// A duplicate of file descriptor 0, so that standard input can be
/// `stat`ed, `pread` and closed like any opened file.
pub fn stdin_file() -> io::Result<File> {
    Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?))
}

/// `/dev/stdin`, a symlink to `/proc/self/fd/0`: following it reaches the
/// file or device standard input was opened from.
pub fn stdin_path() -> &'static Path {
    Path::new("/dev/stdin")
}

/// The errno of `error`, as a kind of failure.
pub fn io_failure(error: &io::Error) -> IoFailure {
    match error.raw_os_error() {
        Some(libc::ENOSPC) => IoFailure::NoSpace,
        Some(libc::EDQUOT) => IoFailure::QuotaExceeded,
        Some(libc::EFBIG) => IoFailure::FileTooLarge,
        Some(libc::EROFS) => IoFailure::ReadOnly,
        Some(libc::EACCES) => IoFailure::Denied,
        Some(libc::EPERM) => IoFailure::NotPermitted,
        Some(libc::EBUSY) => IoFailure::Busy,
        Some(libc::ENXIO) | Some(libc::ENODEV) => IoFailure::Gone,
        Some(libc::EIO) => IoFailure::DeviceError,
        _ => IoFailure::Other,
    }
}

/// The errno a device or filesystem returns for `failure`.
#[cfg(test)]
pub(crate) fn os_error(failure: IoFailure) -> io::Error {
    io::Error::from_raw_os_error(match failure {
        IoFailure::NoSpace => libc::ENOSPC,
        IoFailure::QuotaExceeded => libc::EDQUOT,
        IoFailure::FileTooLarge => libc::EFBIG,
        IoFailure::ReadOnly => libc::EROFS,
        IoFailure::Denied => libc::EACCES,
        IoFailure::NotPermitted => libc::EPERM,
        IoFailure::Busy => libc::EBUSY,
        IoFailure::Gone => libc::ENXIO,
        IoFailure::DeviceError => libc::EIO,
        IoFailure::Other => libc::EINVAL,
    })
}

/// Creates `dir` with mode 0700, or accepts an existing one only when it is
/// a real folder (not a symlink) of this user that nobody else may write.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    // The temporary directory is shared: never follow a folder someone
    // else put there.
    let metadata = fs::symlink_metadata(dir)?;
    if !metadata.is_dir()
        || metadata.uid() != super::user_id()
        || metadata.permissions().mode() & 0o022 != 0
    {
        return Err(io::Error::other(
            "the folder exists and does not belong to this user alone",
        ));
    }
    Ok(())
}

/// Bytes an unprivileged user may still write in the filesystem holding
/// `dir` (`statvfs`).
pub fn free_space_bytes(dir: &Path) -> io::Result<u64> {
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::other("a path with a NUL byte"))?;
    // SAFETY: statvfs writes only into `stat`; `path` is NUL-terminated.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// A new file in `dir` that no name leads to (created with mode 0600 under
/// a unique name, unlinked at once): it is gone when the last handle
/// closes, however the process ends.
pub fn nameless_file_in(dir: &Path) -> io::Result<File> {
    use std::hash::{BuildHasher, RandomState};
    let unique = RandomState::new().hash_one(std::time::Instant::now());
    let path = dir.join(format!(".imprint-{}-{unique:x}", std::process::id()));
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    fs::remove_file(&path)?;
    Ok(file)
}

/// Gives the blocks of `len` bytes at `offset` of `file` back to the
/// filesystem, the file keeping its length (a hole). Best effort: a
/// filesystem that cannot keeps them.
pub fn release_range(file: &File, offset: u64, len: u64) {
    // SAFETY: fallocate on an open descriptor; no memory is passed.
    unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset as libc::off_t,
            len as libc::off_t,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_is_recognised_from_its_errno() {
        let failures = [
            IoFailure::NoSpace,
            IoFailure::QuotaExceeded,
            IoFailure::FileTooLarge,
            IoFailure::ReadOnly,
            IoFailure::Denied,
            IoFailure::NotPermitted,
            IoFailure::Busy,
            IoFailure::Gone,
            IoFailure::DeviceError,
            IoFailure::Other,
        ];
        for failure in failures {
            assert_eq!(io_failure(&os_error(failure)), failure);
        }
        assert_eq!(
            io_failure(&io::Error::from_raw_os_error(libc::ENODEV)),
            IoFailure::Gone
        );
        assert_eq!(io_failure(&io::Error::other("no errno")), IoFailure::Other);
    }

    #[test]
    fn a_private_dir_is_made_for_this_user_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("private");
        private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        private_dir(&dir).unwrap();
    }

    #[test]
    fn a_folder_open_to_others_or_a_symlink_is_not_private() {
        let tmp = tempfile::tempdir().unwrap();
        let open = tmp.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(private_dir(&open).is_err());
        let real = tmp.path().join("real");
        private_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(private_dir(&link).is_err());
    }

    #[test]
    fn files_devices_and_pipes_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"x").unwrap();
        let meta = |p: &Path| fs::metadata(p).unwrap();
        assert_eq!(node_kind(&meta(&file)), NodeKind::File);
        assert_eq!(node_kind(&meta(tmp.path())), NodeKind::Dir);
        assert_eq!(
            node_kind(&meta(Path::new("/dev/null"))),
            NodeKind::CharDevice
        );
        let (reader, _writer) = io::pipe().unwrap();
        assert_eq!(
            node_kind(
                &File::from(std::os::fd::OwnedFd::from(reader))
                    .metadata()
                    .unwrap()
            ),
            NodeKind::Pipe
        );
        let same = tmp.path().join(".").join("f");
        assert_eq!(node_id(&meta(&file)), node_id(&meta(&same)));
        let other = tmp.path().join("g");
        fs::write(&other, b"x").unwrap();
        assert_ne!(node_id(&meta(&file)), node_id(&meta(&other)));
    }
}

//! The drive (or image file) backed up: opened read-only, and for a block
//! device exclusively (`O_EXCL`: the kernel then refuses to mount it or let
//! another exclusive opener such as a flash write it while it is read), and
//! read with O_DIRECT in aligned pieces so that the page cache neither
//! serves stale bytes nor fills with a card's contents.
//!
//! A mounted drive is refused, whether read-write or read-only: a backup
//! must be of a filesystem at rest (a read-write mount changes under the
//! reader; a read-only one may be remounted read-write meanwhile, and its
//! journal may hold what a clean unmount would have written).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::BackupError;
use crate::platform::{self, IoFailure, NodeKind};
use crate::target::{AlignedBuf, IO_ALIGNMENT};

/// An open source: the handle read (O_DIRECT when the filesystem allows)
/// and, for a block device, the exclusive handle that holds it.
pub(crate) struct Source {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    file: File,
    _hold: Option<File>,
}

impl Source {
    /// Opens `path` to back it up; refusals are [`BackupError::Refused`].
    pub(crate) fn open(path: &Path) -> Result<Source, BackupError> {
        let refuse = |why: String| BackupError::Refused(format!("{}: {why}", path.display()));
        let metadata = std::fs::metadata(path).map_err(|e| {
            refuse(format!(
                "cannot open it ({e}); name a drive, a partition or an image file"
            ))
        })?;
        let kind = platform::node_kind(&metadata);
        if kind == NodeKind::BlockDevice {
            Self::open_device(path)
        } else if kind == NodeKind::File {
            let file =
                open_direct_or_plain(path).map_err(|e| refuse(format!("cannot read it ({e})")))?;
            if metadata.len() == 0 {
                return Err(refuse("it is empty: there is nothing to back up".into()));
            }
            Ok(Source {
                path: path.to_owned(),
                size: metadata.len(),
                file,
                _hold: None,
            })
        } else {
            Err(refuse(
                "it is neither a block device nor a regular file; name a drive (such as /dev/sdb), a partition or an image file".into(),
            ))
        }
    }

    fn open_device(path: &Path) -> Result<Source, BackupError> {
        let refuse = |why: String| BackupError::Refused(format!("{}: {why}", path.display()));
        let cannot = |e: io::Error| refuse(format!("cannot open it ({e})"));
        let mounts = platform::mounts_of(path).map_err(cannot)?;
        if !mounts.is_empty() {
            let points: Vec<String> = mounts
                .iter()
                .map(|m| format!("{} at {}", m.device.display(), m.mount_point.display()))
                .collect();
            return Err(refuse(format!(
                "it is mounted ({}); a backup must be of filesystems at rest, so unmount it first (umount or the file manager's eject) and run the backup again",
                points.join(", ")
            )));
        }
        let hold = platform::open_block_device_exclusive_read(path).map_err(|e| {
            match platform::io_failure(&e) {
                IoFailure::Busy => refuse(
                    "another program holds it exclusively (mounted meanwhile, or an Imprint run writing it), so it may change while it is read; wait for it to finish or unmount it".into(),
                ),
                _ => cannot(e),
            }
        })?;
        let size = platform::block_device_size_bytes(&hold).map_err(cannot)?;
        // The exclusive handle keeps everyone else off; a second handle
        // of ours, without the cache, does the reading.
        let file = platform::open_block_device_direct_read(path).map_err(cannot)?;
        if size == 0 {
            return Err(refuse("it holds no medium (0 bytes)".into()));
        }
        Ok(Source {
            path: path.to_owned(),
            size,
            file,
            _hold: Some(hold),
        })
    }

    /// Reads `len` bytes at `offset` (a multiple of [`IO_ALIGNMENT`]) into
    /// the start of `buf`, which holds `len` rounded up to the alignment.
    /// The source's end is read as far as it goes.
    pub(crate) fn read_into(
        &self,
        offset: u64,
        buf: &mut AlignedBuf,
        len: usize,
    ) -> io::Result<()> {
        debug_assert_eq!(offset % IO_ALIGNMENT as u64, 0);
        let want = len.next_multiple_of(IO_ALIGNMENT).min(buf.len());
        let mut got = 0;
        while got < len {
            let n = platform::read_at(&self.file, &mut buf[got..want], offset + got as u64)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the source ended early (was it removed or shortened?)",
                ));
            }
            got += n;
            if got % IO_ALIGNMENT != 0 && got < len {
                // A short read at an unaligned point cannot continue with
                // O_DIRECT; it only happens at the end.
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the source returned a short read",
                ));
            }
        }
        Ok(())
    }
}

/// An image file opened with O_DIRECT, or plainly where the filesystem
/// does not support it (tmpfs).
fn open_direct_or_plain(path: &Path) -> io::Result<File> {
    // The platform's direct open works on files too; a filesystem without
    // O_DIRECT refuses it with an error of no particular kind (EINVAL).
    match platform::open_block_device_direct_read(path) {
        Ok(file) => Ok(file),
        Err(e) if platform::io_failure(&e) == IoFailure::Other => File::open(path),
        Err(e) => Err(e),
    }
}

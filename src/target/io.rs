//! Writing a target and reading it back: aligned O_DIRECT I/O on block
//! devices, plain I/O on files. An image whose length is not a multiple of
//! the sector size is written exactly: the last sector is read, patched and
//! written back, so the bytes after the image keep their old contents.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::{AlignedBuf, TargetInfo, TargetKind};
use crate::platform::{self, IoFailure};

/// Why writing or reading a target failed. Every variant names the target;
/// offsets are byte offsets in the image (= on the target).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TargetError {
    #[error("{path} is read-only: check the card's write-protect switch, or choose another drive")]
    ReadOnly { path: PathBuf },
    #[error(
        "cannot unmount {mount_point} (on {path}): {source}; close the programs using it and try again"
    )]
    Unmount {
        path: PathBuf,
        mount_point: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is in use: another program has it open exclusively (another Imprint run?) or it is still mounted; close it and try again"
    )]
    Busy { path: PathBuf },
    #[error(
        "another program is writing {path} (it is locked, another Imprint run?); wait for it to finish or choose another target"
    )]
    Locked { path: PathBuf },
    #[error("cannot open {path} for writing: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "writing {path} failed at byte {offset}: {source}; {}",
        explain_io_error(source, *target_kind)
    )]
    Write {
        path: PathBuf,
        target_kind: TargetKind,
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error(
        "reading {path} back failed at byte {offset}: {source}; {}",
        explain_io_error(source, *target_kind)
    )]
    Read {
        path: PathBuf,
        target_kind: TargetKind,
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error(
        "flushing {path} failed: {source}; the data may not all have reached it: {}",
        explain_io_error(source, *target_kind)
    )]
    Sync {
        path: PathBuf,
        target_kind: TargetKind,
        #[source]
        source: io::Error,
    },
    #[error(
        "the image is larger than {path}: the drive holds {size_bytes} bytes, the image goes on past byte {offset}"
    )]
    TooSmall {
        path: PathBuf,
        size_bytes: u64,
        offset: u64,
    },
}

/// What an I/O error on a target means for the user, and what to do. The
/// error's own text (e.g. "No space left on device") is shown beside it;
/// this says why it happened to a flash.
pub(crate) fn explain_io_error(error: &io::Error, kind: TargetKind) -> &'static str {
    let file = kind == TargetKind::File;
    match platform::io_failure(error) {
        IoFailure::NoSpace if file => {
            "the filesystem holding the file is full; free some space or write the image elsewhere"
        }
        IoFailure::NoSpace => {
            "the drive has no room there: it may be smaller than it claims (a counterfeit card); try another drive"
        }
        IoFailure::QuotaExceeded => {
            "your disk quota is used up; free some space or write the image elsewhere"
        }
        IoFailure::FileTooLarge => {
            "the file is larger than its filesystem allows (FAT holds at most 4 GiB per file); write the image to another filesystem"
        }
        IoFailure::ReadOnly => {
            "it is read-only (a write-protect switch, or a filesystem mounted read-only); choose another target"
        }
        IoFailure::Gone => {
            "the drive is gone: it was removed or lost its connection; plug it in again and flash it again"
        }
        IoFailure::DeviceError if file => {
            "the storage under the file reported an error; check that disk, or write the image elsewhere"
        }
        IoFailure::DeviceError => {
            "the drive reported an error: it may be failing or have been removed; try another drive or port"
        }
        _ if file => "check the file's filesystem, or write the image elsewhere",
        _ => "the drive may have been removed or be failing; try another drive or port",
    }
}

impl TargetError {
    /// The byte offset the error happened at, when one applies.
    pub(crate) fn offset(&self) -> Option<u64> {
        match self {
            TargetError::Write { offset, .. }
            | TargetError::Read { offset, .. }
            | TargetError::TooSmall { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

/// An open target: where the writer writes and the verifier reads.
pub(crate) struct TargetFile {
    file: File,
    path: PathBuf,
    kind: TargetKind,
    /// O_DIRECT granularity; 1 for files.
    block: usize,
    size_bytes: Option<u64>,
    /// Nothing was written through this handle yet: the first write passes
    /// the process's gate ([`super::first_byte`]) and, for a file, cuts its
    /// old contents then — an interrupt before it leaves them whole.
    before_first_write: bool,
}

impl TargetFile {
    /// Opens a checked target for writing. A block device's mounted
    /// partitions are unmounted first, then it is opened exclusively.
    pub(crate) fn open_for_write(info: &TargetInfo) -> Result<TargetFile, TargetError> {
        let path = info.path.clone();
        if info.read_only {
            return Err(TargetError::ReadOnly { path });
        }
        let file = match info.kind {
            TargetKind::BlockDevice => {
                unmount_all(&path)?;
                platform::open_block_device_exclusive(&path).map_err(|source| {
                    match platform::io_failure(&source) {
                        IoFailure::Busy => TargetError::Busy { path: path.clone() },
                        _ => TargetError::Open {
                            path: path.clone(),
                            source,
                        },
                    }
                })?
            }
            TargetKind::File => open_file_locked(&path)?,
        };
        Ok(TargetFile::new(file, info))
    }

    /// Opens a target to read it back, bypassing the page cache.
    pub(crate) fn open_for_read(info: &TargetInfo) -> Result<TargetFile, TargetError> {
        let path = info.path.clone();
        let opened = match info.kind {
            TargetKind::BlockDevice => platform::open_block_device_direct_read(&path),
            TargetKind::File => File::open(&path).and_then(|f| {
                // Files cannot always be opened O_DIRECT (tmpfs); dropping
                // their cached pages makes the read reach the storage.
                platform::drop_cached_pages(&f)?;
                Ok(f)
            }),
        };
        let file = opened.map_err(|source| TargetError::Read {
            path: path.clone(),
            target_kind: info.kind,
            offset: 0,
            source,
        })?;
        Ok(TargetFile::new(file, info))
    }

    fn new(file: File, info: &TargetInfo) -> TargetFile {
        TargetFile {
            file,
            path: info.path.clone(),
            kind: info.kind,
            block: info.logical_block_size.max(1) as usize,
            size_bytes: info.size_bytes,
            before_first_write: true,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `data` at `offset`. `data` lives in an [`AlignedBuf`] and
    /// `offset` is a multiple of the sector size; only the image's last
    /// write may end off a sector boundary.
    pub(crate) fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), TargetError> {
        let end = offset + data.len() as u64;
        if let Some(size_bytes) = self.size_bytes
            && end > size_bytes
        {
            return Err(TargetError::TooSmall {
                path: self.path.clone(),
                size_bytes,
                offset: size_bytes.max(offset),
            });
        }
        self.start_writing()?;
        let aligned_len = data.len() - data.len() % self.block;
        platform::write_all_at(&self.file, &data[..aligned_len], offset)
            .map_err(|source| self.write_error(offset, source))?;
        if aligned_len < data.len() {
            self.write_partial_block(offset + aligned_len as u64, &data[aligned_len..])?;
        }
        Ok(())
    }

    /// Before the first byte: asks the gate, then cuts a file target's old
    /// contents (only the image's used ranges are written; the rest must
    /// read as zeros, not as what the file held).
    fn start_writing(&mut self) -> Result<(), TargetError> {
        if !self.before_first_write {
            return Ok(());
        }
        if !super::first_byte::may_write_first_byte() {
            return Err(TargetError::Open {
                path: self.path.clone(),
                source: io::Error::new(
                    io::ErrorKind::Interrupted,
                    "the run was interrupted before anything was written",
                ),
            });
        }
        if self.kind == TargetKind::File {
            self.file
                .set_len(0)
                .map_err(|source| self.write_error(0, source))?;
        }
        self.before_first_write = false;
        Ok(())
    }

    /// Read-modify-write of the sector holding the image's last bytes, so
    /// the rest of that sector keeps what the device had.
    fn write_partial_block(&mut self, offset: u64, tail: &[u8]) -> Result<(), TargetError> {
        let mut block = AlignedBuf::zeroed(self.block);
        platform::read_exact_at(&self.file, &mut block, offset)
            .map_err(|source| self.write_error(offset, source))?;
        block[..tail.len()].copy_from_slice(tail);
        platform::write_all_at(&self.file, &block, offset)
            .map_err(|source| self.write_error(offset, source))
    }

    fn write_error(&self, offset: u64, source: io::Error) -> TargetError {
        match platform::io_failure(&source) {
            IoFailure::ReadOnly | IoFailure::NotPermitted => TargetError::ReadOnly {
                path: self.path.clone(),
            },
            _ => TargetError::Write {
                path: self.path.clone(),
                target_kind: self.kind,
                offset,
                source,
            },
        }
    }

    /// Makes everything written durable; a file target is cut to the
    /// image's length.
    pub(crate) fn finish(&mut self, image_len: u64) -> Result<(), TargetError> {
        // An image with no used byte writes nothing: the file is cut here.
        self.start_writing()?;
        if self.kind == TargetKind::File {
            self.file
                .set_len(image_len)
                .map_err(|source| self.write_error(image_len, source))?;
        }
        self.file.sync_all().map_err(|source| TargetError::Sync {
            path: self.path.clone(),
            target_kind: self.kind,
            source,
        })
    }

    /// Reads `len` bytes at `offset` into `buf[..len]`. `buf` must have room
    /// for `len` rounded up to the sector size.
    pub(crate) fn read_at(
        &mut self,
        offset: u64,
        buf: &mut AlignedBuf,
        len: usize,
    ) -> Result<(), TargetError> {
        let rounded = len.div_ceil(self.block) * self.block;
        let read_len = match self.size_bytes {
            // Never read past the device's end (a file target is exactly
            // the image long, so it needs no rounding).
            Some(size) => rounded.min(size.saturating_sub(offset) as usize).max(len),
            None => len,
        };
        platform::read_exact_at(&self.file, &mut buf[..read_len], offset).map_err(|source| {
            TargetError::Read {
                path: self.path.clone(),
                target_kind: self.kind,
                offset,
                source,
            }
        })
    }
}

/// Opens a file target and locks it for the whole run (the lock goes with
/// the open file), so that two runs never write one file. The old contents
/// are cut at the first write ([`TargetFile::write_at`]), once the lock is
/// held: a run that is refused or interrupted first leaves them alone.
fn open_file_locked(path: &Path) -> Result<File, TargetError> {
    let open_error = |source| TargetError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .write(true)
        .read(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(open_error)?;
    if !platform::lock_file(&file, platform::FileLock::Exclusive).map_err(open_error)? {
        return Err(TargetError::Locked {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

/// Unmounts every mounted partition of a non-system drive, so that it can be
/// opened exclusively and nothing writes to it behind our back.
fn unmount_all(path: &Path) -> Result<(), TargetError> {
    let mounts = platform::mounts_of(path).map_err(|source| TargetError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    for mount in mounts {
        platform::unmount(&mount.mount_point).map_err(|source| TargetError::Unmount {
            path: path.to_path_buf(),
            mount_point: mount.mount_point.clone(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "io_tests.rs"]
mod tests;

//! Writing a target and reading it back: aligned O_DIRECT I/O on block
//! devices, plain I/O on files. An image whose length is not a multiple of
//! the sector size is written exactly: the last sector is read, patched and
//! written back, so the bytes after the image keep their old contents.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{AlignedBuf, TargetInfo, TargetKind};
use crate::platform;

/// Why writing or reading a target failed. Every variant names the target;
/// offsets are byte offsets in the image (= on the target).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
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
    #[error("{path} is in use by another program or still mounted; close it and try again")]
    Busy { path: PathBuf },
    #[error("cannot open {path} for writing: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "writing {path} failed at byte {offset}: {source}; the drive may have been removed or be failing, try another drive or port"
    )]
    Write {
        path: PathBuf,
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error(
        "reading {path} back failed at byte {offset}: {source}; the drive may have been removed or be failing"
    )]
    Read {
        path: PathBuf,
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error("flushing {path} failed: {source}; the data may not all have reached the drive")]
    Sync {
        path: PathBuf,
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

impl TargetError {
    /// The byte offset the error happened at, when one applies.
    pub fn offset(&self) -> Option<u64> {
        match self {
            TargetError::Write { offset, .. }
            | TargetError::Read { offset, .. }
            | TargetError::TooSmall { offset, .. } => Some(*offset),
            _ => None,
        }
    }
}

/// An open target: where the writer writes and the verifier reads.
pub struct TargetFile {
    file: File,
    path: PathBuf,
    kind: TargetKind,
    /// O_DIRECT granularity; 1 for files.
    block: usize,
    size_bytes: Option<u64>,
}

impl TargetFile {
    /// Opens a checked target for writing. A block device's mounted
    /// partitions are unmounted first, then it is opened exclusively.
    pub fn open_for_write(info: &TargetInfo) -> Result<TargetFile, TargetError> {
        let path = info.path.clone();
        if info.read_only {
            return Err(TargetError::ReadOnly { path });
        }
        let file = match info.kind {
            TargetKind::BlockDevice => {
                unmount_all(&path)?;
                platform::open_block_device_exclusive(&path).map_err(|source| {
                    match source.raw_os_error() {
                        Some(libc::EBUSY) => TargetError::Busy { path: path.clone() },
                        Some(libc::EROFS) | Some(libc::EACCES) if info.read_only => {
                            TargetError::ReadOnly { path: path.clone() }
                        }
                        _ => TargetError::Open {
                            path: path.clone(),
                            source,
                        },
                    }
                })?
            }
            TargetKind::File => OpenOptions::new()
                .write(true)
                .read(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .map_err(|source| TargetError::Open {
                    path: path.clone(),
                    source,
                })?,
        };
        Ok(TargetFile::new(file, info))
    }

    /// Opens a target to read it back, bypassing the page cache.
    pub fn open_for_read(info: &TargetInfo) -> Result<TargetFile, TargetError> {
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
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `data` at `offset`. `data` lives in an [`AlignedBuf`] and
    /// `offset` is a multiple of the sector size; only the image's last
    /// write may end off a sector boundary.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), TargetError> {
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
        let aligned_len = data.len() - data.len() % self.block;
        self.file
            .write_all_at(&data[..aligned_len], offset)
            .map_err(|source| self.write_error(offset, source))?;
        if aligned_len < data.len() {
            self.write_partial_block(offset + aligned_len as u64, &data[aligned_len..])?;
        }
        Ok(())
    }

    /// Read-modify-write of the sector holding the image's last bytes, so
    /// the rest of that sector keeps what the device had.
    fn write_partial_block(&mut self, offset: u64, tail: &[u8]) -> Result<(), TargetError> {
        let mut block = AlignedBuf::zeroed(self.block);
        self.file
            .read_exact_at(&mut block, offset)
            .map_err(|source| self.write_error(offset, source))?;
        block[..tail.len()].copy_from_slice(tail);
        self.file
            .write_all_at(&block, offset)
            .map_err(|source| self.write_error(offset, source))
    }

    fn write_error(&self, offset: u64, source: io::Error) -> TargetError {
        match source.raw_os_error() {
            Some(libc::EROFS) | Some(libc::EPERM) => TargetError::ReadOnly {
                path: self.path.clone(),
            },
            _ => TargetError::Write {
                path: self.path.clone(),
                offset,
                source,
            },
        }
    }

    /// Makes everything written durable; a file target is cut to the
    /// image's length.
    pub fn finish(&mut self, image_len: u64) -> Result<(), TargetError> {
        if self.kind == TargetKind::File {
            self.file
                .set_len(image_len)
                .map_err(|source| self.write_error(image_len, source))?;
        }
        self.file.sync_all().map_err(|source| TargetError::Sync {
            path: self.path.clone(),
            source,
        })
    }

    /// Reads `len` bytes at `offset` into `buf[..len]`. `buf` must have room
    /// for `len` rounded up to the sector size.
    pub fn read_at(
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
        self.file
            .read_exact_at(&mut buf[..read_len], offset)
            .map_err(|source| TargetError::Read {
                path: self.path.clone(),
                offset,
                source,
            })
    }
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

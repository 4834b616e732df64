//! `imprint backup`: a drive (or a partition, a loop device, an image file)
//! saved as an image reading only its used bytes (docs/architecture.md §2,
//! "Only used bytes", and §13).
//!
//! ```text
//! Source::open (read-only, O_EXCL, not mounted)
//!   ─▶ map::device::map_device (tables, ext bitmaps, FAT: metadata only)
//!   ─▶ read/backup-read thread (used ranges, O_DIRECT, 4 MiB pieces)
//!   ─▶ this thread: zeros for the free space ─▶ backup-hash thread (image
//!      SHA-256, bmap digests) and ImageSink (zstd/xz/gzip, or a sparse raw file) ─▶ FILE, FILE.bmap, FILE.sha256
//! ```
//!
//! Everything that can be refused is refused by [`prepare`] before the
//! output exists (exit 2); a failure after that removes every file the
//! backup created (exit 1).

mod digests;
mod output;
mod read;
mod sink;
mod source;
mod storage;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::hex::hex;
use crate::humanize;
use crate::map::device::{DeviceMap, map_device};
use crate::map::total;
use crate::platform::{self, IoFailure};
use crate::target::AlignedBuf;
use digests::Digests;
pub(crate) use output::Compression;
use output::Outputs;
use sink::ImageSink;
use source::Source;

/// Why a backup was refused or failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BackupError {
    /// Refused before anything was written (exit 2).
    #[error("{0}")]
    Refused(String),
    /// The source could not be read (exit 1).
    #[error(
        "reading {} failed at byte {offset}: {cause}; the drive may be failing or was removed, and the partial backup was removed",
        path.display()
    )]
    Read {
        path: PathBuf,
        offset: u64,
        cause: io::Error,
    },
    /// An output file could not be written (exit 1).
    #[error("writing {} failed: {cause}{hint}; the partial backup was removed", path.display())]
    Write {
        path: PathBuf,
        cause: io::Error,
        hint: &'static str,
    },
    /// Interrupted (exit 1).
    #[error("interrupted; the partial backup was removed")]
    Cancelled,
}

impl BackupError {
    /// Whether nothing was written (exit 2).
    pub(crate) fn is_refusal(&self) -> bool {
        matches!(self, BackupError::Refused(_))
    }

    /// The byte of the source where it failed, when one applies.
    pub(crate) fn offset(&self) -> Option<u64> {
        match self {
            BackupError::Read { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    fn write(path: &Path, cause: io::Error) -> BackupError {
        let hint = match platform::io_failure(&cause) {
            IoFailure::NoSpace => " (its filesystem is full)",
            IoFailure::QuotaExceeded => " (your disk quota is used up)",
            IoFailure::FileTooLarge => " (too large for its filesystem: try .img.zst)",
            _ => "",
        };
        BackupError::Write {
            path: path.to_owned(),
            cause,
            hint,
        }
    }
}

/// A backup ready to run: every check passed, the map made.
pub(crate) struct Backup {
    source: Arc<Source>,
    outputs: Outputs,
    pub(crate) compression: Compression,
    pub(crate) map: DeviceMap,
    /// What the user should know: each partition's filesystem, what is
    /// copied whole and why, a possibly short output disk.
    pub(crate) notes: Vec<String>,
}

/// A finished backup.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    /// The image's (decompressed) SHA-256, as `imprint hash` prints it.
    pub(crate) image_sha256: String,
    /// The output file's own SHA-256, recorded in `FILE.sha256`.
    pub(crate) file_sha256: String,
    pub(crate) image_bytes: u64,
    pub(crate) file_bytes: u64,
    /// Bytes read from the source: metadata and used ranges.
    pub(crate) read_bytes: u64,
    /// Of those, the metadata read to make the map (some of it read again
    /// as part of the used ranges).
    pub(crate) metadata_bytes: u64,
    pub(crate) elapsed: Duration,
    pub(crate) bmap: PathBuf,
    pub(crate) sha256_file: PathBuf,
}

/// Checks the output's name and place and the source, and maps the
/// source's used bytes.
pub(crate) fn prepare(source: &Path, output: &Path) -> Result<Backup, BackupError> {
    let compression = Compression::from_name(output).map_err(BackupError::Refused)?;
    let outputs = Outputs::plan(output).map_err(BackupError::Refused)?;
    let folder = storage::folder_of(output).map_err(BackupError::Refused)?;
    let opened = Source::open(source)?;
    storage::check_apart(source, &folder).map_err(BackupError::Refused)?;
    let mut buf = AlignedBuf::zeroed(8 << 20);
    let map = map_device(opened.size, |offset, bytes| {
        opened.read_into(offset, &mut buf, bytes.len())?;
        bytes.copy_from_slice(&buf[..bytes.len()]);
        Ok(())
    })
    .map_err(|cause| BackupError::Read {
        path: source.to_owned(),
        offset: 0,
        cause,
    })?;
    let mut notes = storage::describe(&map, opened.size);
    let used = total(&map.used);
    if let Ok(free) = platform::free_space_bytes(&folder) {
        if compression == Compression::Raw && free < used {
            return Err(BackupError::Refused(format!(
                "{} has {} free, and the backup's used bytes take {}; free some space or choose another place",
                folder.display(),
                humanize::bytes(free),
                humanize::bytes(used)
            )));
        }
        if free < used {
            notes.push(format!(
                "{} has {} free, less than the {} used: the backup fits only if they compress",
                folder.display(),
                humanize::bytes(free),
                humanize::bytes(used)
            ));
        }
    }
    Ok(Backup {
        source: Arc::new(opened),
        outputs,
        compression,
        map,
        notes,
    })
}

impl Backup {
    /// The source's length: the image's.
    pub(crate) fn size(&self) -> u64 {
        self.source.size
    }

    /// Bytes the run will read (the used ranges).
    pub(crate) fn to_read(&self) -> u64 {
        total(&self.map.used)
    }

    pub(crate) fn output(&self) -> &Path {
        &self.outputs.image
    }

    /// Reads the used ranges and writes the files; `progress` gets the
    /// bytes read so far. On failure every created file is removed.
    pub(crate) fn run(
        mut self,
        cancel: Arc<AtomicBool>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Finished, BackupError> {
        let started = Instant::now();
        let size = self.source.size;
        let image_path = self.outputs.image.clone();
        let file = self
            .outputs
            .create(&image_path)
            .map_err(|e| BackupError::write(&image_path, e))?;
        let mut sink = ImageSink::new(self.compression, file, size)
            .map_err(|e| BackupError::write(&image_path, e))?;
        let digests =
            Digests::start(size, &self.map.used).map_err(|e| BackupError::write(&image_path, e))?;
        let (pieces, reader) =
            read::spawn(self.source.clone(), self.map.used.clone(), cancel.clone())
                .map_err(|e| BackupError::write(&image_path, e))?;
        let mut position = 0u64;
        let mut read_bytes = 0u64;
        let write_err = |e| BackupError::write(&image_path, e);
        for item in pieces.iter() {
            let piece = Arc::new(item.map_err(|f| BackupError::Read {
                path: self.source.path.clone(),
                offset: f.offset,
                cause: f.cause,
            })?);
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let gap = piece.offset - position;
            digests.zeros(gap);
            sink.zeros(gap).map_err(write_err)?;
            digests.piece(piece.clone());
            sink.data(piece.offset, &piece.buf[..piece.len])
                .map_err(write_err)?;
            position = piece.offset + piece.len as u64;
            read_bytes += piece.len as u64;
            progress(read_bytes);
        }
        let _ = reader.join();
        if cancel.load(Ordering::Relaxed) {
            return Err(BackupError::Cancelled);
        }
        digests.zeros(size - position);
        sink.zeros(size - position).map_err(write_err)?;
        let finished = sink.finish(size).map_err(write_err)?;
        let (image_sha256, xml) = digests.finish();
        let (file_sha256, file_bytes) = match finished {
            Some((digest, len)) => (hex(&digest), len),
            None => (image_sha256.clone(), size),
        };
        let xml = xml.ok_or_else(|| BackupError::Read {
            path: self.source.path.clone(),
            offset: position,
            cause: io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the used ranges were not all read",
            ),
        })?;
        self.write_beside(&xml, &file_sha256)?;
        self.outputs.keep();
        Ok(Finished {
            image_sha256,
            file_sha256,
            image_bytes: size,
            file_bytes,
            read_bytes: read_bytes + self.map.metadata_read,
            metadata_bytes: self.map.metadata_read,
            elapsed: started.elapsed(),
            bmap: self.outputs.bmap.clone(),
            sha256_file: self.outputs.sha256.clone(),
        })
    }

    /// `FILE.bmap` and `FILE.sha256` (sha256sum's format: `sha256sum -c`
    /// checks the file beside it).
    fn write_beside(&mut self, bmap: &str, file_sha256: &str) -> Result<(), BackupError> {
        let name = self
            .outputs
            .image
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let line = format!("{file_sha256}  {name}\n");
        for (path, text) in [
            (self.outputs.bmap.clone(), bmap),
            (self.outputs.sha256.clone(), line.as_str()),
        ] {
            let written = self.outputs.create(&path).and_then(|mut file| {
                io::Write::write_all(&mut file, text.as_bytes())?;
                file.sync_all()
            });
            written.map_err(|e| BackupError::write(&path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

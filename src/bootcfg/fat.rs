//! Reading and writing files in an in-memory copy of a FAT partition with
//! `fatfs`. Nothing is mounted; the edited bytes are what gets streamed.
//!
//! Every timestamp written is a fixed date, so the same inputs always give
//! the same bytes. The FAT is untrusted input: `fatfs` validates the boot
//! sector, and any panic left in it is caught and reported as an error.

use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use fatfs::{Date, DateTime, FileSystem, FsOptions, Time, TimeProvider};

use super::dir_fix::fix_new_directory_parent_links;

/// The date written on every file and directory Imprint creates or changes.
const FIXED_DATE: Date = Date {
    year: 2020,
    month: 1,
    day: 1,
};
const FIXED_DATE_TIME: DateTime = DateTime {
    date: FIXED_DATE,
    time: Time {
        hour: 0,
        min: 0,
        sec: 0,
        millis: 0,
    },
};

#[derive(Debug)]
struct FixedTime;

impl TimeProvider for FixedTime {
    fn get_current_date(&self) -> Date {
        FIXED_DATE
    }

    fn get_current_date_time(&self) -> DateTime {
        FIXED_DATE_TIME
    }
}

static FIXED_TIME: FixedTime = FixedTime;

fn fs_options() -> FsOptions {
    FsOptions::new()
        .update_accessed_date(false)
        .time_provider(&FIXED_TIME)
}

/// Why an edit failed, before it is put in the context of a partition.
#[derive(Debug)]
pub(crate) enum FatEditError {
    /// The bytes are not a FAT filesystem `fatfs` can open.
    NotFat(io::Error),
    /// `file` does not fit: `free_bytes` were free before the edit.
    NoSpace {
        file: String,
        free_bytes: u64,
        source: io::Error,
    },
    Write {
        file: String,
        source: io::Error,
    },
}

/// A file to write: a path from the root (`dir/name` at most one level
/// deep), and its contents.
pub(crate) struct FileToWrite<'a> {
    pub path: &'a str,
    pub contents: &'a [u8],
}

/// Writes `files` into the FAT filesystem held in `partition` (create,
/// truncate, write), creating their directory when missing.
pub(crate) fn write_files(
    partition: &mut [u8],
    files: &[FileToWrite<'_>],
) -> Result<(), FatEditError> {
    // Keep a copy to find the directories fatfs creates, only when one may be.
    let creates_directory = files
        .iter()
        .filter_map(|f| f.path.split_once('/'))
        .any(|(dir, _)| !directory_exists(partition, dir));
    let before_edit = creates_directory.then(|| partition.to_vec());
    let result = catch_unwind(AssertUnwindSafe(|| write_files_unguarded(partition, files)));
    let result = result.unwrap_or_else(|_| {
        Err(FatEditError::NotFat(io::Error::new(
            io::ErrorKind::InvalidData,
            "the FAT filesystem is corrupt (fatfs gave up on it)",
        )))
    });
    result?;
    if let Some(before_edit) = before_edit {
        fix_new_directory_parent_links(&before_edit, partition).map_err(FatEditError::NotFat)?;
    }
    check_files_read_back(partition, files)
}

/// Reads every written file back. On a damaged FAT (a directory's cluster
/// marked free, found by fuzzing), fatfs can hand out a cluster that is
/// still in use and report success while the file's data overwrites its own
/// directory entry; the partition must then not be flashed as configured.
fn check_files_read_back(partition: &[u8], files: &[FileToWrite<'_>]) -> Result<(), FatEditError> {
    for file in files {
        if read_file(partition, file.path).ok().flatten().as_deref() != Some(file.contents) {
            return Err(FatEditError::Write {
                file: file.path.to_string(),
                source: io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the file reads back differently after writing: the FAT filesystem is \
                     damaged (clusters in use are marked free)",
                ),
            });
        }
    }
    Ok(())
}

/// Whether the root of the FAT in `partition` has a directory `name`.
fn directory_exists(partition: &[u8], name: &str) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        FileSystem::new(ReadOnly(Cursor::new(partition)), fs_options())
            .is_ok_and(|fs| fs.root_dir().open_dir(name).is_ok())
    }))
    .unwrap_or(false)
}

fn write_files_unguarded(
    partition: &mut [u8],
    files: &[FileToWrite<'_>],
) -> Result<(), FatEditError> {
    let fs = FileSystem::new(Cursor::new(partition), fs_options()).map_err(FatEditError::NotFat)?;
    let stats = fs.stats().map_err(FatEditError::NotFat)?;
    let free_bytes = u64::from(stats.free_clusters()) * u64::from(stats.cluster_size());
    for file in files {
        write_file(&fs, file).map_err(|source| {
            // fatfs reports a full volume (or a full FAT16 root directory)
            // as ErrorKind::Other with this message.
            if source.to_string().contains("No space left") {
                FatEditError::NoSpace {
                    file: file.path.to_string(),
                    free_bytes,
                    source,
                }
            } else {
                FatEditError::Write {
                    file: file.path.to_string(),
                    source,
                }
            }
        })?;
    }
    fs.unmount().map_err(|source| FatEditError::Write {
        file: "the FAT metadata".to_string(),
        source,
    })
}

fn write_file<T: fatfs::ReadWriteSeek>(
    fs: &FileSystem<T>,
    file: &FileToWrite<'_>,
) -> io::Result<()> {
    let root = fs.root_dir();
    let (dir, name) = match file.path.split_once('/') {
        Some((dir_name, name)) => {
            let dir = match root.open_dir(dir_name) {
                Ok(dir) => dir,
                Err(e) if e.kind() == io::ErrorKind::NotFound => root.create_dir(dir_name)?,
                Err(e) => return Err(e),
            };
            (dir, name)
        }
        None => (root, file.path),
    };
    let mut out = dir.create_file(name)?;
    out.truncate()?;
    out.write_all(file.contents)?;
    // Created, modified and accessed dates come from FIXED_TIME.
    out.flush()
}

/// Reads the file at `path` of the FAT filesystem held in `partition`;
/// `Ok(None)` when it has no such file.
pub(crate) fn read_file(partition: &[u8], path: &str) -> io::Result<Option<Vec<u8>>> {
    let result = catch_unwind(AssertUnwindSafe(|| -> io::Result<Option<Vec<u8>>> {
        let fs = FileSystem::new(ReadOnly(Cursor::new(partition)), fs_options())?;
        let mut file = match fs.root_dir().open_file(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut contents = Vec::new();
        file.read_to_end(&mut contents)?;
        Ok(Some(contents))
    }));
    result.unwrap_or_else(|_| {
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the FAT filesystem is corrupt (fatfs gave up on it)",
        ))
    })
}

/// The volume label in the root directory of the FAT held in `partition`
/// (some formatters leave the boot sector's label as `NO NAME`).
pub(crate) fn root_dir_label(partition: &[u8]) -> Option<String> {
    catch_unwind(AssertUnwindSafe(|| {
        let fs = FileSystem::new(ReadOnly(Cursor::new(partition)), fs_options()).ok()?;
        let label = fs.read_volume_label_from_root_dir().ok()??;
        let label = label.trim_end().to_string();
        (!label.is_empty()).then_some(label)
    }))
    .ok()
    .flatten()
}

/// A reader that refuses writes, so that reading a file can never change
/// the partition.
struct ReadOnly<T>(T);

impl<T: Read> Read for ReadOnly<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<T: Seek> Seek for ReadOnly<T> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

impl<T> Write for ReadOnly<T> {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "read-only view of the partition",
        ))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FAT32 volume whose root directory cluster the FAT marks free, and
    /// whose FSInfo says allocation starts there.
    fn fat32_with_root_cluster_marked_free() -> Vec<u8> {
        let mut volume = vec![0u8; 33 << 20];
        fatfs::format_volume(
            Cursor::new(&mut volume[..]),
            fatfs::FormatVolumeOptions::new()
                .fat_type(fatfs::FatType::Fat32)
                .bytes_per_cluster(512),
        )
        .unwrap();
        let u16_at = |v: &[u8], at: usize| usize::from(u16::from_le_bytes([v[at], v[at + 1]]));
        let sector_len = u16_at(&volume, 11);
        let fat_start = u16_at(&volume, 14) * sector_len;
        let fat_len = u32::from_le_bytes(volume[36..40].try_into().unwrap()) as usize * sector_len;
        let root_cluster = u32::from_le_bytes(volume[44..48].try_into().unwrap()) as usize;
        for copy in 0..usize::from(volume[16]) {
            let entry = fat_start + copy * fat_len + root_cluster * 4;
            volume[entry..entry + 4].fill(0);
        }
        let fs_info = u16_at(&volume, 48) * sector_len;
        volume[fs_info + 492..fs_info + 496].copy_from_slice(&(root_cluster as u32).to_le_bytes());
        volume
    }

    #[test]
    fn a_write_that_does_not_read_back_is_an_error() {
        let mut volume = fat32_with_root_cluster_marked_free();
        let contents = [b'x'; 67];
        let files = [FileToWrite {
            path: "config.json",
            contents: &contents,
        }];
        match write_files(&mut volume, &files) {
            Err(FatEditError::Write { file, source }) => {
                assert_eq!(file, "config.json");
                assert!(source.to_string().contains("damaged"), "{source}");
            }
            Err(other) => panic!("unexpected error {other:?}"),
            Ok(()) => panic!(
                "reported written, reads back as {:?}",
                read_file(&volume, "config.json").map(|c| c.map(|c| c.len()))
            ),
        }
    }

    #[test]
    fn written_files_read_back() {
        let mut volume = vec![0u8; 1 << 20];
        fatfs::format_volume(
            Cursor::new(&mut volume[..]),
            fatfs::FormatVolumeOptions::new(),
        )
        .unwrap();
        let files = [
            FileToWrite {
                path: "config.json",
                contents: b"{}",
            },
            FileToWrite {
                path: "system-connections/wifi",
                contents: b"[wifi]",
            },
        ];
        write_files(&mut volume, &files).unwrap();
        assert_eq!(read_file(&volume, "config.json").unwrap().unwrap(), b"{}");
    }
}

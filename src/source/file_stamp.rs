//! Whether an image file was changed on disk since it was opened.
//!
//! A raw image is read again from its file by a target that fell behind
//! (the spool's `pread`s; a station re-reads it for every drive that comes
//! late). Bytes written into the file meanwhile are another image: every
//! later drive would fail its verification, each blamed for it. The file's
//! length and modification time, taken when it was opened and looked at
//! again after each such read, tell the image's fault instead — one reason
//! for every drive.

use std::fs::File;
use std::io;
use std::path::Path;
use std::time::SystemTime;

/// A regular file's length and modification time when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileStamp {
    len: u64,
    modified: SystemTime,
}

/// The words of every "changed on disk" error, so that callers can tell it.
pub const IMAGE_CHANGED: &str = "was changed on disk while it was being flashed";

impl FileStamp {
    /// The stamp of `file` now; `None` for a device (no such times) or
    /// when the system does not say.
    pub(super) fn of(file: &File) -> Option<FileStamp> {
        let metadata = file.metadata().ok()?;
        if !metadata.is_file() {
            return None;
        }
        Some(FileStamp {
            len: metadata.len(),
            modified: metadata.modified().ok()?,
        })
    }

    /// An error naming `path` unless `file` still has this stamp.
    pub(super) fn check(&self, file: &File, path: &Path) -> io::Result<()> {
        match FileStamp::of(file) {
            Some(now) if now == *self => Ok(()),
            _ => Err(io::Error::other(format!(
                "the image file {} {IMAGE_CHANGED} (its length or modification time is not \
                 what it was when it was opened), so what is read from it now is another \
                 image; no drive can be finished from it: start again with the image as it \
                 is now",
                path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    #[test]
    fn a_write_or_a_new_time_is_a_change_and_reading_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("os.img");
        std::fs::write(&path, [1u8; 8192]).unwrap();
        let file = File::open(&path).unwrap();
        let stamp = FileStamp::of(&file).unwrap();
        std::fs::read(&path).unwrap();
        stamp.check(&file, &path).unwrap();
        // The same length, another time: as `cp` over it leaves it.
        let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        (&writer).write_all(&[2u8; 4096]).unwrap();
        writer
            .set_modified(SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        let error = stamp.check(&file, &path).unwrap_err().to_string();
        assert!(
            error.contains(IMAGE_CHANGED) && error.contains("os.img"),
            "{error}"
        );
    }
}

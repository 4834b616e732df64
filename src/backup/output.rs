//! The backup's files: the image (compressed as its name says, or a sparse
//! raw file), `FILE.bmap` and `FILE.sha256`. They are created as the user
//! (`platform::open_as_user`: under pkexec the helper never writes where
//! the user could not), and removed again unless the backup completes: a
//! partial image is never left behind under a name that promises a whole
//! one. A name ending in a compression the backup does not write is refused
//! rather than written raw.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::platform::{self, UserOpen};

/// How the image is stored, chosen by the output's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// `.zst`: multi-threaded zstd (level 3), the default suggestion.
    Zstd,
    /// `.xz`: multi-threaded liblzma (preset 6).
    Xz,
    /// `.gz`: gzip (zlib-rs, level 6).
    Gzip,
    /// `.img` (or `.raw`, `.bin`): the image itself, free space as holes.
    Raw,
}

impl Compression {
    /// The compression the name `path` asks for; a refusal says which
    /// names work.
    pub(crate) fn from_name(path: &Path) -> Result<Compression, String> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let ends = |suffix: &str| name.len() > suffix.len() && name.ends_with(suffix);
        if ends(".zst") {
            Ok(Compression::Zstd)
        } else if ends(".xz") {
            Ok(Compression::Xz)
        } else if ends(".gz") {
            Ok(Compression::Gzip)
        } else if ends(".img") || ends(".raw") || ends(".bin") {
            Ok(Compression::Raw)
        } else {
            Err(format!(
                "{}: the name says which format to write, and this one is not one the backup writes; end it in .img.zst (zstd), .img.xz, .img.gz or .img (raw, sparse)",
                path.display()
            ))
        }
    }

    /// The format's name in messages and `--json` (`start.format`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
            Compression::Gzip => "gzip",
            Compression::Raw => "raw",
        }
    }
}

/// The backup's three files; every one of them that exists is removed
/// when this is dropped before [`Outputs::keep`].
pub(crate) struct Outputs {
    pub(crate) image: PathBuf,
    pub(crate) bmap: PathBuf,
    pub(crate) sha256: PathBuf,
    created: Vec<PathBuf>,
    kept: bool,
}

impl Outputs {
    /// The names for an image at `image`; refuses when one exists already
    /// (a backup never overwrites a file).
    pub(crate) fn plan(image: &Path) -> Result<Outputs, String> {
        let with = |suffix: &str| {
            let mut name = image.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        let outputs = Outputs {
            image: image.to_owned(),
            bmap: with(".bmap"),
            sha256: with(".sha256"),
            created: Vec::new(),
            kept: false,
        };
        for path in [&outputs.image, &outputs.bmap, &outputs.sha256] {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(format!(
                    "{} already exists; a backup never overwrites a file: remove it or choose another name",
                    path.display()
                ));
            }
        }
        Ok(outputs)
    }

    /// Creates `path` (one of ours) as the user, remembered for removal.
    pub(crate) fn create(&mut self, path: &Path) -> io::Result<File> {
        let file = platform::open_as_user(path, UserOpen::Create)?;
        self.created.push(path.to_owned());
        Ok(file)
    }

    /// The backup is complete: its files stay.
    pub(crate) fn keep(&mut self) {
        self.kept = true;
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        for path in &self.created {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A file that hashes what is written to it (the compressed file's
/// SHA-256, which `FILE.sha256` records for `sha256sum -c`).
pub(crate) struct HashingFile {
    file: BufWriter<File>,
    hasher: Sha256,
    pub(crate) written: u64,
}

impl HashingFile {
    pub(crate) fn new(file: File) -> HashingFile {
        HashingFile {
            file: BufWriter::with_capacity(4 << 20, file),
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// Flushes and syncs the file; its SHA-256 and length.
    pub(crate) fn finish(self) -> io::Result<([u8; 32], u64)> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((self.hasher.finalize().into(), self.written))
    }
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

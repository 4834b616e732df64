//! Image sources: open an image file, detect its format by content (never by
//! name), and stream the decompressed disk image.
//!
//! Formats: raw, xz (multi-threaded decoder), gzip (multi-member), zstd
//! (multi-frame), bzip2 and zip (the one disk image inside). Decompression is
//! always a stream: nothing is unpacked to a temporary file.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The container or compression format of an image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Raw,
    Xz,
    Gzip,
    Zstd,
    Bzip2,
    Zip,
}

impl ImageFormat {
    /// The short lower-case name used in events and on screen (`"xz"`).
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Raw => "raw",
            ImageFormat::Xz => "xz",
            ImageFormat::Gzip => "gzip",
            ImageFormat::Zstd => "zstd",
            ImageFormat::Bzip2 => "bzip2",
            ImageFormat::Zip => "zip",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an image could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot open image {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read zip archive {path}: {message}")]
    Zip { path: PathBuf, message: String },
    #[error(
        "no disk image in archive {path} (looked for .img, .iso, .raw, .bin, .dsk, .wic, .sdcard, .hddimg, .rpi-sdimg)"
    )]
    NoImageInArchive { path: PathBuf },
    #[error("more than one disk image in archive {path}: {}", names.join(", "))]
    SeveralImagesInArchive { path: PathBuf, names: Vec<String> },
    #[error("unsupported compression method in zip archive {path}: {method}")]
    UnsupportedZipMethod { path: PathBuf, method: String },
}

/// An opened image: its format and what is known of its size. Cheap to keep;
/// [`ImageSource::stream`] opens a fresh decompressing reader each time.
#[derive(Debug, Clone)]
pub struct ImageSource {
    path: PathBuf,
    format: ImageFormat,
    file_size: u64,
    size_hint: Option<u64>,
    entry_name: Option<String>,
}

impl ImageSource {
    /// Opens `path`, sniffs its format from the first bytes and reads the
    /// size hint where the format has one.
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let _ = path;
        unimplemented!("source::ImageSource::open")
    }

    /// The image file as the user named it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// Size of the file on disk (compressed size for compressed images).
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Size of the decompressed disk image, when the format says it
    /// (raw file size, xz index, zip entry size, zstd frame header).
    pub fn size_hint(&self) -> Option<u64> {
        self.size_hint
    }

    /// For a zip archive, the name of the disk image chosen inside it.
    pub fn entry_name(&self) -> Option<&str> {
        self.entry_name.as_deref()
    }

    /// A new reader of the decompressed image, from its first byte.
    pub fn stream(&self) -> Result<Box<dyn Read + Send>, SourceError> {
        unimplemented!("source::ImageSource::stream")
    }
}

//! Image sources: open an image file, detect its format by content (never by
//! name), and stream the decompressed disk image.
//!
//! Formats: raw, xz (multi-threaded decoder), gzip (multi-member), zstd
//! (multi-frame), bzip2 and zip (the one disk image inside). Decompression is
//! always a stream: nothing is unpacked to a temporary file.

pub(crate) mod archive;
mod decode_errors;
pub(crate) mod sniff;
mod xz;
pub(crate) mod xz_index;
pub(crate) mod zstd_frames;

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

pub use archive::DISK_IMAGE_EXTENSIONS;
use archive::ZipEntry;
use decode_errors::DecodeErrors;
use sniff::{SNIFF_LEN_BYTES, sniff};

/// Capacity of the buffered file reader under every decoder. Decoders ask for
/// small pieces; without a large buffer each would be a system call, and on
/// fast media the small reads dominate.
pub const READ_BUFFER_BYTES: usize = 1 << 20;

/// zstd files made with `--long=31` need a 2 GiB window; the library default
/// (128 MiB) would reject them.
const ZSTD_MAX_WINDOW_LOG: u32 = 31;

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
    #[error("cannot read image {path} at byte {offset}: {source}")]
    Read {
        path: PathBuf,
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error("cannot read zip archive {path}: {source}; is the download complete?")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error(
        "no disk image in archive {path} (looked for .{}); extract it and choose the image \
         file instead",
        DISK_IMAGE_EXTENSIONS.join(", .")
    )]
    NoImageInArchive { path: PathBuf },
    #[error(
        "more than one disk image in archive {path}: {}; extract it and choose one image file",
        names.join(", ")
    )]
    SeveralImagesInArchive { path: PathBuf, names: Vec<String> },
    #[error(
        "unsupported compression method in zip archive {path}: {method}; extract the image \
         with another tool and choose the image file instead"
    )]
    UnsupportedZipMethod { path: PathBuf, method: String },
    #[error("the disk image {name} in zip archive {path} is encrypted; extract it first")]
    EncryptedZipEntry { path: PathBuf, name: String },
    #[error("cannot start the xz decoder for {path}: {source}")]
    XzDecoder {
        path: PathBuf,
        #[source]
        source: liblzma::stream::Error,
    },
    #[error("cannot start the zstd decoder for {path}: {source}")]
    ZstdDecoder {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
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
    /// For a zip archive: where the chosen image lies in it.
    zip_entry: Option<ZipEntry>,
}

impl ImageSource {
    /// Opens `path`, sniffs its format from the first bytes and reads the
    /// size hint where the format has one.
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let open_error = |source| SourceError::Open {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(open_error)?;
        let file_size = file.metadata().map_err(open_error)?.len();
        let head = read_head(&mut file).map_err(|source| SourceError::Read {
            path: path.to_owned(),
            offset: 0,
            source,
        })?;
        let format = sniff(&head);
        let mut source = Self {
            path: path.to_owned(),
            format,
            file_size,
            size_hint: None,
            entry_name: None,
            zip_entry: None,
        };
        match format {
            ImageFormat::Raw => source.size_hint = Some(file_size),
            ImageFormat::Xz => source.size_hint = xz_index::uncompressed_size(&mut file, file_size),
            ImageFormat::Zstd => {
                source.size_hint = zstd_frames::content_size(&mut file, file_size);
            }
            // Neither format records the decompressed size (gzip's ISIZE is
            // modulo 4 GiB and per member, so it would mislead).
            ImageFormat::Gzip | ImageFormat::Bzip2 => {}
            ImageFormat::Zip => {
                let entry = archive::find_image_entry(path, file)?;
                source.size_hint = Some(entry.uncompressed_len_bytes);
                source.entry_name = Some(entry.name.clone());
                source.zip_entry = Some(entry);
            }
        }
        Ok(source)
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
    ///
    /// Errors while reading are `io::Error`s whose message says what is wrong
    /// with the data ("corrupt xz data", "unexpected end of gzip data"); the
    /// caller adds the path and offset.
    pub fn stream(&self) -> Result<Box<dyn Read + Send>, SourceError> {
        if let Some(entry) = &self.zip_entry {
            return archive::open_entry(&self.path, entry);
        }
        let file = File::open(&self.path).map_err(|source| SourceError::Open {
            path: self.path.clone(),
            source,
        })?;
        let input = BufReader::with_capacity(READ_BUFFER_BYTES, file);
        Ok(match self.format {
            ImageFormat::Raw => Box::new(input),
            ImageFormat::Xz => Box::new(
                xz::XzReader::new(input, xz::default_thread_count()).map_err(|source| {
                    SourceError::XzDecoder {
                        path: self.path.clone(),
                        source,
                    }
                })?,
            ),
            ImageFormat::Gzip => Box::new(DecodeErrors::new(
                flate2::bufread::MultiGzDecoder::new(input),
                ImageFormat::Gzip,
            )),
            ImageFormat::Bzip2 => Box::new(DecodeErrors::new(
                bzip2::bufread::MultiBzDecoder::new(input),
                ImageFormat::Bzip2,
            )),
            ImageFormat::Zstd => {
                let zstd_error = |source| SourceError::ZstdDecoder {
                    path: self.path.clone(),
                    source,
                };
                let mut decoder =
                    zstd::stream::read::Decoder::with_buffer(input).map_err(zstd_error)?;
                decoder
                    .window_log_max(ZSTD_MAX_WINDOW_LOG)
                    .map_err(zstd_error)?;
                Box::new(DecodeErrors::new(decoder, ImageFormat::Zstd))
            }
            ImageFormat::Zip => {
                // `open` always records the entry of a zip archive.
                return Err(SourceError::NoImageInArchive {
                    path: self.path.clone(),
                });
            }
        })
    }
}

/// The first bytes of `file` (fewer if the file is shorter), for sniffing.
fn read_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN_BYTES);
    file.by_ref()
        .take(SNIFF_LEN_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

//! Image sources: open an image file, detect its format by content (never by
//! name), and stream the decompressed disk image.
//!
//! Formats: raw, xz (multi-threaded decoder), gzip (multi-member), zstd
//! (multi-frame), bzip2 and zip (the one disk image inside). Decompression is
//! always a stream: nothing is unpacked to a temporary file.

mod archive;
mod decode_errors;
mod input;
mod sniff;
mod xz;
mod xz_index;
mod zstd_frames;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub use archive::DISK_IMAGE_EXTENSIONS;
use archive::ZipEntry;
use decode_errors::DecodeErrors;
use input::{Input, PositionalReader};
pub use input::{InputKind, STDIN_NAME};
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
    /// Every format Imprint reads.
    pub const ALL: [ImageFormat; 6] = [
        ImageFormat::Raw,
        ImageFormat::Xz,
        ImageFormat::Gzip,
        ImageFormat::Zstd,
        ImageFormat::Bzip2,
        ImageFormat::Zip,
    ];

    /// The endings files of this format usually have (without the dot).
    /// Only for naming things: the format is always detected by content.
    pub fn file_extensions(self) -> &'static [&'static str] {
        match self {
            ImageFormat::Raw => &[],
            ImageFormat::Xz => &["xz"],
            ImageFormat::Gzip => &["gz"],
            ImageFormat::Zstd => &["zst", "zstd"],
            ImageFormat::Bzip2 => &["bz2"],
            ImageFormat::Zip => &["zip"],
        }
    }

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
    #[error("cannot open image {path}: {cause}")]
    Open { path: PathBuf, cause: io::Error },
    #[error("cannot read image {path} at byte {offset}: {cause}")]
    Read {
        path: PathBuf,
        offset: u64,
        cause: io::Error,
    },
    #[error("cannot read zip archive {path}: {cause}; is the download complete?")]
    Zip {
        path: PathBuf,
        cause: zip::result::ZipError,
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
    #[error("{path} is not an image: {why}")]
    NotAnImage { path: PathBuf, why: String },
    #[error(
        "{path} is a zip archive read from a pipe: a zip archive's table of contents is at its \
         end, so it must be a file; save it first, or pipe the image inside it (`unzip -p`)"
    )]
    ZipFromStream { path: PathBuf },
    #[error("{path} is a stream and was read already; it can be read only once")]
    StreamAlreadyRead { path: PathBuf },
    #[error("cannot start the xz decoder for {path}: {cause}")]
    XzDecoder {
        path: PathBuf,
        cause: liblzma::stream::Error,
    },
    #[error("cannot start the zstd decoder for {path}: {cause}")]
    ZstdDecoder { path: PathBuf, cause: io::Error },
}

/// An opened image: its format and what is known of its size. Cheap to
/// clone: clones share the one open input.
#[derive(Debug, Clone)]
pub struct ImageSource {
    path: PathBuf,
    format: ImageFormat,
    input_kind: InputKind,
    file_size: Option<u64>,
    size_hint: Option<u64>,
    entry_name: Option<String>,
    reading: Arc<Reading>,
}

/// How the decompressed image is read.
#[derive(Debug)]
enum Reading {
    /// A regular file or block device: every reader starts afresh at byte 0
    /// of the one open handle.
    Seekable {
        file: Arc<File>,
        len: u64,
        /// For a zip archive: where the chosen image lies in it.
        zip_entry: Option<ZipEntry>,
    },
    /// A pipe, FIFO or standard input, decoded once.
    Stream {
        state: Mutex<StreamState>,
        interrupt: Arc<AtomicBool>,
    },
}

/// The one decoder of a stream, and the decoded bytes probes have seen.
struct StreamState {
    decoder: Option<Box<dyn Read + Send>>,
    /// Decoded bytes from offset 0 that [`ImageSource::probe`] readers have
    /// read: the next reader gets them again before the decoder goes on.
    head: Vec<u8>,
}

impl fmt::Debug for StreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamState")
            .field("taken", &self.decoder.is_none())
            .field("head_bytes", &self.head.len())
            .finish()
    }
}

impl ImageSource {
    /// Opens `path` once (`-` is standard input), sniffs its format from the
    /// first bytes and reads the size hint where the format has one.
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let read_error = |source| SourceError::Read {
            path: path.to_owned(),
            offset: 0,
            cause: source,
        };
        let input = Input::open(path)?;
        let input_kind = input.kind();
        let source = match input {
            Input::Seekable { file, len, .. } => {
                let mut reader = PositionalReader::new(file.clone(), len);
                let head = read_head(&mut reader).map_err(read_error)?;
                let format = sniff(&head);
                let mut size_hint = None;
                let mut entry_name = None;
                let mut zip_entry = None;
                match format {
                    ImageFormat::Raw => size_hint = Some(len),
                    ImageFormat::Xz => size_hint = xz_index::uncompressed_size(&mut reader, len),
                    ImageFormat::Zstd => {
                        size_hint = zstd_frames::content_size(&mut reader, len);
                    }
                    // Neither format records the decompressed size (gzip's
                    // ISIZE is modulo 4 GiB and per member, so it would
                    // mislead).
                    ImageFormat::Gzip | ImageFormat::Bzip2 => {}
                    ImageFormat::Zip => {
                        let entry = archive::find_image_entry(path, reader)?;
                        size_hint = Some(entry.uncompressed_len_bytes);
                        entry_name = Some(entry.name.clone());
                        zip_entry = Some(entry);
                    }
                }
                ImageSource {
                    path: path.to_owned(),
                    format,
                    input_kind,
                    file_size: Some(len),
                    size_hint,
                    entry_name,
                    reading: Arc::new(Reading::Seekable {
                        file,
                        len,
                        zip_entry,
                    }),
                }
            }
            Input::Stream(mut stream) => {
                let interrupt = stream.interrupt_handle();
                let head = read_head(&mut stream).map_err(read_error)?;
                if head.is_empty() {
                    return Err(SourceError::NotAnImage {
                        path: path.to_owned(),
                        why: "it is empty".to_string(),
                    });
                }
                let format = sniff(&head);
                if format == ImageFormat::Zip {
                    return Err(SourceError::ZipFromStream {
                        path: path.to_owned(),
                    });
                }
                let input = BufReader::with_capacity(
                    READ_BUFFER_BYTES,
                    io::Cursor::new(head.clone()).chain(stream),
                );
                let decoder = decoder(path, format, input)?;
                ImageSource {
                    path: path.to_owned(),
                    format,
                    input_kind,
                    file_size: None,
                    size_hint: None,
                    entry_name: None,
                    reading: Arc::new(Reading::Stream {
                        state: Mutex::new(StreamState {
                            decoder: Some(decoder),
                            head: Vec::new(),
                        }),
                        interrupt,
                    }),
                }
            }
        };
        if source.size_hint == Some(0) || (source.file_size == Some(0)) {
            return Err(SourceError::NotAnImage {
                path: path.to_owned(),
                why: "it is empty".to_string(),
            });
        }
        Ok(source)
    }

    /// The image as the user named it (`-` for standard input).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// Whether the image is a file, a block device or a stream.
    pub fn input_kind(&self) -> InputKind {
        self.input_kind
    }

    /// Size of the file or device (compressed size for compressed images);
    /// `None` for a stream.
    pub fn file_size(&self) -> Option<u64> {
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

    /// Makes every read of a stream that waits for data (now or later) fail
    /// at once: how Ctrl-C ends a run whose image comes from a stalled pipe.
    /// Files and devices are not affected.
    pub fn interrupt(&self) {
        if let Reading::Stream { interrupt, .. } = &*self.reading {
            interrupt.store(true, Ordering::Relaxed);
        }
    }

    /// The reader of the decompressed image from its first byte, for the
    /// run that writes or hashes it.
    ///
    /// A file or device gives a new reader each time. A stream can be read
    /// once: the first call takes it (after the bytes earlier probes read),
    /// later calls are an error.
    ///
    /// Errors while reading are `io::Error`s whose message says what is wrong
    /// with the data ("corrupt xz data", "unexpected end of gzip data"); the
    /// caller adds the path and offset.
    pub fn stream(&self) -> Result<Box<dyn Read + Send>, SourceError> {
        match &*self.reading {
            Reading::Seekable {
                file,
                len,
                zip_entry,
            } => {
                let reader = PositionalReader::new(file.clone(), *len);
                if let Some(entry) = zip_entry {
                    return archive::open_entry(&self.path, entry, reader);
                }
                let input = BufReader::with_capacity(READ_BUFFER_BYTES, reader);
                decoder(&self.path, self.format, input)
            }
            Reading::Stream { state, .. } => {
                let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                let decoder =
                    state
                        .decoder
                        .take()
                        .ok_or_else(|| SourceError::StreamAlreadyRead {
                            path: self.path.clone(),
                        })?;
                let head = std::mem::take(&mut state.head);
                Ok(Box::new(io::Cursor::new(head).chain(decoder)))
            }
        }
    }

    /// A reader of the decompressed image from its first byte, for looking
    /// at its start before the run (the partition table, the boot
    /// partition). Any number may be made. For a stream, the bytes a probe
    /// reads are kept in memory for the readers after it, up to
    /// `limit_bytes`: reading further is an error saying so.
    pub fn probe(&self, limit_bytes: u64) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        match &*self.reading {
            Reading::Seekable { .. } => self.stream(),
            Reading::Stream { state, .. } => {
                if state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .decoder
                    .is_none()
                {
                    return Err(SourceError::StreamAlreadyRead {
                        path: self.path.clone(),
                    });
                }
                Ok(Box::new(StreamProbe {
                    state,
                    pos: 0,
                    limit_bytes,
                    path: &self.path,
                }))
            }
        }
    }
}

/// The decoder of `format` over the compressed bytes `input`.
fn decoder<R: BufRead + Send + 'static>(
    path: &Path,
    format: ImageFormat,
    input: R,
) -> Result<Box<dyn Read + Send>, SourceError> {
    Ok(match format {
        ImageFormat::Raw => Box::new(input),
        ImageFormat::Xz => Box::new(
            xz::XzReader::new(input, xz::default_thread_count()).map_err(|source| {
                SourceError::XzDecoder {
                    path: path.to_owned(),
                    cause: source,
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
                path: path.to_owned(),
                cause: source,
            };
            let mut decoder =
                zstd::stream::read::Decoder::with_buffer(input).map_err(zstd_error)?;
            decoder
                .window_log_max(ZSTD_MAX_WINDOW_LOG)
                .map_err(zstd_error)?;
            Box::new(DecodeErrors::new(decoder, ImageFormat::Zstd))
        }
        ImageFormat::Zip => {
            // Archives are opened through their central directory in `open`.
            return Err(SourceError::NoImageInArchive {
                path: path.to_owned(),
            });
        }
    })
}

/// A probe of a stream: replays the decoded bytes kept so far, then decodes
/// further and keeps those too, within the limit.
struct StreamProbe<'a> {
    state: &'a Mutex<StreamState>,
    pos: usize,
    limit_bytes: u64,
    path: &'a Path,
}

impl Read for StreamProbe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.pos < state.head.len() {
            let n = buf.len().min(state.head.len() - self.pos);
            buf[..n].copy_from_slice(&state.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        if state.head.len() as u64 >= self.limit_bytes {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!(
                    "{} is a stream: looking at its first {} means holding them in memory, \
                     more than the {} allowed; save the image to a file first",
                    self.path.display(),
                    crate::humanize::bytes(state.head.len() as u64 + 1),
                    crate::humanize::bytes(self.limit_bytes)
                ),
            ));
        }
        let room =
            usize::try_from(self.limit_bytes - state.head.len() as u64).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let Some(decoder) = state.decoder.as_mut() else {
            return Err(io::Error::other("the stream was taken by the run"));
        };
        let n = decoder.read(&mut buf[..want])?;
        state.head.extend_from_slice(&buf[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// The first bytes of `file` (fewer if the file is shorter), for sniffing.
fn read_head(file: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN_BYTES);
    file.by_ref()
        .take(SNIFF_LEN_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

//! Image sources: open an image file, detect its format by content (never by
//! name), and stream the decompressed disk image.
//!
//! Formats: raw, xz (multi-threaded decoder), gzip (multi-member), zstd
//! (multi-frame), bzip2 and zip (the one disk image inside). Decompression is
//! always a stream: nothing is unpacked to a temporary file.
//!
//! An image may also be an `http://` or `https://` URL: it is downloaded
//! once, as it is written, and resumed (never spliced) when the connection
//! drops (`http`, `http_resume`, `http_range`, `http_open`).

pub(crate) mod archive;
mod decode;
mod decode_errors;
mod device_source;
mod download;
mod error;
mod file_stamp;
mod format;
mod gzip_size;
mod http;
mod http_errors;
mod http_open;
mod http_range;
mod http_resume;
mod input;
mod name_endings;
mod reading;
mod signature;
pub(crate) mod sniff;
mod xz;
pub(crate) mod xz_index;
mod zip_stream;
pub(crate) mod zstd_frames;

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub use archive::DISK_IMAGE_EXTENSIONS;
use archive::ZipEntry;
use decode::{StreamProbe, decoder};
pub use decode_errors::TRUNCATED;
pub use download::{DownloadEvent, DownloadObserver, DownloadStatus};
pub use error::SourceError;
use file_stamp::FileStamp;
pub use file_stamp::IMAGE_CHANGED;
pub use format::ImageFormat;
pub use http::{STALL_ENV, is_url};
pub use http_open::{RawDownload, download};
pub use http_resume::{DOWNLOAD_FAILED_AT, is_download_failure};
use input::{Input, PositionalReader};
pub use input::{InputKind, STDIN_NAME};
pub use name_endings::{compressed_name_endings, image_name_endings};
pub(crate) use signature::SignatureSpec;
use sniff::{SNIFF_LEN_BYTES, sniff};

/// Capacity of the buffered file reader under every decoder. Decoders ask for
/// small pieces; without a large buffer each would be a system call, and on
/// fast media the small reads dominate.
pub const READ_BUFFER_BYTES: usize = 1 << 20;

/// An opened image: its format and what is known of its size. Cheap to
/// clone: clones share the one open input.
#[derive(Debug, Clone)]
pub struct ImageSource {
    path: PathBuf,
    format: ImageFormat,
    input_kind: InputKind,
    file_size: Option<u64>,
    size_hint: Option<u64>,
    /// A size the image has at least, when only that is known (gzip).
    min_size: Option<u64>,
    entry_name: Option<String>,
    /// For a URL: the download's progress and retries.
    download: Option<Arc<DownloadStatus>>,
    reading: Arc<Reading>,
    /// The minisign signature the image file must verify with, checked as
    /// the run reads it (`signature.rs`).
    signature: Option<Arc<SignatureSpec>>,
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
        /// A regular file's length and time when opened: a read again at an
        /// offset checks it was not changed since (`file_stamp`).
        stamp: Option<FileStamp>,
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
        if is_url(path) {
            return http_open::open(path);
        }
        let input = Input::open(path)?;
        let input_kind = input.kind();
        let source = match input {
            Input::Seekable { file, len, .. } => {
                ImageSource::open_seekable(path, input_kind, file, len)?
            }
            Input::Stream(stream) => ImageSource::open_stream(path, input_kind, stream)?,
        };
        if source.size_hint == Some(0) || (source.file_size == Some(0)) {
            return Err(SourceError::NotAnImage {
                path: path.to_owned(),
                why: "it is empty".to_string(),
            });
        }
        Ok(source)
    }

    /// A file or block device of `len` bytes: its format, and its size as
    /// far as the format records it (read at positions, nothing decoded).
    fn open_seekable(
        path: &Path,
        input_kind: InputKind,
        file: Arc<File>,
        len: u64,
    ) -> Result<Self, SourceError> {
        let mut reader = PositionalReader::new(file.clone(), len);
        let head = read_head(&mut reader).map_err(|e| head_error(path, e))?;
        let format = sniff(&head);
        let mut size_hint = None;
        let mut min_size = None;
        let mut entry_name = None;
        let mut zip_entry = None;
        match format {
            ImageFormat::Raw => size_hint = Some(len),
            ImageFormat::Xz => size_hint = xz_index::uncompressed_size(&mut reader, len),
            ImageFormat::Zstd => {
                size_hint = zstd_frames::content_size(&mut reader, len);
            }
            // gzip's ISIZE is modulo 4 GiB and per member: a lower
            // bound at best. bzip2 records nothing.
            ImageFormat::Gzip => min_size = gzip_size::lower_bound(&mut reader, len),
            ImageFormat::Bzip2 => {}
            ImageFormat::Zip => {
                let entry = archive::find_image_entry(path, reader)?;
                size_hint = Some(entry.uncompressed_len_bytes);
                entry_name = Some(entry.name.clone());
                zip_entry = Some(entry);
            }
        }
        Ok(ImageSource {
            path: path.to_owned(),
            format,
            input_kind,
            file_size: Some(len),
            size_hint,
            min_size,
            entry_name,
            download: None,
            signature: None,
            reading: Arc::new(Reading::Seekable {
                stamp: FileStamp::of(&file),
                file,
                len,
                zip_entry,
            }),
        })
    }

    /// A pipe, FIFO or standard input: its format from the first bytes
    /// (kept and replayed to the decoder), its size unknown.
    fn open_stream(
        path: &Path,
        input_kind: InputKind,
        mut stream: input::StreamReader,
    ) -> Result<Self, SourceError> {
        let interrupt = stream.interrupt_handle();
        let head = read_head(&mut stream).map_err(|e| head_error(path, e))?;
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
        Ok(ImageSource {
            path: path.to_owned(),
            format,
            input_kind,
            file_size: None,
            size_hint: None,
            min_size: None,
            entry_name: None,
            download: None,
            signature: None,
            reading: Arc::new(Reading::Stream {
                state: Mutex::new(StreamState {
                    decoder: Some(decoder),
                    head: Vec::new(),
                }),
                interrupt,
            }),
        })
    }

    /// Checks `spec`'s signature over the image file's bytes as the run
    /// reads them (`signature.rs`); a file only: a stream is read once and
    /// probed first, and a zip archive is read by its entry, not whole.
    pub(crate) fn require_signature(&mut self, spec: SignatureSpec) -> Result<(), String> {
        match &*self.reading {
            Reading::Seekable {
                zip_entry: None, ..
            } => {
                self.signature = Some(Arc::new(spec));
                Ok(())
            }
            Reading::Seekable { .. } => Err(format!(
                "{} is a zip archive: its signature cannot be checked as it is read yet; sign (and flash) the image inside it, or check the archive with `minisign -V` first",
                self.path.display()
            )),
            Reading::Stream { .. } => Err(format!(
                "{} is a stream: a signed image must be a file here; save it to a file first",
                self.path.display()
            )),
        }
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
    /// for a URL, the download's size when the server said; `None` for a
    /// stream.
    pub fn file_size(&self) -> Option<u64> {
        self.file_size
    }

    /// Size of the decompressed disk image, when the format says it
    /// (raw file size, xz index, zip entry size, zstd frame header).
    pub fn size_hint(&self) -> Option<u64> {
        self.size_hint
    }

    /// The size the decompressed image has at least: the exact size when
    /// known, else a bound the format records (gzip's trailer). A drive
    /// smaller than this cannot hold the image.
    pub fn min_size(&self) -> Option<u64> {
        self.size_hint.or(self.min_size)
    }

    /// For a zip archive, the name of the disk image chosen inside it.
    pub fn entry_name(&self) -> Option<&str> {
        self.entry_name.as_deref()
    }

    /// For a URL: the download, to follow its progress and retries.
    pub fn download(&self) -> Option<&DownloadStatus> {
        self.download.as_deref()
    }

    /// Makes every read of a stream that waits for data (now or later) fail
    /// at once: how Ctrl-C ends a run whose image comes from a stalled pipe.
    /// Files and devices are not affected.
    pub fn interrupt(&self) {
        if let Reading::Stream { interrupt, .. } = &*self.reading {
            interrupt.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the image is read from a file or device, where every reader
    /// starts afresh at byte 0 (not a pipe or a download, read once).
    pub fn is_reopenable(&self) -> bool {
        matches!(&*self.reading, Reading::Seekable { .. })
    }

    /// Whether [`ImageSource::read_at`] works: a raw image in a file or on
    /// a device (not compressed, not in an archive, not a stream).
    pub fn is_positional(&self) -> bool {
        self.format == ImageFormat::Raw
            && matches!(
                &*self.reading,
                Reading::Seekable {
                    zip_entry: None,
                    ..
                }
            )
    }
}

/// The first bytes of `file` (fewer if the file is shorter), for sniffing.
/// Reading the first bytes failed.
fn head_error(path: &Path, cause: io::Error) -> SourceError {
    SourceError::Read {
        path: path.to_owned(),
        offset: 0,
        cause,
    }
}

fn read_head(file: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN_BYTES);
    file.by_ref()
        .take(SNIFF_LEN_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

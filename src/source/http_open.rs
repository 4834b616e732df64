//! Opening an image at a URL: one download, streamed as it arrives.
//!
//! The body of the first request is the image's one pass: the input pump
//! reads it (resumed across failures, see `http_resume`) and the decoder
//! reads the pump, as for a pipe. Before that body is decoded, and only
//! when the server serves byte ranges of a file it names by a strong ETag
//! (`Remote::ranges_are_safe`), the file's tail is read with range
//! requests — the xz index for the decompressed size, the zip central
//! directory to choose the image — exactly as for a file. Without ranges a
//! zip is read front to back, up to its first disk image.
//!
//! Everything that can go wrong before a byte is decoded (the name, the
//! connection, the certificate, a 404, a web page instead of an image) is an
//! error of `open`, so the run is refused and nothing is written.

use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::download::DownloadStatus;
use super::http::Remote;
use super::http_range::RangeReader;
use super::http_resume::ResumingBody;
use super::input::StreamReader;
use super::sniff::sniff;
use super::zip_stream::StreamedEntry;
use super::{
    ImageFormat, ImageSource, InputKind, READ_BUFFER_BYTES, Reading, SourceError, StreamState,
    archive, decoder, xz_index, zip_stream,
};

/// Bytes of the body looked at before decoding: enough to tell a web page.
const HEAD_BYTES: u64 = 1024;

/// The body as the decoder reads it: the head looked at, then the rest.
type Body = io::Chain<io::Cursor<Vec<u8>>, StreamReader>;

/// What decoding a body starts with: the decoder, and what the server or
/// the archive said of the image.
struct Decoded {
    reader: Box<dyn Read + Send>,
    size_hint: Option<u64>,
    entry_name: Option<String>,
}

/// Opens the image at the URL `path`.
pub(super) fn open(path: &Path) -> Result<ImageSource, SourceError> {
    let url = path.to_string_lossy().into_owned();
    let (remote, body) = Remote::get(&url).map_err(|why| SourceError::Download {
        url: url.clone(),
        why,
    })?;
    let download = Arc::new(DownloadStatus::new(remote.len));
    let resuming = ResumingBody::new(remote.clone(), body, 0, download.clone());
    let mut stream = StreamReader::spawn(path, move || Ok(resuming));
    let interrupt = stream.interrupt_handle();
    let head = read_head(path, &mut stream)?;
    let format = sniff(&head);
    let decoded = decode(path, format, &remote, io::Cursor::new(head).chain(stream))?;
    if decoded.size_hint == Some(0) {
        return Err(SourceError::NotAnImage {
            path: path.to_owned(),
            why: "it is empty".into(),
        });
    }
    Ok(ImageSource {
        path: path.to_owned(),
        format,
        input_kind: InputKind::Url,
        file_size: remote.len,
        size_hint: decoded.size_hint,
        // gzip's trailer could be read by a range request too; not yet.
        min_size: None,
        entry_name: decoded.entry_name,
        download: Some(download),
        signature: None,
        reading: Arc::new(Reading::Stream {
            state: Mutex::new(StreamState {
                decoder: Some(decoded.reader),
                head: Vec::new(),
            }),
            interrupt,
        }),
    })
}

/// The body's first bytes, refused when there are none or when they are a
/// web page rather than an image.
fn read_head(path: &Path, stream: &mut StreamReader) -> Result<Vec<u8>, SourceError> {
    let mut head = Vec::new();
    stream
        .by_ref()
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .map_err(|cause| SourceError::Read {
            path: path.to_owned(),
            offset: 0,
            cause,
        })?;
    if head.is_empty() {
        return Err(SourceError::NotAnImage {
            path: path.to_owned(),
            why: "the server sent an empty file".into(),
        });
    }
    if sniff(&head) == ImageFormat::Raw && looks_like_html(&head) {
        return Err(SourceError::NotAnImage {
            path: path.to_owned(),
            why: "the server sent a web page (HTML), not a disk image; the link may lead to a \
                  download page: copy the link of the image file itself"
                .into(),
        });
    }
    Ok(head)
}

/// The decoder of `body` in `format`, with the image's size where the
/// server or the file's tail tells it.
fn decode(
    path: &Path,
    format: ImageFormat,
    remote: &Remote,
    body: Body,
) -> Result<Decoded, SourceError> {
    // The tail only of this very file: a strong ETag and a length (`http`).
    let tail = remote.len.filter(|_| remote.ranges_are_safe());
    let mut size_hint = None;
    let mut entry_name = None;
    let buffered = |body| BufReader::with_capacity(READ_BUFFER_BYTES, body);
    let reader = match format {
        ImageFormat::Raw => {
            size_hint = remote.len;
            decoder(path, format, buffered(body))?
        }
        ImageFormat::Xz => {
            if let Some(len) = tail {
                size_hint = xz_index::uncompressed_size(&mut RangeReader::new(remote, len), len);
            }
            decoder(path, format, buffered(body))?
        }
        ImageFormat::Zip => {
            let (entry, reader) = match tail {
                Some(len) => zip_by_ranges(path, remote, len, body)?,
                None => zip_stream::first_image(path, body)?,
            };
            size_hint = entry.size_bytes;
            entry_name = Some(entry.name);
            reader
        }
        // gzip and bzip2 do not state the size; zstd states it per frame,
        // and walking the frames would cost a request per block.
        ImageFormat::Gzip | ImageFormat::Bzip2 | ImageFormat::Zstd => {
            decoder(path, format, buffered(body))?
        }
    };
    Ok(Decoded {
        reader,
        size_hint,
        entry_name,
    })
}

/// A zip whose central directory is read with range requests (`len`
/// bytes, ranges safe): the image entry it names, read from the body.
fn zip_by_ranges(
    path: &Path,
    remote: &Remote,
    len: u64,
    mut body: Body,
) -> Result<(StreamedEntry, Box<dyn Read + Send>), SourceError> {
    let head_len = body.get_ref().0.get_ref().len() as u64;
    let read_error = |offset, cause| SourceError::Read {
        path: path.to_owned(),
        offset,
        cause,
    };
    let entry = archive::find_image_entry(path, RangeReader::new(remote, len))?;
    // The body is at byte `head_len`'s neighbourhood; the entry
    // is further on: read up to it rather than request again.
    let skip = entry.data_offset;
    let skipped = io::copy(&mut body.by_ref().take(skip), &mut io::sink())
        .map_err(|e| read_error(head_len, e))?;
    if skipped != skip {
        return Err(read_error(
            skipped,
            io::Error::new(io::ErrorKind::UnexpectedEof, "the archive ended early"),
        ));
    }
    let reader = archive::entry_reader(path, &entry, body)?;
    let streamed = StreamedEntry {
        name: entry.name.clone(),
        size_bytes: Some(entry.uncompressed_len_bytes),
    };
    Ok((streamed, reader))
}

/// A file at a URL as it downloads, undecoded: what the app streams into
/// a privileged helper's standard input, so that the download runs as the
/// user (their proxy, their credentials) and never as root.
pub struct RawDownload {
    /// The file's bytes, resumed across failures; an error ends it.
    pub reader: Box<dyn Read + Send>,
    pub status: Arc<DownloadStatus>,
}

/// Starts downloading the file at the URL `path`.
pub fn download(path: &Path) -> Result<RawDownload, SourceError> {
    let url = path.to_string_lossy().into_owned();
    let (remote, body) = Remote::get(&url).map_err(|why| SourceError::Download { url, why })?;
    let status = Arc::new(DownloadStatus::new(remote.len));
    Ok(RawDownload {
        reader: Box::new(ResumingBody::new(remote, body, 0, status.clone())),
        status,
    })
}

/// Whether `head` is the start of a web page (an error page, a download
/// page, a login form) rather than a raw image.
fn looks_like_html(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let start = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body", "<?xml", "<!--"]
        .iter()
        .any(|tag| start.starts_with(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_pages_are_told_from_images() {
        assert!(looks_like_html(b"<!DOCTYPE html>\n<html>"));
        assert!(looks_like_html(b"\xef\xbb\xbf  <HTML lang=en>"));
        assert!(looks_like_html(b"\n<!-- error -->"));
        assert!(!looks_like_html(&[0u8; 512]));
        assert!(!looks_like_html(b"\xeb\x3c\x90mkfs.fat"));
    }
}

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
use super::{
    ImageFormat, ImageSource, InputKind, READ_BUFFER_BYTES, Reading, SourceError, StreamState,
    archive, decoder, xz_index, zip_stream,
};

/// Bytes of the body looked at before decoding: enough to tell a web page.
const HEAD_BYTES: u64 = 1024;

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
    let read_error = |offset, cause| SourceError::Read {
        path: path.to_owned(),
        offset,
        cause,
    };

    let mut head = Vec::new();
    stream
        .by_ref()
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .map_err(|e| read_error(0, e))?;
    if head.is_empty() {
        return Err(SourceError::NotAnImage {
            path: path.to_owned(),
            why: "the server sent an empty file".into(),
        });
    }
    let format = sniff(&head);
    if format == ImageFormat::Raw && looks_like_html(&head) {
        return Err(SourceError::NotAnImage {
            path: path.to_owned(),
            why: "the server sent a web page (HTML), not a disk image; the link may lead to a \
                  download page: copy the link of the image file itself"
                .into(),
        });
    }
    let head_len = head.len() as u64;
    let body = io::Cursor::new(head).chain(stream);
    // The tail only of this very file: a strong ETag and a length (`http`).
    let tail = remote.len.filter(|_| remote.ranges_are_safe());

    let mut size_hint = None;
    let mut entry_name = None;
    let decoded = match format {
        ImageFormat::Raw => {
            size_hint = remote.len;
            decoder(
                path,
                format,
                BufReader::with_capacity(READ_BUFFER_BYTES, body),
            )?
        }
        ImageFormat::Xz => {
            if let Some(len) = tail {
                size_hint = xz_index::uncompressed_size(&mut RangeReader::new(&remote, len), len);
            }
            decoder(
                path,
                format,
                BufReader::with_capacity(READ_BUFFER_BYTES, body),
            )?
        }
        ImageFormat::Zip => match tail {
            Some(len) => {
                let entry = archive::find_image_entry(path, RangeReader::new(&remote, len))?;
                size_hint = Some(entry.uncompressed_len_bytes);
                entry_name = Some(entry.name.clone());
                let mut body = body;
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
                archive::entry_reader(path, &entry, body)?
            }
            None => {
                let (entry, reader) = zip_stream::first_image(path, body)?;
                size_hint = entry.size_bytes;
                entry_name = Some(entry.name);
                reader
            }
        },
        // gzip and bzip2 do not state the size; zstd states it per frame,
        // and walking the frames would cost a request per block.
        ImageFormat::Gzip | ImageFormat::Bzip2 | ImageFormat::Zstd => decoder(
            path,
            format,
            BufReader::with_capacity(READ_BUFFER_BYTES, body),
        )?,
    };
    if size_hint == Some(0) {
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
        size_hint,
        // gzip's trailer could be read by a range request too; not yet.
        min_size: None,
        entry_name,
        download: Some(download),
        signature: None,
        reading: Arc::new(Reading::Stream {
            state: Mutex::new(StreamState {
                decoder: Some(decoded),
                head: Vec::new(),
            }),
            interrupt,
        }),
    })
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

//! The decoders over an image's compressed bytes, and the probe that lets
//! a stream be looked at before the run without losing what was read.

use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::Mutex;

use super::decode_errors::DecodeErrors;
use super::{ImageFormat, SourceError, StreamState, xz};

/// zstd files made with `--long=31` need a 2 GiB window; the library default
/// (128 MiB) would reject them.
const ZSTD_MAX_WINDOW_LOG: u32 = 31;

/// The decoder of `format` over the compressed bytes `input`.
pub(super) fn decoder<R: BufRead + Send + 'static>(
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
pub(super) struct StreamProbe<'a> {
    pub(super) state: &'a Mutex<StreamState>,
    pub(super) pos: usize,
    pub(super) limit_bytes: u64,
    pub(super) path: &'a Path,
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

//! Error wording for decompressing readers. The decoder crates report
//! corruption as terse or generic io errors ("invalid gzip header", "Unknown
//! frame descriptor"), and some report truncation the same way; users need to
//! read "corrupt gzip data" or "unexpected end of gzip data". The engine adds
//! the path and the offset, so messages here say only what is wrong.

use std::io::{self, Read};

use super::ImageFormat;

/// What a decoder error says when the compressed data ends too early: the
/// front ends match it to tell "incomplete" from "damaged".
pub const TRUNCATED: &str = "the image file is truncated";

/// Wraps a decompressing reader so that its errors name the format and say
/// whether the data is corrupt or cut short. Errors from the operating system
/// (reading the file itself) pass through unchanged.
pub(super) struct DecodeErrors<R> {
    inner: R,
    format: ImageFormat,
}

impl<R: Read> DecodeErrors<R> {
    pub(super) fn new(inner: R, format: ImageFormat) -> Self {
        Self { inner, format }
    }
}

impl<R: Read> Read for DecodeErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .read(buf)
            .map_err(|error| describe(error, self.format))
    }
}

/// Rewords a decoder error; see the module documentation.
pub(super) fn describe(error: io::Error, format: ImageFormat) -> io::Error {
    // An errno means the file could not be read: that is not the data's fault.
    if error.raw_os_error().is_some() || error.kind() == io::ErrorKind::Interrupted {
        return error;
    }
    // Nor is a download that failed: its message says why and what to do.
    if super::http_resume::is_download_failure(&error) {
        return error;
    }
    let name = format.name();
    if error.kind() == io::ErrorKind::UnexpectedEof {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("unexpected end of {name} data: {TRUNCATED} (incomplete download?) ({error})"),
        )
    } else {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("corrupt {name} data: the image file is damaged ({error})"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_format_and_kind_of_damage() {
        let eof = describe(
            io::Error::new(io::ErrorKind::UnexpectedEof, "eof"),
            ImageFormat::Gzip,
        );
        assert_eq!(eof.kind(), io::ErrorKind::UnexpectedEof);
        assert!(eof.to_string().starts_with("unexpected end of gzip data"));

        let corrupt = describe(
            io::Error::other("Unknown frame descriptor"),
            ImageFormat::Zstd,
        );
        assert_eq!(corrupt.kind(), io::ErrorKind::InvalidData);
        assert!(corrupt.to_string().starts_with("corrupt zstd data"));
        assert!(corrupt.to_string().contains("Unknown frame descriptor"));
    }

    #[test]
    fn os_errors_pass_through() {
        let eio = describe(io::Error::from_raw_os_error(5), ImageFormat::Xz);
        assert_eq!(eio.raw_os_error(), Some(5));
    }
}

//! Why an image could not be opened or read.

use std::io;
use std::path::PathBuf;

use super::archive::DISK_IMAGE_EXTENSIONS;

/// Why an image could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot open image {path}: {cause}")]
    Open { path: PathBuf, cause: io::Error },
    #[error("cannot download the image {url}: {why}")]
    Download { url: String, why: String },
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
    #[error("cannot read the drive {path} as the image: {why}")]
    DriveInUse { path: PathBuf, why: String },
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

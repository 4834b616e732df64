//! Zip archives: choose the one disk image inside, and read it as an owned
//! stream.
//!
//! The `zip` crate's entry readers borrow the archive, but the engine needs a
//! `Read + Send + 'static` it can move to its reader thread. So the archive is
//! only used to locate the chosen entry (data offset, method, sizes, CRC-32);
//! reading then wraps a plain file positioned at that offset in the matching
//! decoder, and checks the size and CRC-32 the archive promised.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use liblzma::stream::{Filters, Stream};
use zip::{CompressionMethod, ZipArchive};

use super::{READ_BUFFER_BYTES, SourceError};

/// File name endings of the disk images we look for in an archive.
pub const DISK_IMAGE_EXTENSIONS: &[&str] = &[
    "img",
    "iso",
    "raw",
    "bin",
    "dsk",
    "wic",
    "sdcard",
    "hddimg",
    "rpi-sdimg",
];

/// Where the chosen image lies in the archive and how it is stored.
#[derive(Debug, Clone)]
pub(crate) struct ZipEntry {
    pub name: String,
    pub data_offset: u64,
    compressed_len_bytes: u64,
    pub uncompressed_len_bytes: u64,
    crc32: u32,
    method: ZipMethod,
}

impl ZipEntry {
    /// The entry a zip's local header describes (method by its APPNOTE
    /// number), for an archive read front to back.
    pub(crate) fn from_local_header(
        path: &Path,
        name: String,
        method: u16,
        compressed_len_bytes: u64,
        uncompressed_len_bytes: u64,
        crc32: u32,
    ) -> Result<ZipEntry, SourceError> {
        let method = match method {
            0 => ZipMethod::Stored,
            8 => ZipMethod::Deflated,
            12 => ZipMethod::Bzip2,
            14 => ZipMethod::Lzma,
            other => {
                return Err(SourceError::UnsupportedZipMethod {
                    path: path.to_owned(),
                    method: CompressionMethod::name_from_u16(other).to_string(),
                });
            }
        };
        Ok(ZipEntry {
            name,
            data_offset: 0,
            compressed_len_bytes,
            uncompressed_len_bytes,
            crc32,
            method,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZipMethod {
    Stored,
    Deflated,
    Bzip2,
    Lzma,
}

/// Whether an archive member named `name` is a disk image: a known
/// extension, and not one of the `__MACOSX/._name` resource forks that macOS
/// adds beside every file it zips.
pub(crate) fn is_disk_image_name(name: &str) -> bool {
    if name.ends_with('/') || name.starts_with("__MACOSX/") {
        return false;
    }
    let base_name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if base_name.starts_with("._") {
        return false;
    }
    let Some((stem, extension)) = base_name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && DISK_IMAGE_EXTENSIONS
            .iter()
            .any(|known| extension.eq_ignore_ascii_case(known))
}

/// An archive member as listed in the central directory.
#[derive(Debug, PartialEq, Eq)]
struct Member {
    index: usize,
    name: String,
    is_dir: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Choice {
    NoImage,
    One(Member),
    /// The names of every disk image found, in archive order.
    Several(Vec<String>),
}

/// The one disk image among `members`. Folders and other files (`.DS_Store`,
/// READMEs, checksums) are ignored; guessing between two images would risk
/// flashing the wrong one, so several is an error.
fn choose_image(members: Vec<Member>) -> Choice {
    let mut images: Vec<Member> = members
        .into_iter()
        .filter(|member| !member.is_dir && is_disk_image_name(&member.name))
        .collect();
    match images.len() {
        0 => Choice::NoImage,
        1 => Choice::One(images.remove(0)),
        _ => Choice::Several(images.into_iter().map(|member| member.name).collect()),
    }
}

/// Opens the archive `file` (at `path`) and locates its one disk image.
pub(crate) fn find_image_entry<R: Read + Seek>(
    path: &Path,
    file: R,
) -> Result<ZipEntry, SourceError> {
    let zip_error = |source| SourceError::Zip {
        path: path.to_owned(),
        cause: source,
    };
    let mut archive = ZipArchive::new(BufReader::new(file)).map_err(zip_error)?;

    let mut members = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive.by_index_data(index).map_err(zip_error)?;
        let name = entry.name().map_err(zip_error)?.into_owned();
        members.push(Member {
            index,
            name,
            is_dir: entry.is_dir(),
        });
    }
    let Member { index, name, .. } = match choose_image(members) {
        Choice::NoImage => {
            return Err(SourceError::NoImageInArchive {
                path: path.to_owned(),
            });
        }
        Choice::One(member) => member,
        Choice::Several(names) => {
            return Err(SourceError::SeveralImagesInArchive {
                path: path.to_owned(),
                names,
            });
        }
    };

    let entry = archive.by_index_raw(index).map_err(zip_error)?;
    if entry.encrypted() {
        return Err(SourceError::EncryptedZipEntry {
            path: path.to_owned(),
            name,
        });
    }
    let method = match entry.compression() {
        CompressionMethod::Stored => ZipMethod::Stored,
        CompressionMethod::Deflated => ZipMethod::Deflated,
        CompressionMethod::Bzip2 => ZipMethod::Bzip2,
        CompressionMethod::Lzma => ZipMethod::Lzma,
        other => {
            return Err(SourceError::UnsupportedZipMethod {
                path: path.to_owned(),
                method: other.to_string(),
            });
        }
    };
    let data_offset = entry.data_start().ok_or_else(|| SourceError::Zip {
        path: path.to_owned(),
        cause: zip::result::ZipError::InvalidArchive("entry data offset unknown".into()),
    })?;
    Ok(ZipEntry {
        name,
        data_offset,
        compressed_len_bytes: entry.compressed_size(),
        uncompressed_len_bytes: entry.size(),
        crc32: entry.crc32(),
        method,
    })
}

/// A reader of the decompressed `entry` of the archive `file` (at `path`).
pub(crate) fn open_entry<R: Read + Seek + Send + 'static>(
    path: &Path,
    entry: &ZipEntry,
    mut file: R,
) -> Result<Box<dyn Read + Send>, SourceError> {
    let read_error = |source| SourceError::Read {
        path: path.to_owned(),
        offset: entry.data_offset,
        cause: source,
    };
    file.seek(SeekFrom::Start(entry.data_offset))
        .map_err(read_error)?;
    entry_reader(path, entry, file)
}

/// A reader of the decompressed `entry`, from `data`: the archive's bytes
/// from the entry's data offset on (a file positioned there, or a download
/// that got there).
pub(crate) fn entry_reader<R: Read + Send + 'static>(
    path: &Path,
    entry: &ZipEntry,
    data: R,
) -> Result<Box<dyn Read + Send>, SourceError> {
    let read_error = |source| SourceError::Read {
        path: path.to_owned(),
        offset: entry.data_offset,
        cause: source,
    };
    let mut compressed =
        BufReader::with_capacity(READ_BUFFER_BYTES, data).take(entry.compressed_len_bytes);
    let decoded: Box<dyn Read + Send> = match entry.method {
        ZipMethod::Stored => Box::new(compressed),
        ZipMethod::Deflated => Box::new(flate2::bufread::DeflateDecoder::new(compressed)),
        ZipMethod::Bzip2 => Box::new(bzip2::bufread::BzDecoder::new(compressed)),
        ZipMethod::Lzma => {
            let decoder = lzma_decoder(&mut compressed).map_err(read_error)?;
            Box::new(liblzma::bufread::XzDecoder::new_stream(compressed, decoder))
        }
    };
    Ok(Box::new(CheckedEntry {
        inner: decoded,
        remaining_bytes: entry.uncompressed_len_bytes,
        expected_crc32: entry.crc32,
        crc: flate2::Crc::new(),
    }))
}

/// Reads the LZMA header of a zip entry (version, properties length,
/// properties: APPNOTE 5.8.8) and makes a raw LZMA1 decoder for the data.
fn lzma_decoder<R: BufRead>(compressed: &mut R) -> io::Result<Stream> {
    let mut header = [0u8; 4];
    compressed.read_exact(&mut header)?;
    let properties_len = usize::from(u16::from_le_bytes([header[2], header[3]]));
    let mut properties = vec![0u8; properties_len];
    compressed.read_exact(&mut properties)?;
    let invalid = |error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("corrupt zip data: invalid LZMA properties ({error})"),
        )
    };
    let mut filters = Filters::new();
    filters.lzma1_properties(&properties).map_err(invalid)?;
    Stream::new_raw_decoder(&filters).map_err(invalid)
}

/// Yields exactly the size the archive states and checks the CRC-32 at the
/// end, so a damaged or truncated entry is an error, never a short image.
/// Stopping at the stated size also ends LZMA data written without an
/// end marker, whose decoder cannot tell where the data stops.
struct CheckedEntry {
    inner: Box<dyn Read + Send>,
    remaining_bytes: u64,
    expected_crc32: u32,
    crc: flate2::Crc,
}

impl Read for CheckedEntry {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining_bytes == 0 || buf.is_empty() {
            return Ok(0);
        }
        let wanted = buf
            .len()
            .min(usize::try_from(self.remaining_bytes).unwrap_or(usize::MAX));
        let got = self
            .inner
            .read(&mut buf[..wanted])
            .map_err(|error| super::decode_errors::describe(error, super::ImageFormat::Zip))?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "unexpected end of zip data: {} bytes of the image are missing \
                     (the archive is truncated or damaged)",
                    self.remaining_bytes
                ),
            ));
        }
        self.crc.update(&buf[..got]);
        self.remaining_bytes -= got as u64;
        if self.remaining_bytes == 0 && self.crc.sum() != self.expected_crc32 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "corrupt zip data: CRC-32 of the image is {:08x}, the archive says {:08x}",
                    self.crc.sum(),
                    self.expected_crc32
                ),
            ));
        }
        Ok(got)
    }
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;

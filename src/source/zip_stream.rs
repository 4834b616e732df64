//! A zip archive read front to back, for a server that does not serve byte
//! ranges: its table of contents (at the end) cannot be read first, so the
//! image is the first entry whose local header names a disk image; entries
//! before it are skipped.
//!
//! An entry whose sizes follow its data (a "data descriptor", written by
//! tools that zip into a pipe) cannot be skipped or checked that way: the
//! user is asked to download the archive first.

use std::io::{self, Read};
use std::path::Path;

use super::SourceError;
use super::archive::{self, ZipEntry, is_disk_image_name};

const LOCAL_HEADER_MAGIC: u32 = 0x0403_4b50;
const LOCAL_HEADER_LEN_BYTES: usize = 30;
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const ZIP64_EXTRA_ID: u16 = 0x0001;

/// The chosen entry, as its local header describes it.
#[derive(Debug)]
pub(super) struct StreamedEntry {
    pub name: String,
    pub size_bytes: Option<u64>,
}

/// One entry's local header, its name and extra field read.
struct LocalHeader {
    flags: u16,
    method: u16,
    crc32: u32,
    compressed: u64,
    uncompressed: u64,
    name: String,
    /// The header's bytes, name and extra field included.
    len_bytes: u64,
}

/// Reads `archive` up to its first disk image; returns it and the reader of
/// its decompressed bytes (size and CRC-32 checked at the end).
pub(super) fn first_image<R: Read + Send + 'static>(
    path: &Path,
    mut archive: R,
) -> Result<(StreamedEntry, Box<dyn Read + Send>), SourceError> {
    let mut offset = 0u64;
    loop {
        let read_error = move |cause| SourceError::Read {
            path: path.to_owned(),
            offset,
            cause,
        };
        let header = local_header(path, &mut archive, offset)?;
        if header.flags & FLAG_DATA_DESCRIPTOR != 0 {
            return Err(SourceError::NotAnImage {
                path: path.to_owned(),
                why: format!(
                    "the zip entry {} gives its size after its data, and the server does \
                     not serve parts of the file, so the archive cannot be read as it \
                     downloads; download it first",
                    header.name
                ),
            });
        }
        offset += header.len_bytes;
        if is_disk_image_name(&header.name) {
            return image_entry(path, header, archive);
        }
        let compressed = header.compressed;
        let skipped = io::copy(&mut archive.by_ref().take(compressed), &mut io::sink())
            .map_err(read_error)?;
        if skipped != compressed {
            return Err(read_error(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ended early",
            )));
        }
        offset += compressed;
    }
}

/// The local header at `offset`; the end of the entries (the central
/// directory, or the file's end) means the archive holds no image.
fn local_header(
    path: &Path,
    archive: &mut impl Read,
    offset: u64,
) -> Result<LocalHeader, SourceError> {
    let read_error = |cause| SourceError::Read {
        path: path.to_owned(),
        offset,
        cause,
    };
    let mut fixed = [0u8; LOCAL_HEADER_LEN_BYTES];
    match archive.read_exact(&mut fixed) {
        Ok(()) => {}
        // The central directory (or the end) comes after the last entry.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Err(SourceError::NoImageInArchive {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(read_error(e)),
    }
    let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes(fixed[i..i + 4].try_into().expect("4 bytes"));
    if u32_at(0) != LOCAL_HEADER_MAGIC {
        return Err(SourceError::NoImageInArchive {
            path: path.to_owned(),
        });
    }
    let mut compressed = u64::from(u32_at(18));
    let mut uncompressed = u64::from(u32_at(22));
    let mut name = vec![0u8; usize::from(u16_at(26))];
    let mut extra = vec![0u8; usize::from(u16_at(28))];
    archive.read_exact(&mut name).map_err(read_error)?;
    archive.read_exact(&mut extra).map_err(read_error)?;
    if let Some((u, c)) = zip64_sizes(&extra, uncompressed, compressed) {
        (uncompressed, compressed) = (u, c);
    }
    Ok(LocalHeader {
        flags: u16_at(6),
        method: u16_at(8),
        crc32: u32_at(14),
        compressed,
        uncompressed,
        len_bytes: (LOCAL_HEADER_LEN_BYTES + name.len() + extra.len()) as u64,
        name: String::from_utf8_lossy(&name).into_owned(),
    })
}

/// The disk image's entry, its data next in `archive`: refused when
/// encrypted, else its reader.
fn image_entry<R: Read + Send + 'static>(
    path: &Path,
    header: LocalHeader,
    archive: R,
) -> Result<(StreamedEntry, Box<dyn Read + Send>), SourceError> {
    if header.flags & FLAG_ENCRYPTED != 0 {
        return Err(SourceError::EncryptedZipEntry {
            path: path.to_owned(),
            name: header.name,
        });
    }
    let entry = ZipEntry::from_local_header(
        path,
        header.name.clone(),
        header.method,
        header.compressed,
        header.uncompressed,
        header.crc32,
    )?;
    let reader = archive::entry_reader(path, &entry, archive)?;
    Ok((
        StreamedEntry {
            name: header.name,
            size_bytes: Some(header.uncompressed),
        },
        reader,
    ))
}

/// The zip64 sizes in a local header's extra field, when the header's own
/// fields say they are there (0xFFFFFFFF).
fn zip64_sizes(extra: &[u8], uncompressed: u64, compressed: u64) -> Option<(u64, u64)> {
    const MARK: u64 = 0xFFFF_FFFF;
    if uncompressed != MARK && compressed != MARK {
        return None;
    }
    let mut rest = extra;
    while rest.len() >= 4 {
        let id = u16::from_le_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        let data = rest.get(4..4 + len)?;
        if id == ZIP64_EXTRA_ID && data.len() >= 16 {
            let u = u64::from_le_bytes(data[0..8].try_into().ok()?);
            let c = u64::from_le_bytes(data[8..16].try_into().ok()?);
            return Some((u, c));
        }
        rest = &rest[4 + len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_image_after_other_entries_is_read() {
        let bytes = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/zip-directory-image-and-misc.zip"),
        )
        .unwrap();
        let (entry, mut reader) = first_image(Path::new("x.zip"), io::Cursor::new(bytes)).unwrap();
        assert!(entry.name.ends_with(".img"), "{}", entry.name);
        let mut image = Vec::new();
        reader.read_to_end(&mut image).unwrap();
        assert_eq!(Some(image.len() as u64), entry.size_bytes);
    }

    #[test]
    fn an_archive_without_images_says_so() {
        let bytes = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/zip-directory-no-image-only-misc.zip"),
        )
        .unwrap();
        let error = first_image(Path::new("x.zip"), io::Cursor::new(bytes))
            .err()
            .unwrap();
        assert!(
            matches!(error, SourceError::NoImageInArchive { .. }),
            "{error}"
        );
    }
}

//! Where the image's bytes go: a compressor writing the output file
//! (zstd and xz on every core, gzip on one), or for a raw `.img` the file
//! itself, written at each piece's offset with the free space left as holes.

use std::fs::File;
use std::io::{self, Write};

use super::output::{Compression, HashingFile};
use crate::platform;

/// Zeros fed to a compressor for the free space between used ranges.
pub(crate) static ZEROS: [u8; 1 << 20] = [0; 1 << 20];

/// The compressor or raw file receiving the image.
pub(crate) enum ImageSink {
    Zstd(zstd::stream::write::Encoder<'static, HashingFile>),
    Xz(liblzma::write::XzEncoder<HashingFile>),
    Gzip(flate2::write::GzEncoder<HashingFile>),
    Raw(File),
}

impl ImageSink {
    /// A sink of `kind` writing `file` (new and empty) for an image of
    /// `size` bytes.
    pub(crate) fn new(kind: Compression, file: File, size: u64) -> io::Result<ImageSink> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        Ok(match kind {
            Compression::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(HashingFile::new(file), 3)?;
                encoder.multithread(threads)?;
                // The frame records the image's length: `imprint flash`
                // then knows it before the run.
                encoder.set_pledged_src_size(Some(size))?;
                ImageSink::Zstd(encoder)
            }
            Compression::Xz => {
                let stream = liblzma::stream::MtStreamBuilder::new()
                    .threads(threads)
                    .preset(6)
                    .check(liblzma::stream::Check::Crc64)
                    .encoder()
                    .map_err(io::Error::other)?;
                ImageSink::Xz(liblzma::write::XzEncoder::new_stream(
                    HashingFile::new(file),
                    stream,
                ))
            }
            Compression::Gzip => ImageSink::Gzip(flate2::write::GzEncoder::new(
                HashingFile::new(file),
                flate2::Compression::default(),
            )),
            Compression::Raw => ImageSink::Raw(file),
        })
    }

    /// The image's bytes at `offset`; calls come in order, and the bytes
    /// between them are zeros ([`ImageSink::zeros`]).
    pub(crate) fn data(&mut self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        match self {
            ImageSink::Zstd(w) => w.write_all(bytes),
            ImageSink::Xz(w) => w.write_all(bytes),
            ImageSink::Gzip(w) => w.write_all(bytes),
            ImageSink::Raw(file) => write_sparse(file, offset, bytes),
        }
    }

    /// `len` zero bytes of free space.
    pub(crate) fn zeros(&mut self, mut len: u64) -> io::Result<()> {
        if matches!(self, ImageSink::Raw(_)) {
            return Ok(());
        }
        while len > 0 {
            let n = len.min(ZEROS.len() as u64) as usize;
            self.data(0, &ZEROS[..n])?;
            len -= n as u64;
        }
        Ok(())
    }

    /// Ends the stream (the image was `size` bytes): the output file's
    /// SHA-256 and length, synced to its storage.
    pub(crate) fn finish(self, size: u64) -> io::Result<Option<([u8; 32], u64)>> {
        let file = match self {
            ImageSink::Zstd(w) => w.finish()?,
            ImageSink::Xz(w) => w.finish()?,
            ImageSink::Gzip(w) => w.finish()?,
            ImageSink::Raw(file) => {
                // The free space at the end: a hole.
                file.set_len(size)?;
                file.sync_all()?;
                return Ok(None);
            }
        };
        file.finish().map(Some)
    }
}

/// Writes `bytes` at `offset`, leaving 4 KiB blocks of zeros as holes.
fn write_sparse(file: &File, offset: u64, bytes: &[u8]) -> io::Result<()> {
    const BLOCK: usize = 4096;
    let mut run_start: Option<usize> = None;
    for (i, block) in bytes.chunks(BLOCK).enumerate() {
        let zero = block.iter().all(|&b| b == 0);
        match (zero, run_start) {
            (false, None) => run_start = Some(i * BLOCK),
            (true, Some(start)) => {
                platform::write_all_at(file, &bytes[start..i * BLOCK], offset + start as u64)?;
                run_start = None;
            }
            _ => {}
        }
    }
    if let Some(start) = run_start {
        platform::write_all_at(file, &bytes[start..], offset + start as u64)?;
    }
    Ok(())
}

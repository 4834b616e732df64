//! The xz reader: liblzma's multi-threaded decoder, one thread per core, over
//! every concatenated stream of the file.
//!
//! liblzma's multi-threaded decoder cannot be asked to continue across
//! concatenated streams (the `LZMA_CONCATENATED` flag is not exposed for it),
//! so this reader starts a fresh decoder after each stream end, skipping the
//! stream padding in between, as xz(1) does. Files written by `xz -T0` are
//! split into blocks that decode in parallel; a single-block file decodes on
//! one thread whatever the thread count.

use std::io::{self, BufRead, Read};

use liblzma::stream::{Action, Error as LzmaError, MtStreamBuilder, Status, Stream};

/// Decoder memory allowed per thread. liblzma's multi-threaded decoder uses
/// at most `threads` times this for its buffers — and keeps freed output
/// buffers cached up to the limit, so a generous limit makes the memory use
/// creep up over a long image (measured on 2 cores, flashing: a fixed 1 GiB
/// limit gave 186 MiB peak RSS for a 1 GiB image and 222 MiB for 4 GiB;
/// 48 MiB per thread gives 159 and 175 MiB, and is no slower). It holds the
/// 24 MiB blocks and 8 MiB dictionary of `xz -6 -T0` files; files with
/// larger blocks decode on fewer threads rather than use more memory. Its
/// default (0 → 1 byte) would silently mean one thread.
const THREADING_MEMLIMIT_BYTES_PER_THREAD: u64 = 48 << 20;

/// Decoder threads to use: one per core.
pub(super) fn default_thread_count() -> u32 {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .try_into()
        .unwrap_or(u32::MAX)
}

/// A new liblzma decoder for one .xz stream running `threads` threads.
pub(super) fn new_decoder(threads: u32) -> Result<Stream, LzmaError> {
    MtStreamBuilder::new()
        .threads(threads.max(1))
        // 0: block until output is produced; we are on a dedicated thread.
        .timeout_ms(0)
        .memlimit_threading(THREADING_MEMLIMIT_BYTES_PER_THREAD * u64::from(threads.max(1)))
        .memlimit_stop(u64::MAX)
        .decoder()
}

/// Decompresses every .xz stream of `input` in turn.
pub(super) struct XzReader<R> {
    input: R,
    decoder: Stream,
    threads: u32,
    /// Set once the last stream ended and only padding followed it.
    finished: bool,
}

impl<R: BufRead> XzReader<R> {
    pub(super) fn new(input: R, threads: u32) -> Result<Self, LzmaError> {
        Ok(Self {
            input,
            decoder: new_decoder(threads)?,
            threads,
            finished: false,
        })
    }

    /// After a stream ended: skip stream padding (NUL bytes, a multiple of
    /// four) and either finish at end of file or start decoding the next
    /// stream.
    fn start_next_stream(&mut self) -> io::Result<()> {
        let mut padding_len_bytes = 0usize;
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                break;
            }
            let zeros = available.iter().take_while(|&&b| b == 0).count();
            let stops_here = zeros < available.len();
            self.input.consume(zeros);
            padding_len_bytes += zeros;
            if stops_here {
                break;
            }
        }
        if padding_len_bytes % 4 != 0 {
            return Err(corrupt("stream padding is not a multiple of four bytes"));
        }
        if self.input.fill_buf()?.is_empty() {
            self.finished = true;
        } else {
            self.decoder = new_decoder(self.threads).map_err(lzma_error)?;
        }
        Ok(())
    }
}

impl<R: BufRead> Read for XzReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.finished {
                return Ok(0);
            }
            let input = self.input.fill_buf()?;
            let at_eof = input.is_empty();
            let action = if at_eof { Action::Finish } else { Action::Run };
            let (in_before, out_before) = (self.decoder.total_in(), self.decoder.total_out());
            let status = self.decoder.process(input, buf, action);
            let consumed = usize::try_from(self.decoder.total_in() - in_before)
                .map_err(|_| corrupt("decoder consumed more than it was given"))?;
            let produced = usize::try_from(self.decoder.total_out() - out_before)
                .map_err(|_| corrupt("decoder produced more than the buffer"))?;
            self.input.consume(consumed);
            match status.map_err(lzma_error)? {
                Status::StreamEnd => {
                    self.start_next_stream()?;
                    if produced > 0 {
                        return Ok(produced);
                    }
                }
                _ if produced > 0 => return Ok(produced),
                _ if at_eof => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "unexpected end of xz data: the image file is truncated \
                         (incomplete download?)",
                    ));
                }
                // No progress although input was available: liblzma says
                // LZMA_BUF_ERROR (`MemNeeded`) only when it is stuck.
                Status::MemNeeded if consumed == 0 => {
                    return Err(corrupt("the decoder cannot make progress"));
                }
                _ => {}
            }
        }
    }
}

fn corrupt(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt xz data: the image file is damaged ({why})"),
    )
}

/// liblzma's errors in words a user can act on.
fn lzma_error(error: LzmaError) -> io::Error {
    match error {
        LzmaError::Data => corrupt("integrity check failed or invalid compressed data"),
        LzmaError::Format => corrupt("not xz data where the next stream should start"),
        LzmaError::Options => corrupt("unsupported xz options or filters"),
        LzmaError::Mem | LzmaError::MemLimit => io::Error::new(
            io::ErrorKind::OutOfMemory,
            "not enough memory for the xz decoder",
        ),
        other => io::Error::other(format!("xz decoder failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liblzma::write::XzEncoder;
    use std::io::{BufReader, Write};

    fn xz_stream(data: &[u8]) -> Vec<u8> {
        let mut encoder = XzEncoder::new(Vec::new(), 1);
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn decode(compressed: &[u8], threads: u32) -> io::Result<Vec<u8>> {
        let mut reader = XzReader::new(BufReader::new(compressed), threads).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn decodes_concatenated_streams_with_padding() {
        let mut file = xz_stream(b"first stream ");
        file.extend_from_slice(&[0; 8]);
        file.extend(xz_stream(b"second stream"));
        assert_eq!(decode(&file, 2).unwrap(), b"first stream second stream");
    }

    #[test]
    fn padding_must_be_a_multiple_of_four() {
        let mut file = xz_stream(b"data");
        file.extend_from_slice(&[0; 3]);
        let error = decode(&file, 1).unwrap_err();
        assert!(error.to_string().contains("corrupt xz data"), "{error}");
    }

    #[test]
    fn trailing_garbage_is_corrupt() {
        let mut file = xz_stream(b"data");
        file.extend_from_slice(b"this is not the header of an xz stream");
        let error = decode(&file, 1).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
    }

    #[test]
    fn truncation_is_an_error() {
        let data = crate_pseudo_random(300_000);
        let file = xz_stream(&data);
        let error = decode(&file[..file.len() / 2], 2).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof, "{error}");
        assert!(error.to_string().contains("unexpected end of xz data"));
    }

    fn crate_pseudo_random(len: usize) -> Vec<u8> {
        crate::test_random::low_bytes(len, 0x2545_F491_4F6C_DD1D)
    }
}

//! The reader: decompresses the image once into the spool, from which every
//! consumer takes the chunks at its own pace. Chunks hold the image's own bytes: each target applies its
//! own patch (its configured boot partition) to a private copy.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use super::chunk::{CHUNK_BYTES, Chunk};
use super::held::HeldZones;
use super::spool::Spool;
use super::{FailureKind, TargetFailure};
use crate::disk::StreamEnd;
use crate::map::Mapper;
use crate::map::bmap::{Bmap, BmapChecker, BmapMismatch};
use crate::source::ImageSource;

/// Reads `source` to its end into `spool`, whose consumers (targets,
/// hashers) each take the chunks at their own pace. Stops early when no
/// target is left (hashing alone is pointless). Returns the image length
/// when read to its end; the spool is told either way.
///
/// Unless `full`, each chunk carries the used ranges the map of used bytes
/// (`crate::map`) gives it, computed here as it streams; the `patched`
/// regions (configured boot partitions) are always used, and so are the
/// ranges of a `bmap`, whose checksums are checked on the image's own
/// bytes: a range that does not match fails the run (every target) before
/// its last chunk goes out.
///
/// A stream of unknown length must reach the end its own partition tables
/// imply ([`StreamEnd`]): one that ends before fails the source, so no
/// target is reported ok with a cut image (docs/architecture.md §2).
pub(super) fn read_image(
    source: &ImageSource,
    patched: &[Range<u64>],
    bmap: Option<&Bmap>,
    full: bool,
    spool: &Spool,
    cancel: &AtomicBool,
) -> Result<u64, TargetFailure> {
    // However this ends — a panic included — the consumers must hear of it,
    // or they would wait for ever.
    struct Finish<'a>(&'a Spool, Option<Result<u64, TargetFailure>>);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            let result = self.1.take().unwrap_or_else(|| {
                Err(TargetFailure {
                    kind: FailureKind::Source,
                    offset: None,
                    message: "an internal error stopped reading the image; please report this"
                        .to_string(),
                })
            });
            self.0.finish(result);
        }
    }
    let mut finish = Finish(spool, None);
    let mut forced = patched.to_vec();
    forced.extend(bmap.map(Bmap::byte_ranges).unwrap_or_default());
    let mut mapper = (!full).then(|| Mapper::new(forced));
    let mut checker = bmap.map(BmapChecker::new);
    let patched_end = patched.iter().map(|r| r.end).max();
    let result = stream_chunks(
        source,
        patched_end,
        mapper.as_mut(),
        checker.as_mut(),
        spool,
        cancel,
    );
    finish.1 = Some(result.clone());
    result
}

fn stream_chunks(
    source: &ImageSource,
    patched_end: Option<u64>,
    mut mapper: Option<&mut Mapper>,
    mut checker: Option<&mut BmapChecker>,
    spool: &Spool,
    cancel: &AtomicBool,
) -> Result<u64, TargetFailure> {
    let path = source.path().display().to_string();
    let mut stream = source.stream().map_err(|e| TargetFailure {
        kind: FailureKind::Source,
        offset: None,
        message: e.to_string(),
    })?;
    // A length known up front is the image's; otherwise its tables say.
    let mut stream_end = source.size_hint().is_none().then(StreamEnd::default);
    let mut offset = 0u64;
    let mut held = HeldZones::default();
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled(offset));
        }
        let mut buf = spool.buffer();
        let len = fill(&mut stream, &mut buf[..CHUNK_BYTES])
            .map_err(|(filled, e)| read_failure(&path, offset, filled, &e, cancel))?;
        if len == 0 {
            break;
        }
        if let Some(checker) = checker.as_mut() {
            checker.feed(offset, &buf[..len]).map_err(bmap_failure)?;
        }
        if let Some(stream_end) = stream_end.as_mut() {
            stream_end.feed(offset, &buf[..len]);
        }
        if offset == 0 {
            held = HeldZones::from_first_chunk(&buf[..len]);
        }
        let used = used_ranges(mapper.as_deref_mut(), &held, offset, &buf[..len]);
        let mut chunk = Chunk::new(offset, len, buf, Some(spool.home()));
        chunk.used = used;
        spool.push(chunk, cancel)?;
        offset += len as u64;
        if !spool.wanted() {
            return Err(TargetFailure {
                kind: FailureKind::Write,
                offset: Some(offset),
                message: format!(
                    "every target failed (each says why), so reading the image {path} stopped at byte {offset}"
                ),
            });
        }
        if len < CHUNK_BYTES {
            break;
        }
    }
    check_end(&path, offset, stream_end, patched_end, checker)?;
    Ok(offset)
}

/// Why reading the image failed `filled` bytes into the chunk at `offset`:
/// the run's cancellation, a download that stopped, or a damaged image.
fn read_failure(
    path: &str,
    offset: u64,
    filled: usize,
    e: &io::Error,
    cancel: &AtomicBool,
) -> TargetFailure {
    let at = offset + filled as u64;
    // A stream waiting for data gives up when the run is cancelled:
    // that is the cancellation, not a fault of the image.
    if cancel.load(Ordering::Relaxed) {
        return cancelled(offset);
    }
    // A failed download says why and what to do; the image is
    // not known to be damaged.
    if crate::source::is_download_failure(e) {
        return TargetFailure {
            kind: FailureKind::Download,
            offset: Some(at),
            message: format!(
                "downloading the image {path} stopped at byte {at} of its decompressed data: {e}"
            ),
        };
    }
    TargetFailure {
        kind: FailureKind::Source,
        offset: Some(at),
        message: format!(
            "reading the image {path} failed at byte {at} of its decompressed data: {e}; the file is corrupt or truncated, download it again"
        ),
    }
}

/// The image read to its end at `offset`: refused when it holds nothing,
/// ends before its partition tables or its boot partition say, or leaves a
/// bmap range unchecked.
fn check_end(
    path: &str,
    offset: u64,
    stream_end: Option<StreamEnd>,
    patched_end: Option<u64>,
    checker: Option<&mut BmapChecker>,
) -> Result<(), TargetFailure> {
    if offset == 0 {
        return Err(TargetFailure {
            kind: FailureKind::Source,
            offset: Some(0),
            message: format!(
                "the image {path} holds no data (it decompresses to nothing); choose another image"
            ),
        });
    }
    if let Some(Err(cut)) = stream_end.map(|s| s.check(offset)) {
        return Err(TargetFailure {
            kind: FailureKind::Source,
            offset: Some(offset),
            message: format!("reading the image {path} failed: {cut}"),
        });
    }
    if let Some(end) = patched_end
        && end > offset
    {
        return Err(TargetFailure {
            kind: FailureKind::Source,
            offset: Some(offset),
            message: format!(
                "the image {path} ends at byte {offset}, inside its boot partition; the file is truncated"
            ),
        });
    }
    if let Some(checker) = checker {
        checker.finish(offset).map_err(bmap_failure)?;
    }
    Ok(())
}

/// The ranges of the chunk `bytes` at `offset` to write and verify: what
/// `mapper` says (all of it without one, `--full`), cut at the `held`
/// zones' edges — block devices get those last, so each range must lie
/// wholly in or out of them, digest included (docs/architecture.md §11).
fn used_ranges(
    mapper: Option<&mut Mapper>,
    held: &HeldZones,
    offset: u64,
    bytes: &[u8],
) -> Vec<Range<u64>> {
    let used = match mapper {
        Some(mapper) => mapper.used_in(offset, bytes),
        None => std::iter::once(offset..offset + bytes.len() as u64).collect(),
    };
    held.split(used)
}

/// A bmap range that does not match fails every target: the image (or its
/// bmap) is damaged, so no target may be reported ok.
fn bmap_failure(mismatch: BmapMismatch) -> TargetFailure {
    let offset = match &mismatch {
        BmapMismatch::Range { start, .. } => *start,
        BmapMismatch::Size { actual, .. } => *actual,
    };
    TargetFailure {
        kind: FailureKind::Checksum,
        offset: Some(offset),
        message: mismatch.to_string(),
    }
}

fn cancelled(offset: u64) -> TargetFailure {
    TargetFailure {
        kind: FailureKind::Cancelled,
        offset: Some(offset),
        message: format!(
            "cancelled after {offset} bytes; the target is incomplete and will not boot, flash it again"
        ),
    }
}

/// Reads until `buf` is full or the stream ends. On error, says how many
/// bytes of `buf` were filled.
fn fill(stream: &mut dyn Read, buf: &mut [u8]) -> Result<usize, (usize, io::Error)> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((filled, e)),
        }
    }
    Ok(filled)
}

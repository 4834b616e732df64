//! The partition table last, on a block device (docs/architecture.md §11
//! "The first MiB last"): its first and last MiB are cleared before the
//! image is written — a stale backup GPT lives in the last — the bytes
//! [`super::held`] holds back are written and verified only after every
//! other byte is, and a run that fails or is cancelled leaves the drive
//! with a zero first MiB, which its result says.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::device_io::DeviceIo;
use super::held::FIRST_MIB;
use super::verifier::{HeldDigest, check_digest, verify_failure};
use super::{FailureKind, TargetFailure};
use crate::patch::Patch;
use crate::target::{AlignedBuf, TargetInfo, TargetOpener};

/// What a failed or cancelled block-device target's message ends with.
pub(super) const LEFT_BLANK: &str =
    "the card was left blank so it cannot be mistaken for a good one";

/// Bytes held back to be written last: `len` bytes at `offset`, as this
/// target writes them (its patch applied).
pub(super) struct HeldBytes {
    pub offset: u64,
    pub len: usize,
    pub bytes: AlignedBuf,
}

/// Writes zeros over the first and the last MiB of the device (the whole
/// of it when smaller than 2 MiB).
pub(super) fn clear_ends(
    file: &DeviceIo,
    info: &TargetInfo,
    cancel: &AtomicBool,
) -> Result<(), TargetFailure> {
    // Whole sectors only, as O_DIRECT wants (a device's size is a whole
    // number of them).
    let block = u64::from(info.logical_block_size.max(512));
    let size = info.size_bytes.unwrap_or(FIRST_MIB);
    let size = size - size % block;
    let mut ranges: Vec<_> = std::iter::once(0..FIRST_MIB.min(size)).collect();
    if size > FIRST_MIB {
        let start = size.saturating_sub(FIRST_MIB).max(FIRST_MIB);
        ranges.push(start - start % block..size);
    }
    zero(file, info, cancel, ranges, None)
}

/// Writes zeros over `ranges` (each at most a MiB), made durable when
/// `sync` gives the image's length (the image's own fsync covers the
/// clearing before it).
fn zero(
    file: &DeviceIo,
    info: &TargetInfo,
    cancel: &AtomicBool,
    ranges: Vec<std::ops::Range<u64>>,
    sync: Option<u64>,
) -> Result<(), TargetFailure> {
    let path = info.path.display().to_string();
    let at = ranges.first().map_or(0, |r| r.start);
    file.call(cancel, move |file| {
        let zeros = AlignedBuf::zeroed(FIRST_MIB as usize);
        for r in ranges {
            file.write_at(r.start, &zeros[..(r.end - r.start) as usize])?;
        }
        sync.map_or(Ok(()), |image_len| file.finish(image_len))
    })
    .map_err(|_| stuck(&path, at))?
    .map_err(|error| TargetFailure {
        kind: FailureKind::Write,
        offset: error.offset(),
        message: format!("clearing the partition table: {error}"),
    })
}

fn stuck(path: &str, offset: u64) -> TargetFailure {
    TargetFailure {
        kind: FailureKind::Cancelled,
        offset: Some(offset),
        message: format!(
            "cancelled at byte {offset} before a write to {path} had returned (the drive is slow or not responding); it is incomplete, flash it again"
        ),
    }
}

/// Writes the `held` bytes and makes them durable, then — with `digests`
/// (verification on) — reads them back and checks them. On failure the
/// held zones are zeroed again, so the drive still has no partition table.
pub(super) fn write_and_verify_last(
    file: &DeviceIo,
    last: Last<'_>,
    held: Vec<HeldBytes>,
    digests: Option<Vec<HeldDigest>>,
) -> Result<(), TargetFailure> {
    if last.cancel.load(Ordering::Relaxed) {
        return Err(TargetFailure {
            kind: FailureKind::Cancelled,
            offset: Some(0),
            message: format!(
                "cancelled before the partition table was written: {} is incomplete; flash it again",
                last.info.path.display()
            ),
        });
    }
    let zones: Vec<_> = held
        .iter()
        .map(|h| h.offset..h.offset + h.len as u64)
        .collect();
    let held = Arc::new(held);
    let result = write_held(file, &last, held.clone())
        .and_then(|()| digests.map_or(Ok(()), |d| verify_held(&last, &held, d)));
    if result.is_err() {
        // Best effort: the failure is reported either way.
        let mut blank: Vec<_> = std::iter::once(0..FIRST_MIB).collect();
        blank.extend(zones.into_iter().filter(|z| z.start >= FIRST_MIB));
        let _ = zero(file, last.info, last.cancel, blank, Some(last.image_bytes));
    }
    result
}

/// What the last step needs of its target.
pub(super) struct Last<'a> {
    pub info: &'a TargetInfo,
    pub patch: Option<&'a Patch>,
    pub opener: &'a dyn TargetOpener,
    pub cancel: &'a AtomicBool,
    pub image_bytes: u64,
}

fn write_held(
    file: &DeviceIo,
    last: &Last<'_>,
    held: Arc<Vec<HeldBytes>>,
) -> Result<(), TargetFailure> {
    let path = last.info.path.display().to_string();
    let image_bytes = last.image_bytes;
    file.call(last.cancel, move |file| {
        for h in held.iter() {
            file.write_at(h.offset, &h.bytes[..h.len])?;
        }
        file.finish(image_bytes)
    })
    .map_err(|_| stuck(&path, 0))?
    .map_err(|error| TargetFailure {
        kind: FailureKind::Write,
        offset: error.offset(),
        message: format!("writing the partition table, last: {error}"),
    })
}

fn verify_held(
    last: &Last<'_>,
    held: &[HeldBytes],
    digests: Vec<HeldDigest>,
) -> Result<(), TargetFailure> {
    let opened = last
        .opener
        .open_for_read(last.info)
        .map_err(|e| verify_failure(e.offset(), e.to_string()))?;
    let reader = DeviceIo::spawn(
        opened,
        format!("verify-io/{}", super::short_name(last.info)),
    );
    let path = last.info.path.display().to_string();
    for (h, expected) in held.iter().zip(digests) {
        let (offset, len) = (h.offset, h.len);
        if (expected.offset, expected.len) != (offset, len) {
            return Err(verify_failure(
                Some(offset),
                "the image's checksums do not match the ranges written; please report this"
                    .to_string(),
            ));
        }
        let (read, mut buf) = reader
            .call(last.cancel, move |file| {
                let mut buf = AlignedBuf::zeroed(len.next_multiple_of(4096));
                (file.read_at(offset, &mut buf, len), buf)
            })
            .map_err(|_| stuck(&path, offset))?;
        read.map_err(|e| verify_failure(e.offset(), e.to_string()))?;
        if let Some(patch) = last.patch
            && let Some(at) = patch.check_and_restore(offset, &mut buf[..len])
        {
            return Err(verify_failure(
                Some(at),
                format!(
                    "verification of {path} failed: byte {at} read back is not the configured boot partition's; the drive may be failing or fake, try another drive"
                ),
            ));
        }
        check_digest(last.info, &expected.digest, offset, &buf[..len])?;
    }
    Ok(())
}

/// `failure` of a block-device target whose partition table is known to
/// be zero, saying so.
pub(super) fn left_blank(mut failure: TargetFailure) -> TargetFailure {
    failure.message = format!("{} ({LEFT_BLANK})", failure.message);
    failure
}

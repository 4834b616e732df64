//! Checking a bmap's checksums: its own, and its ranges' on the image's
//! bytes as they stream.

use super::*;

/// A running SHA-1 or SHA-256.
pub(super) enum RangeHasher {
    Sha1(Sha1),
    Sha256(Sha256),
}

impl RangeHasher {
    pub(super) fn new(kind: ChecksumType) -> RangeHasher {
        match kind {
            ChecksumType::Sha1 => RangeHasher::Sha1(Sha1::new()),
            ChecksumType::Sha256 => RangeHasher::Sha256(Sha256::new()),
        }
    }

    pub(super) fn update(&mut self, bytes: &[u8]) {
        match self {
            RangeHasher::Sha1(h) => h.update(bytes),
            RangeHasher::Sha256(h) => h.update(bytes),
        }
    }

    pub(super) fn finish(self) -> Vec<u8> {
        match self {
            RangeHasher::Sha1(h) => h.finalize().to_vec(),
            RangeHasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// Checks the checksum of every bmap range on the image's bytes, fed in
/// order as they stream (before any configuration patch: the bmap describes
/// the published image).
pub(crate) struct BmapChecker<'a> {
    bmap: &'a Bmap,
    /// The next range whose checksum is not yet known to match.
    next: usize,
    /// The running hash of `ranges[next]`, once its first byte streamed.
    hasher: Option<RangeHasher>,
    position: u64,
}

impl<'a> BmapChecker<'a> {
    pub(crate) fn new(bmap: &'a Bmap) -> BmapChecker<'a> {
        BmapChecker {
            bmap,
            next: 0,
            hasher: None,
            position: 0,
        }
    }

    /// Feeds the image's `bytes` at `offset` (where the previous ones
    /// ended); fails on the first range that does not match.
    pub(crate) fn feed(&mut self, offset: u64, bytes: &[u8]) -> Result<(), BmapMismatch> {
        debug_assert_eq!(offset, self.position, "chunks stream in order");
        let end = offset + bytes.len() as u64;
        self.position = end;
        let Some(kind) = self.bmap.checksum_type else {
            return Ok(());
        };
        while let Some(range) = self.bmap.ranges.get(self.next) {
            let Some(expected) = &range.checksum else {
                self.next += 1;
                continue;
            };
            let span = self.bmap.bytes_of(range);
            if span.start >= end {
                break;
            }
            let from = span.start.max(offset);
            let to = span.end.min(end);
            let hasher = self.hasher.get_or_insert_with(|| RangeHasher::new(kind));
            if from < to {
                hasher.update(&bytes[(from - offset) as usize..(to - offset) as usize]);
            }
            if span.end > end {
                break;
            }
            let digest = self.hasher.take().map(RangeHasher::finish);
            if digest.as_deref() != Some(expected.as_slice()) {
                return Err(BmapMismatch::Range {
                    path: self.bmap.path.clone(),
                    first: range.first,
                    last: range.last,
                    start: span.start,
                    end: span.end,
                });
            }
            self.next += 1;
        }
        Ok(())
    }

    /// The image ended after `image_bytes`: it must be as long as the bmap
    /// says (then every range has been checked).
    pub(crate) fn finish(&self, image_bytes: u64) -> Result<(), BmapMismatch> {
        if image_bytes != self.bmap.image_size {
            return Err(BmapMismatch::Size {
                path: self.bmap.path.clone(),
                expected: self.bmap.image_size,
                actual: image_bytes,
            });
        }
        Ok(())
    }
}

/// Checks the file's own checksum, stored in `element`: the digest of the
/// file with that value replaced by as many `0`s.
pub(super) fn check_file_checksum(
    path: &Path,
    bytes: &[u8],
    root: roxmltree::Node<'_, '_>,
    kind: ChecksumType,
    element: &str,
) -> Result<(), BmapError> {
    let stored = child_text(root, element)
        .ok_or_else(|| malformed(path, format!("<{element}> is missing")))?
        .trim();
    let expected = parse_hex(stored, kind.len()).ok_or_else(|| {
        malformed(
            path,
            format!(
                "<{element}> is {stored:?}, not {} hexadecimal digits",
                2 * kind.len()
            ),
        )
    })?;
    // bmaptool zeroes the first occurrence of the value in the file; the
    // element's text is in the file, so there is one.
    let at = bytes
        .windows(stored.len())
        .position(|w| w == stored.as_bytes())
        .ok_or_else(|| malformed(path, format!("<{element}> is written with escapes")))?;
    let mut zeroed = bytes.to_vec();
    zeroed[at..at + stored.len()].fill(b'0');
    if kind.digest(&zeroed) != expected {
        return Err(malformed(
            path,
            format!("its own checksum <{element}> does not match its contents (damaged or edited)"),
        ));
    }
    Ok(())
}

//! Writing a bmap (bmaptool's format 2.0, SHA-256 per range) for an image
//! whose used ranges are known: what `imprint backup` stores beside its
//! image, so that `bmaptool copy` and `imprint flash` write only those
//! ranges and check each one's digest. The ranges' digests are taken as the
//! image's bytes stream past, in order.

use std::ops::Range;

use sha2::{Digest, Sha256};

use crate::hex::hex;

/// bmaptool's block: every range starts on one.
const BLOCK: u64 = 4096;

/// Collects the digests of an image's mapped ranges as its bytes stream.
pub(crate) struct BmapWriter {
    size: u64,
    /// Block-aligned, sorted, disjoint, within the image.
    ranges: Vec<Range<u64>>,
    digests: Vec<String>,
    /// The range being hashed (index into `ranges`) and its hasher.
    current: usize,
    hasher: Sha256,
    position: u64,
}

impl BmapWriter {
    /// A bmap of an image of `size` bytes mapping `used` (sorted, disjoint),
    /// widened to whole blocks (the last one may end at the image's end).
    pub(crate) fn new(size: u64, used: &[Range<u64>]) -> BmapWriter {
        let mut ranges: Vec<Range<u64>> = Vec::with_capacity(used.len());
        for r in used {
            let r = r.start / BLOCK * BLOCK..r.end.next_multiple_of(BLOCK).min(size);
            if r.start >= r.end {
                continue;
            }
            match ranges.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => ranges.push(r),
            }
        }
        BmapWriter {
            size,
            ranges,
            digests: Vec::new(),
            current: 0,
            hasher: Sha256::new(),
            position: 0,
        }
    }

    /// The image's next bytes, which start where the last call's ended.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let Some(range) = self.ranges.get(self.current) else {
                self.position += bytes.len() as u64;
                return;
            };
            let end = self.position + bytes.len() as u64;
            if end <= range.start {
                self.position = end;
                return;
            }
            if self.position < range.start {
                let skip = (range.start - self.position) as usize;
                bytes = &bytes[skip..];
                self.position = range.start;
            }
            let take = ((range.end - self.position) as usize).min(bytes.len());
            self.hasher.update(&bytes[..take]);
            bytes = &bytes[take..];
            self.position += take as u64;
            if self.position == range.end {
                let digest = std::mem::take(&mut self.hasher).finalize();
                self.digests.push(hex(&digest));
                self.current += 1;
            }
        }
    }

    /// The bmap file's text; `None` until every range has streamed.
    pub(crate) fn finish(&self) -> Option<String> {
        if self.digests.len() != self.ranges.len() {
            return None;
        }
        let mapped: u64 = self
            .ranges
            .iter()
            .map(|r| (r.end - r.start).div_ceil(BLOCK))
            .sum();
        let zeros = "0".repeat(64);
        let mut xml = String::new();
        xml.push_str("<?xml version=\"1.0\" ?>\n");
        xml.push_str("<!-- Written by imprint backup: the used blocks of the image, each range with its SHA-256. -->\n");
        xml.push_str("<bmap version=\"2.0\">\n");
        xml.push_str(&format!("    <ImageSize> {} </ImageSize>\n", self.size));
        xml.push_str(&format!("    <BlockSize> {BLOCK} </BlockSize>\n"));
        xml.push_str(&format!(
            "    <BlocksCount> {} </BlocksCount>\n",
            self.size.div_ceil(BLOCK)
        ));
        xml.push_str(&format!(
            "    <MappedBlocksCount> {mapped} </MappedBlocksCount>\n"
        ));
        xml.push_str("    <ChecksumType> sha256 </ChecksumType>\n");
        xml.push_str(&format!(
            "    <BmapFileChecksum> {zeros} </BmapFileChecksum>\n"
        ));
        xml.push_str("    <BlockMap>\n");
        for (r, digest) in self.ranges.iter().zip(&self.digests) {
            let (first, last) = (r.start / BLOCK, (r.end - 1) / BLOCK);
            let blocks = if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            };
            xml.push_str(&format!(
                "        <Range chksum=\"{digest}\"> {blocks} </Range>\n"
            ));
        }
        xml.push_str("    </BlockMap>\n</bmap>\n");
        // bmaptool's file checksum: the file's SHA-256 with that field zeroed.
        let own = hex(&Sha256::digest(xml.as_bytes()));
        Some(xml.replacen(&zeros, &own, 1))
    }
}

#[cfg(test)]
#[path = "bmap_write_tests.rs"]
mod tests;

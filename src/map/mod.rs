//! The map of used bytes: which ranges of an image must be written and
//! verified, computed while the image streams past (never a second pass).
//!
//! Everything is used unless positive evidence says it is free: the
//! partition tables that count (`crate::disk::tables`, the kernel's rules:
//! MBR with its EBR chain, GPT behind a protective MBR, both behind a
//! hybrid one), then per partition by content an ext2/3/4 filesystem's
//! block bitmaps (`ext`) or a FAT's free clusters (`fat`). Space outside
//! partitions, unknown filesystems and anything malformed stay used; so do
//! overlapping or nested partitions (`layout`) and ISO 9660 / UDF volumes,
//! whether at a partition's start or the image's (an isohybrid ISO).
//! Filesystem metadata precedes the data it describes, so the free ranges
//! are usually known before those ranges stream; a range whose metadata
//! comes too late is simply used. The map may only ever make Imprint write
//! more than needed, never less (docs/architecture.md §2).
//!
//! The parsers ask for byte ranges of the image (`Request`); the mapper
//! hands each one its bytes as they stream, in order, and turns the answers
//! into free ranges, shrunk inward to [`ALIGN`] so that what remains used is
//! aligned for direct I/O on any logical sector size up to 4 KiB.
//!
//! A bmap file ([`bmap`]) adds its ranges as forced ones: the map with a
//! bmap is the union of both (docs/architecture.md §2).

pub(crate) mod bmap;
pub(crate) mod bmap_write;
pub(crate) mod device;
mod ext;
mod fat;
mod layout;

use std::collections::BTreeMap;
use std::ops::Range;

use crate::disk::{is_optical_volume, read_ebr};
use layout::{Kind, Layout};

/// Alignment of every used range (except at the image's end): 4 KiB, a
/// multiple of every logical sector size Imprint writes with O_DIRECT.
pub(crate) const ALIGN: u64 = 4096;
/// Free gaps shorter than this between two used ranges are written anyway:
/// one larger write costs less than two system calls on a card.
pub(crate) const MIN_GAP: u64 = 64 << 10;
/// Bytes read for the partition table: MBR, and GPT with 4096-byte sectors.
const TABLE_LEN: usize = 1 << 20;
/// Bytes read at a partition's start to tell its filesystem: the ext
/// superblock ends at 2048, a FAT boot sector at 512.
const PROBE_LEN: usize = 2048;
/// A parser never buffers more than this for one request (an ext group
/// descriptor table of a 2 TB filesystem is 1 MiB): larger is malformed.
const MAX_REQUEST: usize = 8 << 20;
/// More logical partitions than this is a corrupt or looping EBR chain.
const MAX_LOGICAL: u32 = 128;

/// A range of the image a parser needs, and what to do with it.
struct Request {
    start: u64,
    len: usize,
    buf: Vec<u8>,
    want: Want,
}

impl Request {
    fn next_byte(&self) -> u64 {
        self.start + self.buf.len() as u64
    }
}

/// What a request's bytes are for.
enum Want {
    Table,
    Ebr {
        lba: u64,
        extended: u64,
        number: u32,
    },
    Probe {
        part: Range<u64>,
    },
    /// A partition's volume descriptors: ISO 9660 or UDF makes it used.
    Optical {
        part: Range<u64>,
    },
    Ext {
        fs: usize,
        step: ext::Step,
    },
    Fat {
        fs: usize,
        copy: usize,
        first_entry: u64,
    },
}

/// What parsers tell the mapper.
#[derive(Default)]
struct Findings {
    free: Vec<Range<u64>>,
    requests: Vec<(u64, usize, Want)>,
}

impl Findings {
    fn request(&mut self, start: u64, len: usize, want: Want) {
        self.requests.push((start, len, want));
    }
}

/// Computes the used ranges of each chunk of an image streamed in order.
pub(crate) struct Mapper {
    /// Pending requests by the next byte they need (and a sequence number).
    requests: BTreeMap<(u64, u64), Request>,
    sequence: u64,
    /// Known free ranges not yet streamed, by start; [`ALIGN`]ed.
    free: BTreeMap<u64, u64>,
    /// Ranges that are used whatever the filesystems say (a configured boot
    /// partition, whose bytes are the patch's, not the image's; a bmap's
    /// ranges): sorted, disjoint, so a chunk finds its own by binary search
    /// among a bmap's thousands.
    forced: Vec<Range<u64>>,
    position: u64,
    exts: Vec<ext::ExtFs>,
    fats: Vec<fat::FatFs>,
    /// The structures covering the image and the ranges they make used.
    layout: Layout,
    /// The partitions whose filesystem a parser took on, and which one
    /// (what `imprint backup` tells the user).
    found: Vec<(Range<u64>, &'static str)>,
}

impl Mapper {
    /// A mapper for an image whose `forced` ranges (in any order) are
    /// always used.
    pub(crate) fn new(mut forced: Vec<Range<u64>>) -> Mapper {
        forced.retain(|r| r.start < r.end);
        forced.sort_by_key(|r| r.start);
        let mut disjoint: Vec<Range<u64>> = Vec::with_capacity(forced.len());
        for r in forced {
            match disjoint.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => disjoint.push(r),
            }
        }
        let mut mapper = Mapper {
            requests: BTreeMap::new(),
            sequence: 0,
            free: BTreeMap::new(),
            forced: disjoint,
            position: 0,
            exts: Vec::new(),
            fats: Vec::new(),
            layout: Layout::default(),
            found: Vec::new(),
        };
        mapper.push(0, TABLE_LEN, Want::Table);
        mapper
    }

    /// The used ranges of the next `bytes` of the image, which start at
    /// `offset` (the end of the previous call's bytes): sorted, disjoint,
    /// within the chunk, starting on [`ALIGN`] boundaries.
    pub(crate) fn used_in(&mut self, offset: u64, bytes: &[u8]) -> Vec<Range<u64>> {
        debug_assert_eq!(offset, self.position, "chunks stream in order");
        let end = offset + bytes.len() as u64;
        self.feed(offset, bytes);
        self.position = end;
        let used = self.used_between(offset, end);
        // Free ranges behind the stream are of no further use.
        let passed: Vec<u64> = self
            .free
            .range(..end)
            .filter(|(_, e)| **e <= end)
            .map(|(s, _)| *s)
            .collect();
        for start in passed {
            self.free.remove(&start);
        }
        used
    }

    /// Bytes the map says are free so far and not yet streamed (for tests).
    #[cfg(test)]
    fn free_ranges(&self) -> Vec<Range<u64>> {
        self.free.iter().map(|(s, e)| *s..*e).collect()
    }

    fn push(&mut self, start: u64, len: usize, want: Want) {
        if len == 0 || len > MAX_REQUEST {
            return;
        }
        self.sequence += 1;
        let request = Request {
            start,
            len,
            buf: Vec::new(),
            want,
        };
        self.requests.insert((start, self.sequence), request);
    }

    /// Hands every request its bytes from this chunk, answering the complete
    /// ones; their answers may ask for more bytes of the same chunk.
    fn feed(&mut self, offset: u64, bytes: &[u8]) {
        let end = offset + bytes.len() as u64;
        while let Some(entry) = self.requests.first_entry() {
            if entry.key().0 >= end {
                break;
            }
            let mut request = entry.remove();
            let at = request.next_byte();
            if at < offset {
                // Its bytes have streamed past already: unknown, so used.
                continue;
            }
            let take = (request.len - request.buf.len()).min((end - at) as usize);
            let from = (at - offset) as usize;
            if request.buf.capacity() == 0 {
                request.buf.reserve_exact(request.len);
            }
            request.buf.extend_from_slice(&bytes[from..from + take]);
            if request.buf.len() < request.len {
                self.sequence += 1;
                self.requests
                    .insert((request.next_byte(), self.sequence), request);
                continue;
            }
            let mut findings = Findings::default();
            self.answer(request, &mut findings);
            for range in findings.free {
                self.add_free(range);
            }
            for (start, len, want) in findings.requests {
                self.push(start, len, want);
            }
        }
    }

    fn answer(&mut self, request: Request, out: &mut Findings) {
        let bytes = &request.buf;
        match request.want {
            Want::Table => self.answer_table(bytes, out),
            Want::Ebr {
                lba,
                extended,
                number,
            } => {
                let Ok((logical, next)) = read_ebr(bytes, lba, extended, number) else {
                    return;
                };
                let mut next_number = number;
                if let Some(p) = logical {
                    self.add_structure(&p, Kind::Logical, out);
                    next_number += 1;
                }
                if let Some(next) = next
                    && next_number < 5 + MAX_LOGICAL
                {
                    out.request(
                        next.saturating_mul(512),
                        512,
                        Want::Ebr {
                            lba: next,
                            extended,
                            number: next_number,
                        },
                    );
                }
            }
            Want::Probe { part } => {
                if let Some(fs) = ext::ExtFs::from_probe(part.clone(), bytes) {
                    self.found.push((part.clone(), "ext2/3/4"));
                    let index = self.exts.len();
                    fs.start(index, out);
                    self.exts.push(fs);
                } else if let Some(fs) = fat::FatFs::from_probe(part.clone(), bytes) {
                    self.found.push((part, "FAT"));
                    let index = self.fats.len();
                    fs.start(index, out);
                    self.fats.push(fs);
                }
            }
            Want::Optical { part } => {
                if is_optical_volume(bytes) {
                    self.veto(part);
                }
            }
            Want::Ext { fs, step } => {
                if let Some(ext) = self.exts.get_mut(fs) {
                    ext.answer(fs, step, bytes, out);
                }
            }
            Want::Fat {
                fs,
                copy,
                first_entry,
            } => {
                if let Some(fat) = self.fats.get_mut(fs) {
                    fat.answer(copy, first_entry, bytes, out);
                }
            }
        }
    }

    /// Records `range` as free, shrunk inward to [`ALIGN`]; what has
    /// streamed already is left alone.
    fn add_free(&mut self, range: Range<u64>) {
        for allowed in self.layout.allowed(range) {
            self.add_allowed_free(allowed);
        }
    }

    fn add_allowed_free(&mut self, range: Range<u64>) {
        let start = range.start.max(self.position).next_multiple_of(ALIGN);
        let end = range.end / ALIGN * ALIGN;
        if start >= end {
            return;
        }
        // Merge with a range that ends exactly where this one starts, the
        // common case of consecutive bitmap runs, to keep the map small.
        if let Some((&s, e)) = self.free.range_mut(..start).next_back()
            && *e == start
        {
            *e = end;
            let _ = s;
            return;
        }
        let slot = self.free.entry(start).or_insert(end);
        *slot = (*slot).max(end);
    }

    /// `[from, to)` minus the free ranges, plus the forced ones; gaps below
    /// [`MIN_GAP`] closed.
    fn used_between(&self, from: u64, to: u64) -> Vec<Range<u64>> {
        let mut used = Vec::new();
        let mut cursor = from;
        for (&s, &e) in self.free.range(..to) {
            if e <= cursor {
                continue;
            }
            let s = s.max(cursor);
            if s > cursor {
                used.push(cursor..s);
            }
            cursor = e.min(to);
            if cursor >= to {
                break;
            }
        }
        if cursor < to {
            used.push(cursor..to);
        }
        let first = self.forced.partition_point(|r| r.end <= from);
        for forced in self.forced[first..].iter().take_while(|r| r.start < to) {
            let (s, e) = (forced.start.max(from), forced.end.min(to));
            if s < e {
                used.push(s / ALIGN * ALIGN..e.next_multiple_of(ALIGN).min(to).max(s));
            }
        }
        used.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<u64>> = Vec::with_capacity(used.len());
        for r in used {
            let r = r.start.max(from)..r.end;
            match merged.last_mut() {
                Some(last) if r.start <= last.end.saturating_add(MIN_GAP) => {
                    last.end = last.end.max(r.end)
                }
                _ => merged.push(r),
            }
        }
        merged
    }
}

/// Asks for the first bytes of the partition `part` to tell its filesystem.
fn probe(out: &mut Findings, part: Range<u64>) {
    if part.end - part.start >= PROBE_LEN as u64 {
        out.request(part.start, PROBE_LEN, Want::Probe { part });
    }
}

/// Little-endian integers from untrusted bytes: 0 past the end.
fn le16(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 2)
        .map_or(0, |s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4).map_or(0, |s| {
        u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    })
}

/// The sum of the lengths of `ranges`.
pub(crate) fn total(ranges: &[Range<u64>]) -> u64 {
    ranges.iter().map(|r| r.end - r.start).sum()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
#[path = "layout_tests.rs"]
mod layout_tests;

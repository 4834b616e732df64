//! The free blocks of an ext2/3/4 filesystem, from its superblock, group
//! descriptors (32- or 64-byte) and block bitmaps, as they stream past.
//!
//! Layout as in e2fsprogs' `lib/ext2fs/ext2_fs.h`. Groups marked
//! `BLOCK_UNINIT` (with group descriptor checksums on) have no bitmap on
//! disk: all their blocks are free except the superblock backup, the
//! descriptor tables and any group's bitmaps or inode table inside them,
//! which is what the kernel assumes too. Features that change where blocks
//! live or what a bitmap bit means (bigalloc, meta_bg, sparse_super2), a
//! journal that needs recovery, or a filesystem not cleanly unmounted make
//! the partition fully used.
//!
//! Metadata that fails its own checksum ([`csum`]) is not believed: a
//! superblock or any group descriptor that does not match makes the whole
//! partition used (a bad descriptor's locations and flags say nothing, and
//! other groups' free space is computed from them); a block bitmap that
//! does not match makes its group used.

use std::ops::Range;

use super::{Findings, Want, le16, le32};
use csum::Checksums;

#[path = "ext_csum.rs"]
mod csum;

const MAGIC: u64 = 0xEF53;
const COMPAT_SPARSE_SUPER2: u64 = 0x200;
const INCOMPAT_RECOVER: u64 = 0x4;
const INCOMPAT_JOURNAL_DEV: u64 = 0x8;
const INCOMPAT_META_BG: u64 = 0x10;
const INCOMPAT_64BIT: u64 = 0x80;
/// Incompatible features whose layout this parser understands.
const INCOMPAT_KNOWN: u64 = 0x2 // filetype
    | 0x40 // extents
    | INCOMPAT_64BIT
    | 0x100 // mmp
    | 0x200 // flex_bg
    | 0x400 // ea_inode
    | 0x1000 // dirdata
    | 0x2000 // csum_seed
    | 0x4000 // largedir
    | 0x8000 // inline_data
    | 0x10000 // encrypt
    | 0x20000; // casefold
const RO_COMPAT_SPARSE_SUPER: u64 = 0x1;
const RO_COMPAT_BIGALLOC: u64 = 0x200;
const BG_BLOCK_UNINIT: u64 = 0x2;
/// State bits: cleanly unmounted, errors detected.
const STATE_VALID: u64 = 0x1;
const STATE_ERROR: u64 = 0x2;

/// Which piece of metadata a request is for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    Descriptors,
    Bitmap { group: u64 },
}

/// A group's number, the block of its block bitmap, and its flags.
type GroupPlan = (u64, u64, u64);

/// One ext filesystem at the start of a partition.
pub(super) struct ExtFs {
    part: Range<u64>,
    block: u64,
    blocks: u64,
    first_data_block: u64,
    blocks_per_group: u64,
    groups: u64,
    desc_size: usize,
    is_64bit: bool,
    sparse_super: bool,
    checksums: Checksums,
    reserved_gdt: u64,
    inode_table_blocks: u64,
    /// Each group's descriptor, kept for its block bitmap's checksum.
    descriptors: Vec<u8>,
}

impl ExtFs {
    /// The filesystem whose superblock is at byte 1024 of `probe`, the first
    /// bytes of the partition `part`; `None` when it is not ext or not one
    /// this parser maps.
    pub(super) fn from_probe(part: Range<u64>, probe: &[u8]) -> Option<ExtFs> {
        let sb = probe.get(1024..2048)?;
        if le16(sb, 0x38) != MAGIC {
            return None;
        }
        let state = le16(sb, 0x3A);
        let compat = le32(sb, 0x5C);
        let incompat = le32(sb, 0x60);
        let ro_compat = le32(sb, 0x64);
        let log_block = le32(sb, 0x18);
        if state & STATE_VALID == 0
            || state & STATE_ERROR != 0
            || incompat & !INCOMPAT_KNOWN != 0
            || incompat & (INCOMPAT_RECOVER | INCOMPAT_JOURNAL_DEV | INCOMPAT_META_BG) != 0
            || compat & COMPAT_SPARSE_SUPER2 != 0
            || ro_compat & RO_COMPAT_BIGALLOC != 0
            || log_block > 6
        {
            return None;
        }
        let block = 1024u64 << log_block;
        let is_64bit = incompat & INCOMPAT_64BIT != 0;
        let blocks = le32(sb, 0x4) | if is_64bit { le32(sb, 0x150) << 32 } else { 0 };
        let first_data_block = le32(sb, 0x14);
        let blocks_per_group = le32(sb, 0x20);
        let inodes_per_group = le32(sb, 0x28);
        let rev = le32(sb, 0x4C);
        let inode_size = if rev >= 1 { le16(sb, 0x58) } else { 128 };
        let desc_size = if is_64bit { le16(sb, 0xFE) } else { 32 };
        let plausible = blocks_per_group > 0
            && blocks_per_group <= block * 8
            && blocks > first_data_block
            && first_data_block <= 1
            && (desc_size == 32 || (is_64bit && (64..=1024).contains(&desc_size)))
            && inode_size >= 128
            && inode_size <= block;
        if !plausible {
            return None;
        }
        let groups = (blocks - first_data_block).div_ceil(blocks_per_group);
        let checksums = Checksums::of_superblock(sb)?;
        Some(ExtFs {
            part,
            block,
            blocks,
            first_data_block,
            blocks_per_group,
            groups,
            desc_size: desc_size as usize,
            is_64bit,
            sparse_super: ro_compat & RO_COMPAT_SPARSE_SUPER != 0,
            checksums,
            reserved_gdt: le16(sb, 0xCE),
            inode_table_blocks: (inodes_per_group * inode_size).div_ceil(block),
            descriptors: Vec::new(),
        })
    }

    /// Asks for the group descriptors, which follow the superblock's block.
    pub(super) fn start(&self, index: usize, out: &mut Findings) {
        let len = self.groups.saturating_mul(self.desc_size as u64);
        let Ok(len) = usize::try_from(len) else {
            return;
        };
        if let Some(at) = self.byte_of(self.first_data_block + 1) {
            out.request(
                at,
                len,
                Want::Ext {
                    fs: index,
                    step: Step::Descriptors,
                },
            );
        }
    }

    /// The image offset of block `n`, when it lies inside the partition.
    fn byte_of(&self, n: u64) -> Option<u64> {
        let at = self.part.start.checked_add(n.checked_mul(self.block)?)?;
        (n < self.blocks && at.checked_add(self.block)? <= self.part.end).then_some(at)
    }

    /// Image bytes of blocks `[from, to)`, clipped to the partition.
    fn bytes_of(&self, from: u64, to: u64) -> Range<u64> {
        let start = self
            .part
            .start
            .saturating_add(from.saturating_mul(self.block));
        let end = self
            .part
            .start
            .saturating_add(to.saturating_mul(self.block));
        start.min(self.part.end)..end.min(self.part.end)
    }

    fn group_blocks(&self, group: u64) -> Range<u64> {
        let start = self.first_data_block + group * self.blocks_per_group;
        start..(start + self.blocks_per_group).min(self.blocks)
    }

    /// Whether `group` holds a superblock backup and descriptor tables.
    fn has_super(&self, group: u64) -> bool {
        if group <= 1 || !self.sparse_super {
            return true;
        }
        [3u64, 5, 7].iter().any(|&base| {
            let mut n = base;
            while n < group {
                n *= base;
            }
            n == group
        })
    }

    pub(super) fn answer(&mut self, index: usize, step: Step, bytes: &[u8], out: &mut Findings) {
        match step {
            Step::Descriptors => self.descriptors(index, bytes, out),
            Step::Bitmap { group } => self.bitmap(group, bytes, out),
        }
    }

    /// One group's descriptor, or `None` past the table's end.
    fn descriptor<'a>(&self, table: &'a [u8], group: u64) -> Option<&'a [u8]> {
        let at = usize::try_from(group).ok()?.checked_mul(self.desc_size)?;
        table.get(at..at.checked_add(self.desc_size)?)
    }

    /// Every group's number, bitmap block and flags, and every group's
    /// bitmaps and inode table in blocks (sorted); `None` when a descriptor
    /// fails its checksum or points outside the filesystem.
    fn read_descriptors(&self, table: &[u8]) -> Option<(Vec<GroupPlan>, Vec<Range<u64>>)> {
        let hi = |d: &[u8], at: usize| {
            if self.is_64bit && self.desc_size >= 64 {
                le32(d, at) << 32
            } else {
                0
            }
        };
        let mut metadata: Vec<Range<u64>> = Vec::new();
        let mut plan = Vec::new();
        for group in 0..self.groups {
            let d = self.descriptor(table, group)?;
            if !self.checksums.descriptor_ok(group, d, self.is_64bit) {
                return None;
            }
            let block_bitmap = le32(d, 0x0) | hi(d, 0x20);
            let inode_bitmap = le32(d, 0x4) | hi(d, 0x24);
            let inode_table = le32(d, 0x8) | hi(d, 0x28);
            let inside = |b: u64| b >= self.first_data_block && b < self.blocks;
            if !inside(block_bitmap)
                || !inside(inode_bitmap)
                || !inside(inode_table)
                || inode_table.saturating_add(self.inode_table_blocks) > self.blocks
            {
                return None;
            }
            metadata.push(block_bitmap..block_bitmap + 1);
            metadata.push(inode_bitmap..inode_bitmap + 1);
            metadata.push(inode_table..inode_table + self.inode_table_blocks);
            plan.push((group, block_bitmap, le16(d, 0x12)));
        }
        metadata.sort_by_key(|r| r.start);
        Some((plan, metadata))
    }

    fn descriptors(&mut self, index: usize, table: &[u8], out: &mut Findings) {
        // A descriptor that fails its checksum or is malformed: the whole
        // partition stays used.
        let Some((plan, metadata)) = self.read_descriptors(table) else {
            return;
        };
        let uninit_honoured = self.checksums != Checksums::None;
        for (group, block_bitmap, flags) in plan {
            if flags & BG_BLOCK_UNINIT != 0 && uninit_honoured {
                self.uninit_group(group, &metadata, out);
            } else if let Some(at) = self.byte_of(block_bitmap) {
                out.request(
                    at,
                    self.block as usize,
                    Want::Ext {
                        fs: index,
                        step: Step::Bitmap { group },
                    },
                );
            }
        }
        self.descriptors = table.to_vec();
    }

    /// The free blocks of a group without a bitmap on disk: all but its
    /// superblock backup, descriptor tables and any group's bitmaps or
    /// inode table inside it (`metadata`, sorted).
    fn uninit_group(&self, group: u64, metadata: &[Range<u64>], out: &mut Findings) {
        let gdt_blocks = (self.groups * self.desc_size as u64).div_ceil(self.block);
        let blocks = self.group_blocks(group);
        let mut cursor = blocks.start;
        if self.has_super(group) {
            cursor += 1 + gdt_blocks + self.reserved_gdt;
        }
        for m in metadata {
            if m.end <= cursor || m.start >= blocks.end {
                continue;
            }
            if m.start > cursor {
                out.free.push(self.bytes_of(cursor, m.start));
            }
            cursor = cursor.max(m.end);
        }
        if cursor < blocks.end {
            out.free.push(self.bytes_of(cursor, blocks.end));
        }
    }

    fn bitmap(&self, group: u64, bitmap: &[u8], out: &mut Findings) {
        let desc = self
            .descriptor(&self.descriptors, group)
            .unwrap_or_default();
        if !self
            .checksums
            .bitmap_ok(desc, bitmap, self.blocks_per_group)
        {
            // Not the bitmap the filesystem wrote: the group stays used.
            return;
        }
        let blocks = self.group_blocks(group);
        let count = blocks.end - blocks.start;
        let mut run: Option<u64> = None;
        for i in 0..count {
            let set = bitmap
                .get((i / 8) as usize)
                .is_none_or(|byte| byte & (1 << (i % 8)) != 0);
            match (set, run) {
                (false, None) => run = Some(i),
                (true, Some(from)) => {
                    out.free
                        .push(self.bytes_of(blocks.start + from, blocks.start + i));
                    run = None;
                }
                _ => {}
            }
        }
        if let Some(from) = run {
            out.free
                .push(self.bytes_of(blocks.start + from, blocks.end));
        }
    }
}

#[cfg(test)]
#[path = "ext_tests.rs"]
mod tests;

//! Which partition tables of an image count, and what they declare, from
//! the first bytes of the image alone: the one decision the map of used
//! bytes and the boot-partition search share.
//!
//! The rules are the Linux kernel's (`block/partitions/efi.c`,
//! `is_pmbr_valid`): a GPT counts only behind an MBR with the 0x55AA
//! signature holding a 0xEE entry, protective when that entry starts at LBA 1
//! and is alone, hybrid when other entries stand beside it. Without a 0xEE
//! entry the GPT is ignored and the MBR is read: a card re-partitioned with a
//! DOS table keeps its old GPT at LBA 1, and Linux, blkid and sfdisk read
//! the MBR (docs/architecture.md §2). With a hybrid MBR both tables' entries
//! describe bytes, so both are returned.
//!
//! The table is untrusted input: every offset is checked, counts are capped,
//! and a malformed table is an error, never a panic.

use std::io::Cursor;

use super::DiskError;
use super::partitions::Partition;

/// MBR and EBR sectors are 512 bytes on the images Imprint writes.
pub(crate) const MBR_SECTOR_LEN: u64 = 512;
/// The MBR partition type of a GPT's protective entry.
const GPT_PROTECTIVE_TYPE: u8 = 0xEE;
/// More GPT entries than this is a corrupt header, not a disk.
const MAX_GPT_ENTRIES: u32 = 4096;

/// Which tables of the image count, by the kernel's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableKind {
    /// A plain MBR (any GPT behind it is stale and ignored).
    Mbr,
    /// A GPT behind a protective MBR: only the GPT describes partitions.
    ProtectiveGpt { sector_size: u64 },
    /// A GPT behind a hybrid MBR: the MBR's entries describe bytes too.
    HybridGpt { sector_size: u64 },
}

/// What the tables at the start of an image declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tables {
    pub kind: TableKind,
    /// The MBR's primary partitions, without its 0xEE and extended entries.
    pub mbr: Vec<Partition>,
    /// The bytes of the MBR's extended partition, whose logical partitions
    /// [`read_ebr`] follows from its first sector.
    pub extended: Option<std::ops::Range<u64>>,
    /// The GPT's partitions, when the GPT counts.
    pub gpt: Vec<Partition>,
    /// The byte where the image must end at least, by the tables that
    /// count: the end of the last partition (the extended one included) and
    /// of a GPT's backup header.
    pub implied_end: u64,
}

impl Tables {
    /// The partitions the kernel reads (before the EBR chain): the GPT's
    /// when it counts, else the MBR's.
    pub(crate) fn kernel_partitions(&self) -> &[Partition] {
        match self.kind {
            TableKind::Mbr => &self.mbr,
            _ => &self.gpt,
        }
    }

    /// The first LBA of the extended partition, when the kernel follows it.
    pub(crate) fn extended_lba(&self) -> Option<u64> {
        match self.kind {
            TableKind::ProtectiveGpt { .. } => None,
            _ => self.extended.as_ref().map(|r| r.start / MBR_SECTOR_LEN),
        }
    }
}

/// Reads the tables at the start of an image (`prefix`: its first bytes,
/// enough for a GPT's entries) and decides which count.
pub(crate) fn read_tables(prefix: &[u8]) -> Result<Tables, DiskError> {
    let Some(sector) = prefix.get(..MBR_SECTOR_LEN as usize) else {
        return Err(DiskError::NoPartitionTable);
    };
    let header = parse_mbr_sector(sector, 0)?;
    let protective = header
        .iter()
        .map(|(_, e)| e)
        .find(|e| e.sys == GPT_PROTECTIVE_TYPE);
    let gpt = match protective {
        Some(_) => find_gpt(prefix)?,
        None => None,
    };
    let mut mbr = Vec::new();
    let mut extended = None;
    let mut implied_end = 0u64;
    for (index, entry) in header.iter() {
        if entry.sys == GPT_PROTECTIVE_TYPE || entry.is_unused() {
            continue;
        }
        let partition = mbr_partition(index as u32, 0, entry);
        implied_end = implied_end.max(partition.end());
        if entry.is_extended() {
            extended = Some(partition.offset..partition.end());
        } else {
            mbr.push(partition);
        }
    }
    let Some((sector_size, gpt, gpt_end)) = gpt else {
        return Ok(Tables {
            kind: TableKind::Mbr,
            mbr,
            extended,
            gpt: Vec::new(),
            implied_end,
        });
    };
    let alone_at_lba_1 =
        protective.is_some_and(|e| e.starting_lba == 1) && mbr.is_empty() && extended.is_none();
    let kind = if alone_at_lba_1 {
        implied_end = 0;
        TableKind::ProtectiveGpt { sector_size }
    } else {
        TableKind::HybridGpt { sector_size }
    };
    implied_end = gpt
        .iter()
        .map(Partition::end)
        .fold(implied_end.max(gpt_end), u64::max);
    Ok(Tables {
        kind,
        mbr,
        extended,
        gpt,
        implied_end,
    })
}

/// The EBR `sector` read at `lba` of the extended partition starting at
/// `extended_lba`: its logical partition (numbered `number`), and the LBA
/// of the next EBR, which must lie further on.
pub(crate) fn read_ebr(
    sector: &[u8],
    lba: u64,
    extended_lba: u64,
    number: u32,
) -> Result<(Option<Partition>, Option<u64>), DiskError> {
    let offset = lba * MBR_SECTOR_LEN;
    let ebr = parse_mbr_sector(sector, offset)?;
    let (logical, next) = (&ebr.partition_1, &ebr.partition_2);
    let partition = logical
        .is_used()
        .then(|| mbr_partition(number, lba, logical));
    if next.is_unused() || next.starting_lba == 0 {
        return Ok((partition, None));
    }
    let next_lba = extended_lba + u64::from(next.starting_lba);
    if next_lba <= lba {
        return Err(malformed("MBR", offset, "the EBR chain points backwards"));
    }
    Ok((partition, Some(next_lba)))
}

pub(super) fn malformed(table: &'static str, offset: u64, reason: impl Into<String>) -> DiskError {
    DiskError::MalformedPartitionTable {
        table,
        offset,
        reason: reason.into(),
    }
}

/// The GPT in `prefix`: its sector size, partitions, and the end of its
/// backup header (the disk's last LBA).
fn find_gpt(prefix: &[u8]) -> Result<Option<(u64, Vec<Partition>, u64)>, DiskError> {
    for sector_size in [512u64, 4096] {
        let at = sector_size as usize;
        let Some(header) = prefix.get(at..at + 92) else {
            continue;
        };
        if &header[..8] != b"EFI PART" {
            continue;
        }
        // gptman allocates the entry array from the header's count before
        // checking anything: bound it first.
        let entry_lba = u64::from_le_bytes(header[72..80].try_into().unwrap_or([0; 8]));
        let entries = u32::from_le_bytes(header[80..84].try_into().unwrap_or([0; 4]));
        let entry_len = u32::from_le_bytes(header[84..88].try_into().unwrap_or([0; 4]));
        if entries > MAX_GPT_ENTRIES || entry_len != 128 {
            return Err(malformed(
                "GPT",
                sector_size,
                format!("{entries} entries of {entry_len} bytes"),
            ));
        }
        let array_end = entry_lba
            .checked_mul(sector_size)
            .and_then(|start| start.checked_add(u64::from(entries) * 128));
        if array_end.is_none_or(|end| end > prefix.len() as u64) {
            return Err(malformed(
                "GPT",
                sector_size,
                format!(
                    "the partition entries (from LBA {entry_lba}) lie beyond the first {} bytes of the image",
                    prefix.len()
                ),
            ));
        }
        let gpt = gptman::GPT::read_from(&mut Cursor::new(prefix), sector_size)
            .map_err(|e| malformed("GPT", sector_size, e.to_string()))?;
        let mut partitions = Vec::new();
        for (number, entry) in gpt.iter().filter(|(_, e)| e.is_used()) {
            let bounds = entry
                .starting_lba
                .checked_mul(sector_size)
                .zip(entry.size().ok().and_then(|s| s.checked_mul(sector_size)));
            let Some((offset, size_bytes)) = bounds else {
                return Err(malformed(
                    "GPT",
                    sector_size,
                    format!("partition {number} has an invalid range"),
                ));
            };
            let name = entry
                .partition_name
                .as_str()
                .trim_end_matches('\0')
                .to_string();
            partitions.push(Partition {
                number,
                offset,
                size_bytes,
                gpt_name: (!name.is_empty()).then_some(name),
                mbr_type: None,
                fat: None,
            });
        }
        // The backup header sits on the disk's last LBA (or the primary's,
        // read from the backup): the later one is the disk's end.
        let last_lba = gpt.header.backup_lba.max(gpt.header.primary_lba);
        let end = last_lba.saturating_add(1).saturating_mul(sector_size).max(
            gpt.header
                .last_usable_lba
                .saturating_add(1)
                .saturating_mul(sector_size),
        );
        return Ok(Some((sector_size, partitions, end)));
    }
    Ok(None)
}

pub(super) fn parse_mbr_sector(sector: &[u8], offset: u64) -> Result<mbrman::MBRHeader, DiskError> {
    mbrman::MBRHeader::read_from(&mut Cursor::new(sector)).map_err(|e| match e {
        mbrman::Error::InvalidSignature if offset == 0 => DiskError::NoPartitionTable,
        e => malformed("MBR", offset, e.to_string()),
    })
}

pub(super) fn mbr_partition(
    number: u32,
    base_lba: u64,
    entry: &mbrman::MBRPartitionEntry,
) -> Partition {
    Partition {
        number,
        offset: (base_lba + u64::from(entry.starting_lba)) * MBR_SECTOR_LEN,
        size_bytes: u64::from(entry.sectors) * MBR_SECTOR_LEN,
        gpt_name: None,
        mbr_type: Some(entry.sys),
        fat: None,
    }
}

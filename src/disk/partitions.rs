//! Read an image's partitions from its stream, by the tables that count
//! ([`super::tables`]: GPT behind a protective or hybrid MBR, else the MBR
//! with its logical partitions from 5 along the EBR chain). Each
//! partition's boot sector is read on the way to tell FAT from the rest.
//!
//! The table is untrusted input: every offset is checked, counts are capped,
//! and a malformed table is an error, never a panic.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use super::DiskError;
use super::fat_boot::{BOOT_SECTOR_LEN, FatBootSector, parse_fat_boot_sector};
use super::stream::ForwardReader;
use super::tables::{
    MBR_SECTOR_LEN, TableKind, malformed, mbr_partition, parse_mbr_sector, read_tables,
};

/// Bytes read from the start of the image for the tables: the MBR, and a
/// GPT header and 128 entries at 4096-byte sectors fit well within it.
pub(crate) const TABLE_PREFIX_LEN: usize = 1 << 20;
/// More logical partitions than this is a corrupt or looping EBR chain.
pub(crate) const MAX_LOGICAL_PARTITIONS: usize = 128;

/// How the image is partitioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableScheme {
    Gpt { sector_size: u64 },
    Mbr,
}

/// One partition of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// 1-based; MBR logical partitions from 5.
    pub number: u32,
    pub offset: u64,
    pub size_bytes: u64,
    /// GPT partition name (empty names are `None`).
    pub gpt_name: Option<String>,
    /// MBR partition type byte.
    pub mbr_type: Option<u8>,
    /// The FAT boot sector, when the partition holds a FAT filesystem.
    pub fat: Option<FatBootSector>,
}

impl Partition {
    /// The name a user knows the partition by: GPT name, else FAT label.
    pub fn label(&self) -> Option<&str> {
        self.gpt_name
            .as_deref()
            .or_else(|| self.fat.as_ref().and_then(|f| f.label.as_deref()))
    }

    pub fn end(&self) -> u64 {
        self.offset.saturating_add(self.size_bytes)
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (offset {}, {} bytes",
            self.number, self.offset, self.size_bytes
        )?;
        if let Some(name) = &self.gpt_name {
            write!(f, ", name {name:?}")?;
        }
        if let Some(kind) = self.mbr_type {
            write!(f, ", type 0x{kind:02x}")?;
        }
        match &self.fat {
            Some(FatBootSector {
                label: Some(label), ..
            }) => write!(f, ", FAT labelled {label:?})"),
            Some(_) => write!(f, ", FAT)"),
            None => write!(f, ", not FAT)"),
        }
    }
}

/// The partitions of an image, by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionTable {
    pub scheme: TableScheme,
    pub partitions: Vec<Partition>,
}

impl PartitionTable {
    pub fn get(&self, number: u32) -> Option<&Partition> {
        self.partitions.iter().find(|p| p.number == number)
    }

    /// "1 (offset …), 2 (…)" for error messages.
    pub fn describe(&self) -> String {
        if self.partitions.is_empty() {
            return "none".to_string();
        }
        self.partitions
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Reads the partition table at the start of `reader` (a fresh stream of the
/// image) and classifies each partition by its boot sector. A hybrid MBR's
/// own entries are left out, as the kernel leaves them.
pub(crate) fn read_partition_table<R: Read>(
    reader: &mut ForwardReader<R>,
) -> Result<PartitionTable, DiskError> {
    let prefix = reader.read_up_to_at(0, TABLE_PREFIX_LEN)?;
    let tables = read_tables(&prefix)?;
    let scheme = match tables.kind {
        TableKind::Mbr => TableScheme::Mbr,
        TableKind::ProtectiveGpt { sector_size } | TableKind::HybridGpt { sector_size } => {
            TableScheme::Gpt { sector_size }
        }
    };
    let mut partitions = tables.kernel_partitions().to_vec();
    let extended_lba = tables.extended_lba();
    let mut sectors = SectorSource { prefix, reader };
    walk_partitions(&mut sectors, &mut partitions, extended_lba)?;
    if partitions.is_empty() {
        return Err(DiskError::NoPartitionTable);
    }
    partitions.sort_by_key(|p| p.number);
    Ok(PartitionTable { scheme, partitions })
}

/// Sectors of the image: from the retained prefix, else from the stream
/// (forward only).
struct SectorSource<'r, R> {
    prefix: Vec<u8>,
    reader: &'r mut ForwardReader<R>,
}

impl<R: Read> SectorSource<'_, R> {
    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, DiskError> {
        let in_prefix = usize::try_from(offset)
            .ok()
            .and_then(|start| Some(start..start.checked_add(len)?))
            .and_then(|range| self.prefix.get(range));
        if let Some(bytes) = in_prefix {
            return Ok(bytes.to_vec());
        }
        let mut buf = vec![0u8; len];
        self.reader.read_exact_at(offset, &mut buf)?;
        Ok(buf)
    }
}

/// A sector to read while the image streams past.
#[derive(Debug, Clone, Copy)]
enum PendingRead {
    /// The first sector of `partitions[index]`.
    BootSector { index: usize },
    /// An EBR at `lba`; `number` is the next logical partition's number.
    Ebr { lba: u64, number: u32 },
}

/// The sectors still to read, lowest offset first; at one offset, in the
/// order they were found.
#[derive(Default)]
struct Pending {
    reads: BTreeMap<(u64, usize), PendingRead>,
    sequence: usize,
}

impl Pending {
    fn push(&mut self, offset: u64, read: PendingRead) {
        self.reads.insert((offset, self.sequence), read);
        self.sequence += 1;
    }

    fn pop(&mut self) -> Option<(u64, PendingRead)> {
        self.reads
            .pop_first()
            .map(|((offset, _), read)| (offset, read))
    }
}

/// Reads each partition's first sector and walks the EBR chain in one pass,
/// always the lowest offset next, so the stream only moves forward.
fn walk_partitions<R: Read>(
    sectors: &mut SectorSource<'_, R>,
    partitions: &mut Vec<Partition>,
    extended_lba: Option<u64>,
) -> Result<(), DiskError> {
    let mut pending = Pending::default();
    for (index, partition) in partitions.iter().enumerate() {
        pending.push(partition.offset, PendingRead::BootSector { index });
    }
    if let Some(lba) = extended_lba {
        pending.push(lba * MBR_SECTOR_LEN, PendingRead::Ebr { lba, number: 5 });
    }
    while let Some((offset, read)) = pending.pop() {
        match read {
            PendingRead::BootSector { index } => {
                let partition = &mut partitions[index];
                if partition.size_bytes < BOOT_SECTOR_LEN as u64 {
                    continue;
                }
                // A partition beyond the end of the image, or behind the
                // stream (overlapping partitions), is simply not FAT here.
                if let Ok(sector) = sectors.read(offset, BOOT_SECTOR_LEN) {
                    partition.fat = parse_fat_boot_sector(&sector);
                }
            }
            PendingRead::Ebr { lba, number } => {
                if let Some(extended_lba) = extended_lba {
                    let ebr = Ebr {
                        offset,
                        lba,
                        number,
                        extended_lba,
                    };
                    read_ebr(sectors, ebr, partitions, &mut pending)?;
                }
            }
        }
    }
    Ok(())
}

/// An EBR to read: at `offset` (`lba`), in the extended partition at
/// `extended_lba`; `number` is the next logical partition's number.
struct Ebr {
    offset: u64,
    lba: u64,
    number: u32,
    extended_lba: u64,
}

/// Reads one EBR: its logical partition joins `partitions` (its boot
/// sector to read), the next EBR joins `pending`.
///
/// Each EBR points to the next one relative to the extended partition; the
/// chain must move forward (as mbrman requires), which also rules out loops.
fn read_ebr<R: Read>(
    sectors: &mut SectorSource<'_, R>,
    ebr: Ebr,
    partitions: &mut Vec<Partition>,
    pending: &mut Pending,
) -> Result<(), DiskError> {
    let Ebr {
        offset,
        lba,
        number,
        extended_lba,
    } = ebr;
    if number as usize >= 5 + MAX_LOGICAL_PARTITIONS {
        return Err(malformed(
            "MBR",
            offset,
            format!("more than {MAX_LOGICAL_PARTITIONS} logical partitions"),
        ));
    }
    let sector = sectors.read(offset, MBR_SECTOR_LEN as usize)?;
    let ebr = match parse_mbr_sector(&sector, offset) {
        Ok(ebr) => ebr,
        // An empty extended partition need not hold an EBR.
        Err(_) if lba == extended_lba => return Ok(()),
        Err(e) => return Err(e),
    };
    let (logical, next) = (&ebr.partition_1, &ebr.partition_2);
    let mut next_number = number;
    if logical.is_used() {
        let partition = mbr_partition(number, lba, logical);
        let index = partitions.len();
        pending.push(partition.offset, PendingRead::BootSector { index });
        partitions.push(partition);
        next_number += 1;
    }
    if next.is_unused() || next.starting_lba == 0 {
        return Ok(());
    }
    let next_lba = extended_lba + u64::from(next.starting_lba);
    if next_lba <= lba {
        return Err(malformed("MBR", offset, "the EBR chain points backwards"));
    }
    pending.push(
        next_lba * MBR_SECTOR_LEN,
        PendingRead::Ebr {
            lba: next_lba,
            number: next_number,
        },
    );
    Ok(())
}

#[cfg(test)]
#[path = "partitions_tests.rs"]
mod tests;

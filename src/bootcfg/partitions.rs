//! Read an image's partition table from its stream: GPT (512- and 4096-byte
//! sectors) before MBR, since a GPT disk also carries a protective MBR; MBR
//! primary partitions 1–4 and logical partitions from 5 along the EBR chain.
//! Each partition's boot sector is read on the way to tell FAT from the rest.
//!
//! The table is untrusted input: every offset is checked, counts are capped,
//! and a malformed table is an error, never a panic.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Cursor, Read};

use super::BootConfigError;
use super::boot_sector::{BOOT_SECTOR_LEN, FatBootSector, parse_fat_boot_sector};
use super::stream::ForwardReader;

/// Bytes read from the start of the image for the tables: the MBR, and a
/// GPT header and 128 entries at 4096-byte sectors fit well within it.
const TABLE_PREFIX_LEN: usize = 1 << 20;
/// MBR and EBR sectors are 512 bytes on the images Imprint configures.
const MBR_SECTOR_LEN: u64 = 512;
/// More GPT entries than this is a corrupt header, not a disk.
const MAX_GPT_ENTRIES: u32 = 4096;
/// More logical partitions than this is a corrupt or looping EBR chain.
const MAX_LOGICAL_PARTITIONS: usize = 128;

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
/// image) and classifies each partition by its boot sector.
pub fn read_partition_table<R: Read>(
    reader: &mut ForwardReader<R>,
) -> Result<PartitionTable, BootConfigError> {
    let prefix = reader.read_up_to_at(0, TABLE_PREFIX_LEN)?;
    let mut sectors = SectorSource { prefix, reader };
    let (scheme, mut partitions, extended_lba) = match find_gpt(&sectors.prefix)? {
        Some((sector_size, gpt)) => (TableScheme::Gpt { sector_size }, gpt, None),
        None => {
            let (primary, extended_lba) = read_mbr(&sectors.prefix)?;
            (TableScheme::Mbr, primary, extended_lba)
        }
    };
    walk_partitions(&mut sectors, &mut partitions, extended_lba)?;
    if partitions.is_empty() {
        return Err(BootConfigError::NoPartitionTable);
    }
    partitions.sort_by_key(|p| p.number);
    Ok(PartitionTable { scheme, partitions })
}

/// The partitions a table at the start of an image declares without reading
/// further: GPT entries, or the MBR's primary partitions and the first LBA of
/// its extended partition (whose logical partitions [`read_ebr`] follows).
/// For the map of used bytes (`crate::map`), which reads the rest itself as
/// the image streams past.
pub fn read_table_prefix(
    prefix: &[u8],
) -> Result<(TableScheme, Vec<Partition>, Option<u64>), BootConfigError> {
    match find_gpt(prefix)? {
        Some((sector_size, gpt)) => Ok((TableScheme::Gpt { sector_size }, gpt, None)),
        None => {
            let (primary, extended_lba) = read_mbr(prefix)?;
            Ok((TableScheme::Mbr, primary, extended_lba))
        }
    }
}

/// The EBR `sector` read at `lba` of the extended partition starting at
/// `extended_lba`: its logical partition (numbered `number`), and the LBA
/// of the next EBR, which must lie further on.
pub fn read_ebr(
    sector: &[u8],
    lba: u64,
    extended_lba: u64,
    number: u32,
) -> Result<(Option<Partition>, Option<u64>), BootConfigError> {
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

/// Sectors of the image: from the retained prefix, else from the stream
/// (forward only).
struct SectorSource<'r, R> {
    prefix: Vec<u8>,
    reader: &'r mut ForwardReader<R>,
}

impl<R: Read> SectorSource<'_, R> {
    fn read(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, BootConfigError> {
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

fn malformed(table: &'static str, offset: u64, reason: impl Into<String>) -> BootConfigError {
    BootConfigError::MalformedPartitionTable {
        table,
        offset,
        reason: reason.into(),
    }
}

fn find_gpt(prefix: &[u8]) -> Result<Option<(u64, Vec<Partition>)>, BootConfigError> {
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
        return Ok(Some((sector_size, partitions)));
    }
    Ok(None)
}

fn parse_mbr_sector(sector: &[u8], offset: u64) -> Result<mbrman::MBRHeader, BootConfigError> {
    mbrman::MBRHeader::read_from(&mut Cursor::new(sector)).map_err(|e| match e {
        mbrman::Error::InvalidSignature if offset == 0 => BootConfigError::NoPartitionTable,
        e => malformed("MBR", offset, e.to_string()),
    })
}

fn mbr_partition(number: u32, base_lba: u64, entry: &mbrman::MBRPartitionEntry) -> Partition {
    Partition {
        number,
        offset: (base_lba + u64::from(entry.starting_lba)) * MBR_SECTOR_LEN,
        size_bytes: u64::from(entry.sectors) * MBR_SECTOR_LEN,
        gpt_name: None,
        mbr_type: Some(entry.sys),
        fat: None,
    }
}

/// The MBR's primary partitions and, when it has one, the first LBA of its
/// extended partition.
fn read_mbr(prefix: &[u8]) -> Result<(Vec<Partition>, Option<u64>), BootConfigError> {
    let Some(sector) = prefix.get(..MBR_SECTOR_LEN as usize) else {
        return Err(BootConfigError::NoPartitionTable);
    };
    let header = parse_mbr_sector(sector, 0)?;
    let mut partitions = Vec::new();
    let mut extended_lba = None;
    for (index, entry) in header.iter() {
        if entry.is_extended() {
            extended_lba = Some(u64::from(entry.starting_lba));
        } else if entry.is_used() {
            partitions.push(mbr_partition(index as u32, 0, entry));
        }
    }
    Ok((partitions, extended_lba))
}

/// A sector to read while the image streams past.
#[derive(Debug, Clone, Copy)]
enum PendingRead {
    /// The first sector of `partitions[index]`.
    BootSector { index: usize },
    /// An EBR at `lba`; `number` is the next logical partition's number.
    Ebr { lba: u64, number: u32 },
}

/// Reads each partition's first sector and walks the EBR chain in one pass,
/// always the lowest offset next, so the stream only moves forward.
///
/// Each EBR points to the next one relative to the extended partition; the
/// chain must move forward (as mbrman requires), which also rules out loops.
fn walk_partitions<R: Read>(
    sectors: &mut SectorSource<'_, R>,
    partitions: &mut Vec<Partition>,
    extended_lba: Option<u64>,
) -> Result<(), BootConfigError> {
    let mut pending: BTreeMap<(u64, usize), PendingRead> = BTreeMap::new();
    let mut sequence = 0usize;
    let mut push = |pending: &mut BTreeMap<(u64, usize), PendingRead>, offset, read| {
        pending.insert((offset, sequence), read);
        sequence += 1;
    };
    for (index, partition) in partitions.iter().enumerate() {
        push(
            &mut pending,
            partition.offset,
            PendingRead::BootSector { index },
        );
    }
    if let Some(lba) = extended_lba {
        push(
            &mut pending,
            lba * MBR_SECTOR_LEN,
            PendingRead::Ebr { lba, number: 5 },
        );
    }
    while let Some(((offset, _), read)) = pending.pop_first() {
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
                let Some(extended_lba) = extended_lba else {
                    continue;
                };
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
                    Err(_) if lba == extended_lba => continue,
                    Err(e) => return Err(e),
                };
                let (logical, next) = (&ebr.partition_1, &ebr.partition_2);
                let mut next_number = number;
                if logical.is_used() {
                    let partition = mbr_partition(number, lba, logical);
                    push(
                        &mut pending,
                        partition.offset,
                        PendingRead::BootSector {
                            index: partitions.len(),
                        },
                    );
                    partitions.push(partition);
                    next_number += 1;
                }
                if next.is_unused() || next.starting_lba == 0 {
                    continue;
                }
                let next_lba = extended_lba + u64::from(next.starting_lba);
                if next_lba <= lba {
                    return Err(malformed("MBR", offset, "the EBR chain points backwards"));
                }
                push(
                    &mut pending,
                    next_lba * MBR_SECTOR_LEN,
                    PendingRead::Ebr {
                        lba: next_lba,
                        number: next_number,
                    },
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(image: &[u8]) -> Result<PartitionTable, BootConfigError> {
        read_partition_table(&mut ForwardReader::new(image))
    }

    fn mbr_entry(image: &mut [u8], slot: usize, sys: u8, start_lba: u32, sectors: u32) {
        let at = 446 + slot * 16;
        image[at + 4] = sys;
        image[at + 8..at + 12].copy_from_slice(&start_lba.to_le_bytes());
        image[at + 12..at + 16].copy_from_slice(&sectors.to_le_bytes());
        image[510] = 0x55;
        image[511] = 0xAA;
    }

    /// 4 MiB: partition 1 at 1 MiB, extended from 2 MiB with logical
    /// partitions 5 and 6.
    fn mbr_with_logical_partitions() -> Vec<u8> {
        let mut image = vec![0u8; 4 << 20];
        mbr_entry(&mut image, 0, 0x0c, 2048, 2048);
        mbr_entry(&mut image, 1, 0x05, 4096, 4096);
        let ebr1 = 4096 * 512;
        mbr_entry(&mut image[ebr1..], 0, 0x83, 1, 1023);
        mbr_entry(&mut image[ebr1..], 1, 0x05, 1024, 2048);
        let ebr2 = (4096 + 1024) * 512;
        mbr_entry(&mut image[ebr2..], 0, 0x83, 1, 2047);
        image
    }

    #[test]
    fn numbers_logical_partitions_from_5() {
        let table = read(&mbr_with_logical_partitions()).unwrap();
        let found: Vec<(u32, u64, u64)> = table
            .partitions
            .iter()
            .map(|p| (p.number, p.offset, p.size_bytes))
            .collect();
        assert_eq!(
            found,
            [
                (1, 1 << 20, 1 << 20),
                (5, (4097) * 512, 1023 * 512),
                (6, (4096 + 1025) * 512, 2047 * 512)
            ]
        );
        assert_eq!(table.scheme, TableScheme::Mbr);
    }

    #[test]
    fn an_ebr_chain_pointing_backwards_is_malformed() {
        let mut image = mbr_with_logical_partitions();
        let ebr2 = (4096 + 1024) * 512;
        mbr_entry(&mut image[ebr2..], 1, 0x05, 512, 10);
        assert!(matches!(
            read(&image),
            Err(BootConfigError::MalformedPartitionTable { .. })
        ));
    }

    #[test]
    fn no_signature_is_no_partition_table() {
        assert!(matches!(
            read(&[0u8; 4096]),
            Err(BootConfigError::NoPartitionTable)
        ));
        assert!(matches!(read(&[]), Err(BootConfigError::NoPartitionTable)));
    }

    #[test]
    fn a_gpt_header_with_absurd_counts_is_malformed_not_a_crash() {
        let mut image = vec![0u8; 64 << 10];
        image[510] = 0x55;
        image[511] = 0xAA;
        image[512..520].copy_from_slice(b"EFI PART");
        image[512 + 72..512 + 80].copy_from_slice(&2u64.to_le_bytes());
        image[512 + 80..512 + 84].copy_from_slice(&u32::MAX.to_le_bytes());
        image[512 + 84..512 + 88].copy_from_slice(&128u32.to_le_bytes());
        assert!(matches!(
            read(&image),
            Err(BootConfigError::MalformedPartitionTable { table: "GPT", .. })
        ));
    }

    #[test]
    fn corrupted_tables_never_panic() {
        let pristine = mbr_with_logical_partitions();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..300 {
            let mut image = pristine.clone();
            for _ in 0..8 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Corrupt the MBR and the two EBRs' entries.
                let region =
                    [446usize, 4096 * 512 + 446, (4096 + 1024) * 512 + 446][(state % 3) as usize];
                let at = region + ((state >> 8) % 66) as usize;
                image[at] = (state >> 32) as u8;
            }
            let _ = read(&image);
        }
    }
}

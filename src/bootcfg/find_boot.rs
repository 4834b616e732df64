//! Which partition is the balenaOS boot partition (docs/architecture.md §4), by the
//! rules balena's own tools use:
//!
//! 1. GPT: the partition named `resin-boot`, `balena-boot` or `flash-boot`;
//!    MBR: a FAT partition (types 0x0B, 0x0C, 0x0E, 0x06) with that label;
//! 2. else the partition `/device-type.json` names (or the FAT partition
//!    holding it, when it names none);
//! 3. else partition 1 when it is FAT; else an error listing the partitions.

use std::io::Read;

use super::BootConfigError;
use super::device_type::{DEVICE_TYPE_PATH, DeviceType};
use super::fat;
use crate::disk::{ForwardReader, Partition, PartitionTable, TableScheme};

/// The names balenaOS gives its boot partition.
pub const BOOT_LABELS: [&str; 3] = ["resin-boot", "balena-boot", "flash-boot"];
/// MBR partition types of FAT filesystems.
const FAT_MBR_TYPES: [u8; 4] = [0x0B, 0x0C, 0x0E, 0x06];

/// How the boot partition was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootRule {
    Label,
    DeviceTypeJson,
    FirstFatPartition,
}

/// The boot partition, and what was learnt while finding it.
#[derive(Debug)]
pub(super) struct BootChoice {
    pub partition: Partition,
    pub rule: BootRule,
    /// The partition's bytes, when finding it already read them.
    pub held_bytes: Option<Vec<u8>>,
    /// The image's `/device-type.json`, when finding it read one.
    pub device_type: Option<DeviceType>,
}

fn is_boot_label(name: &str) -> bool {
    BOOT_LABELS
        .iter()
        .any(|l| l.eq_ignore_ascii_case(name.trim()))
}

fn has_boot_label(partition: &Partition, scheme: TableScheme) -> bool {
    match scheme {
        TableScheme::Gpt { .. } => partition.gpt_name.as_deref().is_some_and(is_boot_label),
        TableScheme::Mbr => {
            partition
                .mbr_type
                .is_some_and(|t| FAT_MBR_TYPES.contains(&t))
                && partition
                    .fat
                    .as_ref()
                    .and_then(|f| f.label.as_deref())
                    .is_some_and(is_boot_label)
        }
    }
}

/// Chooses the boot partition of `table`. `open_stream` gives a fresh
/// stream of the image, used when FAT partitions must be searched for
/// `/device-type.json`; a partition larger than `memory_limit_bytes` is not
/// searched.
pub(super) fn find_boot_partition<R: Read>(
    table: &PartitionTable,
    open_stream: &mut dyn FnMut() -> Result<R, BootConfigError>,
    memory_limit_bytes: u64,
) -> Result<BootChoice, BootConfigError> {
    if let Some(partition) = table
        .partitions
        .iter()
        .find(|p| has_boot_label(p, table.scheme))
    {
        return Ok(BootChoice {
            partition: partition.clone(),
            rule: BootRule::Label,
            held_bytes: None,
            device_type: None,
        });
    }
    if let Some(choice) = find_by_device_type(table, open_stream()?, memory_limit_bytes)? {
        return Ok(choice);
    }
    match table.get(1) {
        Some(first) if first.fat.is_some() => Ok(BootChoice {
            partition: first.clone(),
            rule: BootRule::FirstFatPartition,
            held_bytes: None,
            device_type: None,
        }),
        _ => Err(BootConfigError::NoBootPartition {
            partitions: table.describe(),
        }),
    }
}

/// Reads the FAT partitions in offset order, one at a time, until one holds
/// `/device-type.json`.
fn find_by_device_type<R: Read>(
    table: &PartitionTable,
    stream: R,
    memory_limit_bytes: u64,
) -> Result<Option<BootChoice>, BootConfigError> {
    let mut reader = ForwardReader::new(stream);
    let mut fat_partitions: Vec<&Partition> = table
        .partitions
        .iter()
        .filter(|p| p.fat.is_some() && p.size_bytes <= memory_limit_bytes)
        .collect();
    fat_partitions.sort_by_key(|p| p.offset);
    for holder in fat_partitions {
        if holder.offset < reader.position() {
            continue; // overlaps one already read: a malformed table
        }
        let bytes = read_partition(&mut reader, holder)?;
        let Ok(Some(json)) = fat::read_file(&bytes, DEVICE_TYPE_PATH) else {
            continue;
        };
        let device_type = DeviceType::parse(&json);
        let number = device_type.config_partition.unwrap_or(holder.number);
        let Some(partition) = table.get(number) else {
            return Err(BootConfigError::DeviceTypePartitionMissing {
                number,
                partitions: table.describe(),
            });
        };
        return Ok(Some(BootChoice {
            partition: partition.clone(),
            rule: BootRule::DeviceTypeJson,
            held_bytes: (number == holder.number).then_some(bytes),
            device_type: Some(device_type),
        }));
    }
    Ok(None)
}

/// The bytes of `partition`, read from `reader`.
pub(super) fn read_partition<R: Read>(
    reader: &mut ForwardReader<R>,
    partition: &Partition,
) -> Result<Vec<u8>, BootConfigError> {
    let len =
        usize::try_from(partition.size_bytes).map_err(|_| BootConfigError::PartitionTooLarge {
            number: partition.number,
            size_bytes: partition.size_bytes,
            limit_bytes: usize::MAX as u64,
        })?;
    let mut bytes = vec![0u8; len];
    reader.read_exact_at(partition.offset, &mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::fat_boot::FatBootSector;

    fn partition(number: u32, mbr_type: u8, label: Option<&str>) -> Partition {
        Partition {
            number,
            offset: u64::from(number) << 20,
            size_bytes: 1 << 20,
            gpt_name: None,
            mbr_type: Some(mbr_type),
            fat: label.map(|l| FatBootSector {
                label: (!l.is_empty()).then(|| l.to_string()),
                is_fat32: false,
            }),
        }
    }

    fn no_stream() -> Result<&'static [u8], BootConfigError> {
        Ok(&[])
    }

    #[test]
    fn a_labelled_fat_partition_wins() {
        let table = PartitionTable {
            scheme: TableScheme::Mbr,
            partitions: vec![
                partition(1, 0x0C, Some("other")),
                partition(2, 0x0E, Some("RESIN-BOOT")),
            ],
        };
        let choice = find_boot_partition(&table, &mut no_stream, 1 << 30).unwrap();
        assert_eq!((choice.partition.number, choice.rule), (2, BootRule::Label));
    }

    #[test]
    fn a_label_counts_only_on_a_fat_partition_type_under_mbr() {
        assert!(!has_boot_label(
            &partition(1, 0x83, Some("resin-boot")),
            TableScheme::Mbr
        ));
        assert!(has_boot_label(
            &partition(1, 0x0B, Some("flash-boot")),
            TableScheme::Mbr
        ));
        let mut named = partition(1, 0x00, None);
        named.mbr_type = None;
        named.gpt_name = Some("balena-boot".to_string());
        assert!(has_boot_label(
            &named,
            TableScheme::Gpt { sector_size: 4096 }
        ));
    }

    #[test]
    fn no_fat_partition_1_is_an_error_listing_the_partitions() {
        let table = PartitionTable {
            scheme: TableScheme::Mbr,
            partitions: vec![partition(1, 0x83, None), partition(2, 0x83, None)],
        };
        let err = find_boot_partition(&table, &mut no_stream, 1 << 30).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("1 (offset 1048576") && message.contains("2 (offset"),
            "{message}"
        );
    }
}

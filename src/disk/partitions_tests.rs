//! The partition-table reader against hand-made MBR/EBR/GPT layouts.

use std::io::Cursor;

use super::*;
use crate::disk::tables::read_tables;

fn read(image: &[u8]) -> Result<PartitionTable, DiskError> {
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
        Err(DiskError::MalformedPartitionTable { .. })
    ));
}

#[test]
fn no_signature_is_no_partition_table() {
    assert!(matches!(
        read(&[0u8; 4096]),
        Err(DiskError::NoPartitionTable)
    ));
    assert!(matches!(read(&[]), Err(DiskError::NoPartitionTable)));
}

#[test]
fn a_gpt_header_with_absurd_counts_is_malformed_not_a_crash() {
    let mut image = vec![0u8; 64 << 10];
    image[510] = 0x55;
    image[511] = 0xAA;
    // A protective MBR: the kernel reads a GPT only behind one.
    image[446 + 4] = 0xEE;
    image[446 + 8..446 + 12].copy_from_slice(&1u32.to_le_bytes());
    image[512..520].copy_from_slice(b"EFI PART");
    image[512 + 72..512 + 80].copy_from_slice(&2u64.to_le_bytes());
    image[512 + 80..512 + 84].copy_from_slice(&u32::MAX.to_le_bytes());
    image[512 + 84..512 + 88].copy_from_slice(&128u32.to_le_bytes());
    assert!(matches!(
        read(&image),
        Err(DiskError::MalformedPartitionTable { table: "GPT", .. })
    ));
}

#[test]
fn corrupted_tables_never_panic() {
    let pristine = mbr_with_logical_partitions();
    let mut random = crate::test_random::XorShift::new(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let mut image = pristine.clone();
        for _ in 0..8 {
            let state = random.next_u64();
            // Corrupt the MBR and the two EBRs' entries.
            let region =
                [446usize, 4096 * 512 + 446, (4096 + 1024) * 512 + 446][(state % 3) as usize];
            let at = region + ((state >> 8) % 66) as usize;
            image[at] = (state >> 32) as u8;
        }
        let _ = read(&image);
    }
}

/// 8 MiB with a GPT (one partition, 1..3 MiB, named "old") and its
/// protective MBR.
fn gpt_image() -> Vec<u8> {
    let mut image = vec![0u8; 8 << 20];
    let mut cursor = Cursor::new(&mut image);
    let mut gpt = gptman::GPT::new_from(&mut cursor, 512, [0x42; 16]).unwrap();
    gpt[1] = gptman::GPTPartitionEntry {
        partition_type_guid: [0x11; 16],
        unique_partition_guid: [0x12; 16],
        starting_lba: 2048,
        ending_lba: 6143,
        attribute_bits: 0,
        partition_name: "old".into(),
    };
    gpt.write_into(&mut cursor).unwrap();
    gptman::GPT::write_protective_mbr_into(&mut cursor, 512).unwrap();
    image
}

#[test]
fn a_gpt_counts_only_behind_a_0xee_entry_as_the_kernel_reads_it() {
    let protective = gpt_image();
    let table = read(&protective).unwrap();
    assert_eq!(table.scheme, TableScheme::Gpt { sector_size: 512 });
    assert_eq!(table.partitions[0].gpt_name.as_deref(), Some("old"));
    let tables = read_tables(&protective).unwrap();
    assert_eq!(tables.implied_end, 8 << 20, "the backup header's end");

    // Re-partitioned with a DOS table: the GPT is stale, the MBR counts.
    let mut stale = protective.clone();
    stale[446..510].fill(0);
    mbr_entry(&mut stale, 0, 0x83, 4096, 4096);
    let table = read(&stale).unwrap();
    assert_eq!(table.scheme, TableScheme::Mbr);
    let found: Vec<(u32, u64)> = table
        .partitions
        .iter()
        .map(|p| (p.number, p.offset))
        .collect();
    assert_eq!(found, [(1, 2 << 20)]);
    assert_eq!(read_tables(&stale).unwrap().implied_end, 4 << 20);

    // A hybrid MBR: the kernel reads the GPT; the map sees both.
    let mut hybrid = protective.clone();
    mbr_entry(&mut hybrid, 1, 0x0c, 2048, 1024);
    let table = read(&hybrid).unwrap();
    assert_eq!(table.scheme, TableScheme::Gpt { sector_size: 512 });
    assert_eq!(table.partitions.len(), 1);
    let tables = read_tables(&hybrid).unwrap();
    assert!(matches!(tables.kind, TableKind::HybridGpt { .. }));
    assert_eq!((tables.mbr.len(), tables.gpt.len()), (1, 1));
}

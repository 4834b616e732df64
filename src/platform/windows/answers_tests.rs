use super::*;

/// A descriptor as a USB card reader answers it (recorded layout): the
/// strings after the fixed part, space-padded as devices send them.
fn card_reader_descriptor() -> Vec<u8> {
    let mut bytes = vec![0u8; 40];
    bytes[0..4].copy_from_slice(&40u32.to_le_bytes()); // Version
    bytes[10] = 1; // RemovableMedia
    let put = |field: usize, text: &str, bytes: &mut Vec<u8>| {
        let offset = bytes.len() as u32;
        bytes[field..field + 4].copy_from_slice(&offset.to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(0);
    };
    put(12, "Generic ", &mut bytes);
    put(16, "STORAGE DEVICE  ", &mut bytes);
    put(24, "000000001206", &mut bytes);
    bytes[28..32].copy_from_slice(&7u32.to_le_bytes()); // BusTypeUsb
    bytes
}

#[test]
fn a_card_readers_descriptor_gives_its_bus_removability_and_names() {
    let d = device_descriptor(&card_reader_descriptor()).unwrap();
    assert!(d.removable);
    assert_eq!(d.bus_type, 7);
    assert_eq!(d.vendor.as_deref(), Some("Generic"));
    assert_eq!(d.model.as_deref(), Some("STORAGE DEVICE"));
    assert_eq!(d.serial.as_deref(), Some("000000001206"));
}

#[test]
fn absent_or_out_of_range_strings_are_none_and_a_short_answer_is_refused() {
    let mut bytes = card_reader_descriptor();
    bytes[12..16].copy_from_slice(&0u32.to_le_bytes());
    bytes[24..28].copy_from_slice(&9999u32.to_le_bytes());
    let d = device_descriptor(&bytes).unwrap();
    assert_eq!(d.vendor, None);
    assert_eq!(d.serial, None);
    assert_eq!(device_descriptor(&bytes[..20]), None);
}

#[test]
fn geometry_gives_the_sector_size_and_the_disk_size() {
    let mut bytes = vec![0u8; 40];
    bytes[20..24].copy_from_slice(&4096u32.to_le_bytes());
    bytes[24..32].copy_from_slice(&(31_914_983_424u64).to_le_bytes());
    assert_eq!(geometry(&bytes), Some((4096, 31_914_983_424)));
    assert_eq!(geometry(&bytes[..30]), None);
}

#[test]
fn extents_are_read_at_their_24_byte_stride() {
    let mut bytes = vec![0u8; 8 + 2 * 24];
    bytes[0..4].copy_from_slice(&2u32.to_le_bytes());
    for (i, (disk, offset, length)) in [(1u32, 1u64 << 20, 5u64 << 30), (2, 0, 7)]
        .iter()
        .enumerate()
    {
        let at = 8 + 24 * i;
        bytes[at..at + 4].copy_from_slice(&disk.to_le_bytes());
        bytes[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
        bytes[at + 16..at + 24].copy_from_slice(&length.to_le_bytes());
    }
    let extents = disk_extents(&bytes).unwrap();
    assert_eq!(extents.len(), 2);
    assert_eq!(
        (extents[0].disk, extents[0].offset, extents[0].length),
        (1, 1 << 20, 5 << 30)
    );
    assert_eq!((extents[1].disk, extents[1].length), (2, 7));
    // A count larger than the answer holds is refused, not read past.
    bytes[0..4].copy_from_slice(&3u32.to_le_bytes());
    assert_eq!(disk_extents(&bytes), None);
}

#[test]
fn wide_string_lists_end_at_the_empty_string() {
    let list: Vec<u16> = "E:\\\0C:\\mnt\\boot\\\0\0garbage".encode_utf16().collect();
    assert_eq!(multi_sz(&list), ["E:\\", "C:\\mnt\\boot\\"]);
    assert!(multi_sz(&[0, 0]).is_empty());
    assert_eq!(wide_str(&wide("C:\\Windows")), "C:\\Windows");
}

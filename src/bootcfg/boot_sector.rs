//! Recognise a FAT filesystem from its boot sector alone, and read its
//! volume label, so partitions can be classified while the image streams
//! past without holding them.

/// Bytes of a partition needed to classify it.
pub const BOOT_SECTOR_LEN: usize = 512;

/// What the boot sector of a FAT filesystem says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatBootSector {
    /// The volume label of the boot sector, spaces trimmed; `None` when it
    /// has none (`NO NAME`).
    pub label: Option<String>,
    pub is_fat32: bool,
}

fn u16_at(sector: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([sector[at], sector[at + 1]])
}

fn u32_at(sector: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([sector[at], sector[at + 1], sector[at + 2], sector[at + 3]])
}

/// Parses `sector` (the first bytes of a partition) as a FAT boot sector;
/// `None` when it is not one.
pub fn parse_fat_boot_sector(sector: &[u8]) -> Option<FatBootSector> {
    if sector.len() < BOOT_SECTOR_LEN || sector[510..512] != [0x55, 0xAA] {
        return None;
    }
    let bytes_per_sector = u16_at(sector, 11);
    let sectors_per_cluster = sector[13];
    let reserved_sectors = u16_at(sector, 14);
    let fats = sector[16];
    let sectors_per_fat_16 = u16_at(sector, 22);
    let sectors_per_fat_32 = u32_at(sector, 36);
    let plausible = matches!(bytes_per_sector, 512 | 1024 | 2048 | 4096)
        && sectors_per_cluster.is_power_of_two()
        && reserved_sectors > 0
        && fats >= 1
        && (sectors_per_fat_16 != 0 || sectors_per_fat_32 != 0);
    if !plausible {
        return None;
    }
    let is_fat32 = sectors_per_fat_16 == 0;
    let (signature_at, label_at) = if is_fat32 { (66, 71) } else { (38, 43) };
    let label = if sector[signature_at] == 0x29 {
        let raw = String::from_utf8_lossy(&sector[label_at..label_at + 11]);
        let trimmed = raw.trim_end_matches([' ', '\0']).to_string();
        (!trimmed.is_empty() && trimmed != "NO NAME").then_some(trimmed)
    } else {
        None
    };
    Some(FatBootSector { label, is_fat32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fat16_sector(label: &[u8; 11]) -> Vec<u8> {
        let mut s = vec![0u8; 512];
        s[11..13].copy_from_slice(&512u16.to_le_bytes());
        s[13] = 4;
        s[14] = 1;
        s[16] = 2;
        s[22] = 32;
        s[38] = 0x29;
        s[43..54].copy_from_slice(label);
        s[510] = 0x55;
        s[511] = 0xAA;
        s
    }

    #[test]
    fn reads_a_fat16_label() {
        let parsed = parse_fat_boot_sector(&fat16_sector(b"resin-boot ")).unwrap();
        assert_eq!(parsed.label.as_deref(), Some("resin-boot"));
        assert!(!parsed.is_fat32);
        assert_eq!(
            parse_fat_boot_sector(&fat16_sector(b"NO NAME    "))
                .unwrap()
                .label,
            None
        );
    }

    #[test]
    fn rejects_what_is_not_fat() {
        assert_eq!(parse_fat_boot_sector(&[0u8; 512]), None);
        assert_eq!(parse_fat_boot_sector(&[0u8; 100]), None);
        let mut ntfs = fat16_sector(b"x          ");
        ntfs[14] = 0;
        assert_eq!(parse_fat_boot_sector(&ntfs), None);
    }
}

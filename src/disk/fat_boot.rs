//! Recognise a FAT filesystem from its boot sector alone, and read its
//! volume label, so partitions can be classified while the image streams
//! past without holding them.

/// Bytes of a partition needed to classify it.
pub(crate) const BOOT_SECTOR_LEN: usize = 512;

/// What the boot sector of a FAT filesystem says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FatBootSector {
    /// The volume label of the boot sector, spaces trimmed; `None` when it
    /// has none (`NO NAME`).
    pub label: Option<String>,
    pub is_fat32: bool,
}

/// The layout a FAT boot sector (its BIOS parameter block) describes: the
/// one reading of those fields, shared by everything that walks a FAT
/// (classification, the damage check, the directory repair, the map of
/// used bytes). Each caller judges plausibility for its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FatGeometry {
    pub bytes_per_sector: u64,
    pub sectors_per_cluster: u64,
    pub reserved_sectors: u64,
    pub fats: u64,
    pub root_entries: u64,
    pub sectors_per_fat: u64,
    pub total_sectors: u64,
    /// The parameter block has the FAT32 form (no 16-bit FAT size).
    pub fat32_form: bool,
    /// FAT32: the first cluster of the root directory.
    pub root_cluster: u32,
}

/// Bytes of a directory entry.
const DIR_ENTRY_BYTES: u64 = 32;

impl FatGeometry {
    /// The fields of the boot sector at the start of `sector`, as written;
    /// `None` when fewer than 512 bytes are given.
    pub(crate) fn read(sector: &[u8]) -> Option<FatGeometry> {
        let sector = sector.get(..BOOT_SECTOR_LEN)?;
        let at16 = |at| u64::from(u16_at(sector, at));
        let at32 = |at| u64::from(u32_at(sector, at));
        let either = |short: u64, long: u64| if short != 0 { short } else { long };
        Some(FatGeometry {
            bytes_per_sector: at16(11),
            sectors_per_cluster: u64::from(sector[13]),
            reserved_sectors: at16(14),
            fats: u64::from(sector[16]),
            root_entries: at16(17),
            sectors_per_fat: either(at16(22), at32(36)),
            total_sectors: either(at16(19), at32(32)),
            fat32_form: at16(22) == 0,
            root_cluster: u32_at(sector, 44),
        })
    }

    /// Sectors of FAT12/16's fixed root directory (0 on FAT32).
    pub(crate) fn root_dir_sectors(&self) -> u64 {
        (self.root_entries * DIR_ENTRY_BYTES).div_ceil(self.bytes_per_sector.max(1))
    }

    /// The first sector of the data region (cluster 2). Every factor comes
    /// from a 16- or 32-bit field: no overflow in u64.
    pub(crate) fn data_start_sector(&self) -> u64 {
        self.reserved_sectors + self.fats * self.sectors_per_fat + self.root_dir_sectors()
    }

    /// Clusters in the data region; `None` when the boot sector puts the
    /// data region past the end of the volume or a size is zero.
    pub(crate) fn cluster_count(&self) -> Option<u64> {
        let data_sectors = self.total_sectors.checked_sub(self.data_start_sector())?;
        data_sectors.checked_div(self.sectors_per_cluster)
    }

    /// Bytes of a cluster.
    pub(crate) fn cluster_bytes(&self) -> u64 {
        self.sectors_per_cluster * self.bytes_per_sector
    }
}

fn u16_at(sector: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([sector[at], sector[at + 1]])
}

fn u32_at(sector: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([sector[at], sector[at + 1], sector[at + 2], sector[at + 3]])
}

/// Parses `sector` (the first bytes of a partition) as a FAT boot sector;
/// `None` when it is not one.
pub(crate) fn parse_fat_boot_sector(sector: &[u8]) -> Option<FatBootSector> {
    if sector.len() < BOOT_SECTOR_LEN || sector[510..512] != [0x55, 0xAA] {
        return None;
    }
    let geometry = FatGeometry::read(sector)?;
    let plausible = matches!(geometry.bytes_per_sector, 512 | 1024 | 2048 | 4096)
        && geometry.sectors_per_cluster.is_power_of_two()
        && geometry.reserved_sectors > 0
        && geometry.fats >= 1
        && geometry.sectors_per_fat != 0;
    if !plausible {
        return None;
    }
    let is_fat32 = geometry.fat32_form;
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

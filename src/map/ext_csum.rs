//! The checksums an ext4 filesystem keeps over its own metadata, so the map
//! trusts a superblock, a group descriptor or a block bitmap only when it
//! is what the filesystem wrote.
//!
//! As in Linux `fs/ext4/` and e2fsprogs' `lib/ext2fs/csum.c`: with
//! metadata_csum, crc32c without the final inversion (Linux
//! `crc32c(seed, data, len)`), seeded from the filesystem's uuid (or
//! `s_checksum_seed` with csum_seed); with the older gdt_csum, a crc16
//! (poly 0xA001 reflected, Linux `lib/crc16.c`) over the uuid, the group
//! number and the descriptor.

use crc::{Algorithm, CRC_16_MODBUS, Crc};

use crate::map::{le16, le32};

const INCOMPAT_CSUM_SEED: u64 = 0x2000;
const RO_COMPAT_GDT_CSUM: u64 = 0x10;
const RO_COMPAT_METADATA_CSUM: u64 = 0x400;
/// `s_checksum_type`: 1 is crc32c, the only one defined.
const CHECKSUM_TYPE_CRC32C: u8 = 1;
/// Offsets in the superblock.
const SB_CHECKSUM_TYPE: usize = 0x175;
const SB_CHECKSUM_SEED: usize = 0x270;
const SB_CHECKSUM: usize = 0x3FC;
const SB_UUID: usize = 0x68;
/// Offsets in a group descriptor.
const BG_BLOCK_BITMAP_CSUM_LO: usize = 0x18;
const BG_CHECKSUM: usize = 0x1E;
const BG_BLOCK_BITMAP_CSUM_HI: usize = 0x38;
/// A descriptor this long or longer holds the bitmap checksum's high half.
const BG_BLOCK_BITMAP_CSUM_HI_END: usize = 0x3C;

/// crc32c as the kernel computes it: the state is the seed as given and
/// nothing is inverted at the end (`init` here is only the default seed).
const CRC32C_RAW: Algorithm<u32> = Algorithm {
    width: 32,
    poly: 0x1EDC_6F41,
    init: 0xFFFF_FFFF,
    refin: true,
    refout: true,
    xorout: 0,
    check: 0x1CF9_6D7C,
    residue: 0,
};
const CRC32C: Crc<u32> = Crc::<u32>::new(&CRC32C_RAW);
/// Linux `crc16(~0, ...)`: CRC-16/ARC's polynomial from 0xFFFF, no final xor.
const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);

/// Linux `crc32c(seed, data)`.
pub(super) fn raw_crc32c(seed: u32, parts: &[&[u8]]) -> u32 {
    // The crate reflects the initial value it is given; the kernel's seed
    // is already the reflected state.
    let mut digest = CRC32C.digest_with_initial(seed.reverse_bits());
    for part in parts {
        digest.update(part);
    }
    digest.finalize()
}

/// Linux `crc16(~0, data)` over the concatenated parts.
pub(super) fn crc16(parts: &[&[u8]]) -> u16 {
    let mut digest = CRC16.digest();
    for part in parts {
        digest.update(part);
    }
    digest.finalize()
}

/// Which checksums a filesystem keeps, and what they start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Checksums {
    None,
    /// gdt_csum: descriptors only, crc16 from the uuid.
    Gdt {
        uuid: [u8; 16],
    },
    /// metadata_csum: everything, crc32c from this seed.
    Metadata {
        seed: u32,
    },
}

impl Checksums {
    /// The checksums of the superblock `sb` (its 1024 bytes); `None` when
    /// it claims a checksum this code does not know or its own is wrong:
    /// then nothing it says can be trusted.
    pub(super) fn of_superblock(sb: &[u8]) -> Option<Checksums> {
        let sb = sb.get(..1024)?;
        let incompat = le32(sb, 0x60);
        let ro_compat = le32(sb, 0x64);
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&sb[SB_UUID..SB_UUID + 16]);
        if ro_compat & RO_COMPAT_METADATA_CSUM != 0 {
            let stored = le32(sb, SB_CHECKSUM) as u32;
            if sb[SB_CHECKSUM_TYPE] != CHECKSUM_TYPE_CRC32C
                || raw_crc32c(!0, &[&sb[..SB_CHECKSUM]]) != stored
            {
                return None;
            }
            let seed = if incompat & INCOMPAT_CSUM_SEED != 0 {
                le32(sb, SB_CHECKSUM_SEED) as u32
            } else {
                raw_crc32c(!0, &[&uuid])
            };
            Some(Checksums::Metadata { seed })
        } else if ro_compat & RO_COMPAT_GDT_CSUM != 0 {
            Some(Checksums::Gdt { uuid })
        } else {
            Some(Checksums::None)
        }
    }

    /// Whether a group descriptor's checksum says it is the one written
    /// (and so whether its BLOCK_UNINIT may be believed).
    pub(super) fn descriptor_ok(&self, group: u64, desc: &[u8], is_64bit: bool) -> bool {
        let Some(stored) = desc.get(BG_CHECKSUM..BG_CHECKSUM + 2) else {
            return false;
        };
        let stored = u16::from_le_bytes([stored[0], stored[1]]);
        let number = (group as u32).to_le_bytes();
        let before = &desc[..BG_CHECKSUM];
        let after = &desc[BG_CHECKSUM + 2..];
        match self {
            Checksums::None => true,
            Checksums::Gdt { uuid } => {
                // The rest after the checksum counts only in 64-byte
                // descriptors (the 64bit feature).
                let rest: &[u8] = if is_64bit { after } else { &[] };
                crc16(&[uuid, &number, before, rest]) == stored
            }
            Checksums::Metadata { seed } => {
                raw_crc32c(*seed, &[&number, before, &[0, 0], after]) as u16 == stored
            }
        }
    }

    /// Whether the block bitmap `bitmap` (its first `clusters_per_group`
    /// bits) matches the checksum its descriptor `desc` keeps; true when
    /// the filesystem keeps none.
    pub(super) fn bitmap_ok(&self, desc: &[u8], bitmap: &[u8], clusters_per_group: u64) -> bool {
        let Checksums::Metadata { seed } = self else {
            return true;
        };
        let Some(bitmap) = bitmap.get(..(clusters_per_group / 8) as usize) else {
            return false;
        };
        let sum = raw_crc32c(*seed, &[bitmap]);
        let lo = le16(desc, BG_BLOCK_BITMAP_CSUM_LO);
        if u64::from(sum & 0xFFFF) != lo {
            return false;
        }
        desc.len() < BG_BLOCK_BITMAP_CSUM_HI_END
            || u64::from(sum >> 16) == le16(desc, BG_BLOCK_BITMAP_CSUM_HI)
    }
}

#[cfg(test)]
#[path = "ext_csum_tests.rs"]
mod tests;

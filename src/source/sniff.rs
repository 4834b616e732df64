//! Format detection by content: the first bytes of a file decide its format,
//! never its name (`.img.xz` files renamed `.foo` or with no extension at all
//! are common in the wild).

use super::ImageFormat;

/// How many leading bytes [`sniff`] needs to recognise every format.
pub(crate) const SNIFF_LEN_BYTES: usize = 6;

const XZ_MAGIC: &[u8] = &[0xFD, b'7', b'z', b'X', b'Z', 0x00];
// The third byte is the compression method; 8 (deflate) is the only one
// gzip(1) has ever written, and requiring it makes false positives rarer.
const GZIP_MAGIC: &[u8] = &[0x1F, 0x8B, 0x08];
const ZSTD_FRAME_MAGIC: u32 = 0xFD2F_B528;
/// Skippable frames use magics 0x184D2A50..=0x184D2A5F; pzstd starts its
/// output with one, so a zstd file may begin with either kind.
const ZSTD_SKIPPABLE_MAGIC_MASK: u32 = 0xFFFF_FFF0;
const ZSTD_SKIPPABLE_MAGIC: u32 = 0x184D_2A50;
const ZIP_LOCAL_HEADER_MAGIC: &[u8] = b"PK\x03\x04";
/// An archive with no entries at all is only an end-of-central-directory
/// record; it must still be reported as "no disk image in archive".
const ZIP_EMPTY_ARCHIVE_MAGIC: &[u8] = b"PK\x05\x06";

/// The format of a file that starts with `head` (fewer bytes than
/// [`SNIFF_LEN_BYTES`] are fine: such a file is raw).
pub(crate) fn sniff(head: &[u8]) -> ImageFormat {
    if head.starts_with(XZ_MAGIC) {
        ImageFormat::Xz
    } else if head.starts_with(GZIP_MAGIC) {
        ImageFormat::Gzip
    } else if is_zstd(head) {
        ImageFormat::Zstd
    } else if is_bzip2(head) {
        ImageFormat::Bzip2
    } else if head.starts_with(ZIP_LOCAL_HEADER_MAGIC) || head.starts_with(ZIP_EMPTY_ARCHIVE_MAGIC)
    {
        ImageFormat::Zip
    } else {
        ImageFormat::Raw
    }
}

fn is_zstd(head: &[u8]) -> bool {
    let Some(first) = head.first_chunk::<4>() else {
        return false;
    };
    let magic = u32::from_le_bytes(*first);
    magic == ZSTD_FRAME_MAGIC || magic & ZSTD_SKIPPABLE_MAGIC_MASK == ZSTD_SKIPPABLE_MAGIC
}

/// `BZh` followed by the block size digit `1`..=`9`.
fn is_bzip2(head: &[u8]) -> bool {
    matches!(head, [b'B', b'Z', b'h', b'1'..=b'9', ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_magic() {
        assert_eq!(sniff(b"\xFD7zXZ\x00\x00\x04"), ImageFormat::Xz);
        assert_eq!(sniff(b"\x1F\x8B\x08\x00"), ImageFormat::Gzip);
        assert_eq!(sniff(b"\x28\xB5\x2F\xFD\x24"), ImageFormat::Zstd);
        assert_eq!(sniff(b"\x50\x2A\x4D\x18\x04\x00"), ImageFormat::Zstd);
        assert_eq!(sniff(b"\x5F\x2A\x4D\x18\x04\x00"), ImageFormat::Zstd);
        assert_eq!(sniff(b"BZh91AY"), ImageFormat::Bzip2);
        assert_eq!(sniff(b"PK\x03\x04\x14\x00"), ImageFormat::Zip);
        assert_eq!(sniff(b"PK\x05\x06\x00\x00"), ImageFormat::Zip);
    }

    #[test]
    fn anything_else_is_raw() {
        assert_eq!(sniff(b""), ImageFormat::Raw);
        assert_eq!(sniff(b"\xFD7zX"), ImageFormat::Raw, "xz magic cut short");
        assert_eq!(
            sniff(b"\x1F\x8B\x07"),
            ImageFormat::Raw,
            "gzip, not deflate"
        );
        assert_eq!(sniff(b"BZh0"), ImageFormat::Raw, "bzip2 needs a size digit");
        assert_eq!(sniff(b"\x60\x2A\x4D\x18"), ImageFormat::Raw);
        assert_eq!(sniff(b"PK\x01\x02"), ImageFormat::Raw);
        // An MBR boot sector starts with x86 code.
        assert_eq!(sniff(b"\xFA\xB8\x00\x10\x8E\xD0"), ImageFormat::Raw);
    }
}

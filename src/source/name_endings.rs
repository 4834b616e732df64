//! The one list of file name endings an image usually has: the disk images
//! (as looked for inside a zip) and the compressed forms. Only for naming
//! and filtering (the file dialog): the format is always detected by
//! content (docs/architecture.md §2).

use super::ImageFormat;
use super::archive::DISK_IMAGE_EXTENSIONS;

/// Every ending (without the dot) an image file usually has: the disk
/// images first, then each format's compressed endings.
pub fn image_name_endings() -> Vec<&'static str> {
    DISK_IMAGE_EXTENSIONS
        .iter()
        .copied()
        .chain(compressed_name_endings())
        .collect()
}

/// The endings (without the dot) of the compressed forms Imprint reads:
/// what bmaptool strips from `os.img.xz` to find `os.img.bmap`.
pub fn compressed_name_endings() -> impl Iterator<Item = &'static str> {
    ImageFormat::ALL
        .iter()
        .flat_map(|format| format.file_extensions())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endings_cover_every_format_and_the_yocto_names() {
        let endings = image_name_endings();
        for ending in [
            "img",
            "zst",
            "zstd",
            "hddimg",
            "rpi-sdimg",
            "xz",
            "gz",
            "bz2",
            "zip",
        ] {
            assert!(
                endings.contains(&ending),
                "{ending} missing from {endings:?}"
            );
        }
        let mut unique = endings.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), endings.len(), "{endings:?} has duplicates");
    }
}

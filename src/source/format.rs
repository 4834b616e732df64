//! The formats Imprint reads, and their names.

use std::fmt;

/// The container or compression format of an image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Raw,
    Xz,
    Gzip,
    Zstd,
    Bzip2,
    Zip,
}

impl ImageFormat {
    /// Every format Imprint reads.
    pub const ALL: [ImageFormat; 6] = [
        ImageFormat::Raw,
        ImageFormat::Xz,
        ImageFormat::Gzip,
        ImageFormat::Zstd,
        ImageFormat::Bzip2,
        ImageFormat::Zip,
    ];

    /// The endings files of this format usually have (without the dot).
    /// Only for naming things: the format is always detected by content.
    pub fn file_extensions(self) -> &'static [&'static str] {
        match self {
            ImageFormat::Raw => &[],
            ImageFormat::Xz => &["xz"],
            ImageFormat::Gzip => &["gz"],
            ImageFormat::Zstd => &["zst", "zstd"],
            ImageFormat::Bzip2 => &["bz2"],
            ImageFormat::Zip => &["zip"],
        }
    }

    /// The short lower-case name used in events and on screen (`"xz"`).
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Raw => "raw",
            ImageFormat::Xz => "xz",
            ImageFormat::Gzip => "gzip",
            ImageFormat::Zstd => "zstd",
            ImageFormat::Bzip2 => "bzip2",
            ImageFormat::Zip => "zip",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

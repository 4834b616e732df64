//! balenaOS configuration: find the boot partition of an image, and produce
//! the configured bytes of that partition (`/config.json`, optional WiFi
//! profile) as a [`crate::engine::Patch`] that the engine streams in place
//! of the original bytes.

use crate::engine::Patch;

/// The boot partition a configuration was written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootPartition {
    /// 1-based partition number (logical MBR partitions from 5).
    pub number: u32,
    /// FAT volume label or GPT partition name, when it has one.
    pub label: Option<String>,
    /// Byte offset of the partition in the image.
    pub offset: u64,
    pub size_bytes: u64,
}

/// A configured boot partition, ready to stream.
#[derive(Debug, Clone)]
pub struct Configured {
    pub patch: Patch,
    pub partition: BootPartition,
    /// SHA-256 (hex) of the config.json as written.
    pub config_sha256: String,
    /// Things the user should know that do not stop the run (a deviceType
    /// that differs from the image's).
    pub warnings: Vec<String>,
}

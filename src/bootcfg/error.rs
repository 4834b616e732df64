//! Why an image could not be configured. Every variant is a refusal before
//! anything is written (exit code 2), and says what the user can do.

use std::io;
use std::path::PathBuf;

use crate::disk::DiskError;

/// An error while validating the configuration or preparing the configured
/// boot partition.
#[derive(Debug, thiserror::Error)]
pub enum BootConfigError {
    #[error("cannot read config file {path}: {cause}")]
    ReadConfig { path: PathBuf, cause: io::Error },
    #[error("config file {path} is not valid JSON: {cause}")]
    ParseConfig {
        path: PathBuf,
        cause: serde_json::Error,
    },
    #[error("config file {path} is not a balenaOS config.json: {reason}")]
    InvalidConfig { path: PathBuf, reason: String },
    #[error("invalid WiFi settings: {reason}")]
    InvalidWifi { reason: String },
    /// WiFi without a config.json, on an image whose boot partition holds
    /// none (WiFi alone is only added to an image configured already).
    #[error(
        "WiFi settings need a config.json: balenaOS reads its WiFi profile from a configured boot partition, and this image's holds no config.json"
    )]
    WifiWithoutConfig,
    /// Something in the image stopped the configuration; `cause` says what.
    #[error("cannot configure {image}: {cause}")]
    InImage {
        image: PathBuf,
        cause: Box<BootConfigError>,
    },
    /// The image's partition tables, or a region they point to, could not
    /// be read; the disk layer says why.
    #[error(transparent)]
    Disk(#[from] DiskError),
    #[error(
        "no balenaOS boot partition in the image (no partition labelled resin-boot, balena-boot or flash-boot, none holding /device-type.json, and partition 1 is not FAT); partitions found: {partitions}. Is this a balenaOS image?"
    )]
    NoBootPartition { partitions: String },
    #[error(
        "/device-type.json names boot partition {number}, which the image does not have; partitions found: {partitions}"
    )]
    DeviceTypePartitionMissing { number: u32, partitions: String },
    #[error(
        "boot partition {number} (byte offset {offset}) is not a FAT filesystem the configuration can be written to: {cause}"
    )]
    NotFat {
        number: u32,
        offset: u64,
        cause: io::Error,
    },
    #[error(
        "the boot partition's FAT is damaged: {problem}; run fsck.fat on it (boot partition {number}, byte offset {offset}) or use an undamaged image. Nothing was written"
    )]
    DamagedFat {
        number: u32,
        offset: u64,
        problem: String,
    },
    #[error(
        "boot partition {number} (byte offset {offset}, {size_bytes} bytes) extends past the end of the image, which ends at byte {image_len}: the image is truncated (download it again) or its partition table is wrong"
    )]
    PartitionPastImageEnd {
        number: u32,
        offset: u64,
        size_bytes: u64,
        image_len: u64,
    },
    #[error(
        "boot partition {number} is {size_bytes} bytes, more than the {limit_bytes} bytes of memory Imprint allows itself to hold it in (free some memory and try again)"
    )]
    PartitionTooLarge {
        number: u32,
        size_bytes: u64,
        limit_bytes: u64,
    },
    #[error(
        "{file} ({file_len} bytes) does not fit in boot partition {number} (byte offset {offset}), which has {free_bytes} bytes free: {cause}"
    )]
    DoesNotFit {
        file: String,
        file_len: u64,
        number: u32,
        offset: u64,
        free_bytes: u64,
        cause: io::Error,
    },
    #[error("cannot write {file} into boot partition {number} (byte offset {offset}): {cause}")]
    EditFat {
        file: String,
        number: u32,
        offset: u64,
        cause: io::Error,
    },
}

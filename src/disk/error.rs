//! Why an image's disk layout could not be read: a read error, an image
//! shorter than its tables say, or a malformed table.

use std::io;

/// An error while reading an image's partition tables or a region they
/// point to.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("cannot read the image at byte offset {offset}: {cause}")]
    ReadImage { offset: u64, cause: io::Error },
    #[error(
        "the image ends at byte {image_len}, before byte offset {offset} that its partition table points to: the image is truncated (download it again) or its partition table is wrong"
    )]
    ImageTooShort { offset: u64, image_len: u64 },
    #[error("the image has no partition table (no GPT and no MBR signature in its first sectors)")]
    NoPartitionTable,
    #[error("malformed {table} partition table at byte offset {offset}: {reason}")]
    MalformedPartitionTable {
        table: &'static str,
        offset: u64,
        reason: String,
    },
}

//! What a flash run is asked to do, and what it reports at the end.

use std::path::PathBuf;
use std::sync::Arc;

use super::TargetFailure;
use crate::map::bmap::Bmap;
use crate::patch::Patch;
use crate::source::ImageSource;

/// One flash run: an image, its targets, and how to check the result.
#[derive(Debug, Clone)]
pub struct FlashJob {
    pub source: ImageSource,
    /// Block devices or regular files, in the order the user named them.
    pub targets: Vec<PathBuf>,
    /// Read every target back and compare it with the image.
    pub verify: bool,
    /// The SHA-256 (hex) the decompressed, patched image must have.
    pub expected_sha256: Option<String>,
    pub patch: Option<Patch>,
    /// Write and verify every byte (`--full`), not only the used ranges of
    /// the map of used bytes (`crate::map`).
    pub full: bool,
    /// The image's bmap file: its ranges join the map of used bytes and
    /// their checksums are checked as the image streams.
    pub bmap: Option<Arc<Bmap>>,
}

impl FlashJob {
    /// The decompressed image size when known before the run: the
    /// source's hint, else the bmap's `ImageSize`.
    pub fn size_hint(&self) -> Option<u64> {
        self.source
            .size_hint()
            .or_else(|| self.bmap.as_ref().map(|b| b.image_size))
    }
}

/// The result of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOutcome {
    pub target: PathBuf,
    pub result: Result<(), TargetFailure>,
    /// How far into the image this target was written (a position).
    pub bytes_written: u64,
    /// Bytes actually written: the used ranges only, unless `--full`.
    pub written_bytes: u64,
    /// Bytes read back and compared.
    pub verified_bytes: u64,
    /// Whether every written byte was read back and matched.
    pub verified: bool,
}

/// The result of a whole run.
#[derive(Debug, Clone)]
pub struct FlashReport {
    pub targets: Vec<TargetOutcome>,
    pub image_sha256: Option<String>,
    /// The image's length; `None` when it could not be read to its end.
    pub image_bytes: Option<u64>,
}

impl FlashReport {
    pub fn succeeded(&self) -> usize {
        self.targets.iter().filter(|t| t.result.is_ok()).count()
    }

    pub fn failed(&self) -> usize {
        self.targets.len() - self.succeeded()
    }
}

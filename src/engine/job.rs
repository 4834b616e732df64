//! What a flash run is asked to do, and what it reports at the end.

use std::path::PathBuf;
use std::sync::Arc;

use super::TargetFailure;
use crate::source::ImageSource;

/// Bytes that replace the image's own bytes at `offset` while it streams:
/// how a configured boot partition reaches the targets, so that the hashes
/// and the read-back verification cover the configured image.
#[derive(Debug, Clone)]
pub struct Patch {
    pub offset: u64,
    pub bytes: Arc<Vec<u8>>,
}

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
}

/// A target refused before anything was written (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub target: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.target.display(), self.reason)
    }
}

/// The result of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOutcome {
    pub target: PathBuf,
    pub result: Result<(), TargetFailure>,
    /// Bytes of the image written to this target.
    pub bytes_written: u64,
    /// Whether every written byte was read back and matched.
    pub verified: bool,
}

/// The result of a whole run.
#[derive(Debug, Clone)]
pub struct FlashReport {
    pub targets: Vec<TargetOutcome>,
    pub image_sha256: Option<String>,
    pub image_bytes: u64,
}

impl FlashReport {
    pub fn succeeded(&self) -> usize {
        self.targets.iter().filter(|t| t.result.is_ok()).count()
    }

    pub fn failed(&self) -> usize {
        self.targets.len() - self.succeeded()
    }
}

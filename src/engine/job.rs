//! What a flash run is asked to do, and what it reports at the end.

use std::path::PathBuf;
use std::sync::Arc;

use super::TargetFailure;
use crate::map::bmap::Bmap;
use crate::patch::Patch;
use crate::source::ImageSource;
use crate::target::RunInput;
use crate::target::probe::ProbeMode;

/// One flash run: an image, its targets, and how to check the result.
#[derive(Debug, Clone)]
pub struct FlashJob {
    pub source: ImageSource,
    /// Block devices or regular files, in the order the user named them.
    pub targets: Vec<PathBuf>,
    /// Read every target back and compare it with the image.
    pub verify: bool,
    /// The SHA-256 (hex) the decompressed image must have (without any
    /// patch: the hash its publisher lists, docs/architecture.md §11).
    pub expected_sha256: Option<String>,
    /// Take the image's SHA-256 even when `expected_sha256` is `None`,
    /// because something shows or keeps it (the app, a report record).
    /// Without either the run skips that pass over every byte and reports
    /// no `image_sha256` (docs/architecture.md §2).
    pub hash_image: bool,
    /// Each target's patch (its configured boot partition), by the index of
    /// `targets`; a target past the end of this list has none. Each target
    /// is written and verified with its own.
    pub patches: Vec<Option<Patch>>,
    /// Write and verify every byte (`--full`), not only the used ranges of
    /// the map of used bytes (`crate::map`).
    pub full: bool,
    /// The image's bmap file: its ranges join the map of used bytes and
    /// their checksums are checked as the image streams.
    pub bmap: Option<Arc<Bmap>>,
    /// The run's own files (config, CSV, report, bmap): no target may be
    /// one of them or share their storage (docs/architecture.md §3).
    pub inputs: Vec<RunInput>,
    /// The counterfeit probe of each block device before it is written
    /// (docs/architecture.md §3): on by default, `--no-probe`, `--probe full`.
    pub probe: ProbeMode,
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

impl FlashJob {
    /// Whether the run takes the image's SHA-256.
    pub fn hashes_image(&self) -> bool {
        self.hash_image || self.expected_sha256.is_some()
    }

    /// The patch of target `index`, if any.
    pub fn patch_for(&self, index: usize) -> Option<&Patch> {
        self.patches.get(index).and_then(Option::as_ref)
    }

    /// The regions patched for any target: always used in the map, so that
    /// every target writes and verifies them whole.
    pub fn patched_ranges(&self) -> Vec<std::ops::Range<u64>> {
        let mut ranges: Vec<_> = self.patches.iter().flatten().map(Patch::range).collect();
        ranges.sort_by_key(|r| (r.start, r.end));
        ranges.dedup();
        ranges
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
    /// Bytes of used ranges the target already held, so not written.
    pub matched_bytes: u64,
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

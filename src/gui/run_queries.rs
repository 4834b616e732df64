//! Questions the result screen and the app ask of a finished
//! [`FlashRun`]: which drives the image stopped, whether the rest were only
//! cut short by a stop, and what a drive too small taught about the image.

use std::path::{Path, PathBuf};

use super::message;
use super::state::FlashRun;
use crate::engine::FailureKind;

impl FlashRun {
    /// Whether the image, not the drive, made `target` fail: a damaged or
    /// incomplete image, or one that is not the expected checksum. A failed
    /// download is not: the next attempt may get the whole file.
    pub fn failed_by_image(&self, target: &Path) -> bool {
        self.targets.iter().any(|t| {
            t.path == target
                && matches!(&t.progress.result, Some(Err(f))
                    if (f.kind == FailureKind::Source && !message::is_download_failure(f))
                        || f.kind == FailureKind::Checksum)
        })
    }

    /// Whether each of `targets` was cut short by a stop (none failed on
    /// its own): flashing them again is the plan, not a retry.
    pub fn only_cancelled(&self, targets: &[PathBuf]) -> bool {
        self.targets
            .iter()
            .filter(|t| targets.contains(&t.path))
            .all(|t| matches!(&t.progress.result, Some(Err(f)) if f.kind == FailureKind::Cancelled))
    }

    /// The size the image has at least, learned from a drive too small for
    /// it: the image goes on past the byte the drive ends at.
    pub fn too_small_bound(&self) -> Option<u64> {
        self.targets
            .iter()
            .filter_map(|t| match &t.progress.result {
                Some(Err(f)) if f.kind == FailureKind::TooSmall => f.offset,
                _ => None,
            })
            .max()
            .map(|end| end + 1)
    }
}

//! The flash engine: one reader decompresses the image once and fans aligned
//! chunks out to one writer thread per target; each writer then reads its
//! target back and compares it chunk by chunk with the image's hashes.
//!
//! The engine knows nothing of egui, clap or terminals. It reports through
//! [`FlashEvent`]s on a channel and returns a [`FlashReport`].

mod events;
mod job;

pub use events::{FailureKind, FlashEvent, Phase, TargetFailure};
pub use job::{FlashJob, FlashReport, Patch, Refusal, TargetOutcome};

use std::sync::atomic::AtomicBool;

use crossbeam_channel::Sender;

/// Checks every target of `job` (system drive, size, read-only, named twice)
/// without opening any for writing. `--dry-run` stops here.
pub fn check(job: &FlashJob) -> Result<(), Vec<Refusal>> {
    let _ = job;
    unimplemented!("engine::check")
}

/// Runs `job` to its end: checks every target, then writes and verifies them
/// all, sending events on `events`. Blocks until every target is finished;
/// setting `cancel` stops the run within a second. Returns the refusals when
/// a target failed its checks (then nothing was written).
pub fn flash(
    job: &FlashJob,
    events: &Sender<FlashEvent>,
    cancel: &AtomicBool,
) -> Result<FlashReport, Vec<Refusal>> {
    let _ = (job, events, cancel);
    unimplemented!("engine::flash")
}

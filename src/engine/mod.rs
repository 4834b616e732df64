//! The flash engine: one reader decompresses the image once and fans aligned
//! chunks out to one writer thread per target; each writer then reads its
//! target back and compares it chunk by chunk with the image's hashes.
//!
//! The engine knows nothing of egui, clap or terminals. It reports through
//! [`FlashEvent`]s on a channel and returns a [`FlashReport`].

mod events;
mod job;

pub use events::{FlashEvent, Phase, TargetFailure, FailureKind};
pub use job::{FlashJob, FlashReport, Patch, Refusal, TargetOutcome};

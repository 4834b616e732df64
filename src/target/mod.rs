//! Write targets: a block device or a regular file. Safety checks before
//! anything is written ([`check_targets`]), and the aligned direct I/O that writes
//! and reads them back ([`TargetFile`]), which the engine reaches through
//! [`BlockTarget`] so that its tests can put a mock in its place.

mod aligned;
mod block;
mod check;
mod first_byte;
mod holds;
mod io;
pub(crate) mod probe;
mod probe_plan;
mod refusal;
mod stamp;

pub(crate) use aligned::AlignedBuf;
pub(crate) use block::{BlockTarget, OpenTargetFile, TargetOpener};
pub(crate) use check::{
    RunInput, TargetInfo, TargetKind, check_targets, check_targets_with, inspect,
    refuse_files_under_elevation,
};
pub(crate) use first_byte::close_if_untouched;
pub(crate) use io::{TargetError, TargetFile};
pub(crate) use refusal::Refusal;

/// Alignment of every buffer handed to O_DIRECT I/O. 4096 covers every
/// logical sector size in use (512 and 4096 bytes).
pub(crate) const IO_ALIGNMENT: usize = 4096;

//! Wire → engine: a line of `imprint flash --json` back into the engine's
//! [`FlashEvent`], so a run in another process (the app's privileged helper)
//! is shown exactly like one in this process (docs/architecture.md §5).

use super::wire::{EjectOutcome, WireEvent};
use crate::engine::{Ejected, FailureKind, FlashEvent, TargetFailure};
use crate::source::DownloadEvent;
use crate::target::probe::Verdict;

/// What a line of a flash run says, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLine {
    /// An engine event.
    Flash(FlashEvent),
    /// Refused before anything was written: one problem, in a sentence
    /// (a `refused` target, or an `error` that stopped the run).
    Refused(String),
}

impl RunLine {
    /// Parses one line of a flash run; `index` maps a target's name back to
    /// its number. `None` for a line that is not an event of a flash run (an
    /// unknown event, a station's, a target not in the run): readers skip
    /// what they do not know, the protocol may grow.
    pub fn parse(line: &str, index: impl Fn(&str) -> Option<usize>) -> Option<RunLine> {
        WireEvent::parse(line)?.into_run_line(index)
    }
}

impl WireEvent {
    /// This event as the engine's, see [`RunLine::parse`].
    pub fn into_run_line(self, index: impl Fn(&str) -> Option<usize>) -> Option<RunLine> {
        let event = match self {
            WireEvent::Refused { target, error } => {
                return Some(RunLine::Refused(format!("{target}: {error}")));
            }
            // Stopped before anything was written (exit code 2): the event
            // itself says why.
            WireEvent::Error { error, .. } => return Some(RunLine::Refused(error)),
            WireEvent::Start { size, targets, .. } => FlashEvent::Started {
                targets,
                size_hint: size,
            },
            WireEvent::Progress {
                target,
                phase,
                bytes,
                total,
                ..
            } => FlashEvent::Progress {
                target: index(&target)?,
                phase,
                bytes,
                total,
            },
            WireEvent::TargetDone {
                target,
                ok,
                kind,
                error,
                offset,
                sha256,
                written_bytes,
                verified_bytes,
                matched_bytes,
                ..
            } => FlashEvent::TargetDone {
                matched_bytes: matched_bytes.unwrap_or(0),
                target: index(&target)?,
                sha256,
                written_bytes: written_bytes.unwrap_or(0),
                verified_bytes: verified_bytes.unwrap_or(0),
                result: target_result(ok, kind, error, offset),
            },
            WireEvent::Done {
                image_sha256,
                image_bytes,
                ..
            } => FlashEvent::Done {
                image_sha256,
                image_bytes,
            },
            WireEvent::Ejected {
                target,
                outcome,
                error,
            } => FlashEvent::Ejected {
                target: index(&target)?,
                result: ejected_result(outcome, error),
            },
            WireEvent::Probe {
                target, verdict, ..
            } => FlashEvent::Probed {
                target: index(&target)?,
                verdict: Verdict::parse(&verdict)?,
            },
            // `--dry-run`, a station's and `verify-drive`'s events: a flash run
            // has none.
            WireEvent::DryRun { .. }
            | WireEvent::Inserted { .. }
            | WireEvent::Skipped { .. }
            | WireEvent::Removed { .. }
            | WireEvent::Flashing { .. }
            | WireEvent::Range { .. }
            | WireEvent::Verdict { .. } => return None,
            // A download's lines read back as the download's own events,
            // translated where the run translates them (`FlashEvent::from`).
            WireEvent::Download { bytes, total } => DownloadEvent::Progress { bytes, total }.into(),
            WireEvent::Downloaded { sha256 } => DownloadEvent::Finished { sha256 }.into(),
            WireEvent::Retry {
                attempt,
                at,
                reason,
            } => DownloadEvent::Retry {
                attempt,
                at,
                reason,
            }
            .into(),
        };
        Some(RunLine::Flash(event))
    }
}

/// The engine's result of a `target_done` event; a failure that does not
/// say its kind or message reads as a write failure.
fn target_result(
    ok: bool,
    kind: Option<FailureKind>,
    error: Option<String>,
    offset: Option<u64>,
) -> Result<(), TargetFailure> {
    if ok {
        return Ok(());
    }
    Err(TargetFailure {
        kind: kind.unwrap_or(FailureKind::Write),
        offset,
        message: error.unwrap_or_else(|| "failed".to_string()),
    })
}

/// The engine's result of an `ejected` event.
fn ejected_result(outcome: EjectOutcome, error: Option<String>) -> Result<Ejected, String> {
    match outcome {
        EjectOutcome::PoweredOff => Ok(Ejected::PoweredOff),
        EjectOutcome::Flushed => Ok(Ejected::Flushed),
        EjectOutcome::Failed => Err(error.unwrap_or_else(|| "could not be ejected".into())),
    }
}

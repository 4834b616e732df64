//! The engine's threads: named, and a panicked one failing its own target
//! alone.

use std::thread;

use crossbeam_channel::Sender;

use super::{FailureKind, FlashEvent, TargetFailure, TargetInfo, TargetOutcome};

/// The outcome of a target's thread. A thread that panicked (a bug) fails
/// its own target — announced like any failure — instead of taking the whole
/// run down: the other targets keep their results.
pub(super) fn target_outcome(
    joined: thread::Result<TargetOutcome>,
    index: usize,
    target: std::path::PathBuf,
    events: &Sender<FlashEvent>,
) -> TargetOutcome {
    match joined {
        Ok(outcome) => outcome,
        Err(panic) => {
            let what = format!("writing {}", target.display());
            let failure = internal_error(&what, &panic);
            let _ = events.send(FlashEvent::TargetDone {
                target: index,
                result: Err(failure.clone()),
                sha256: None,
                written_bytes: 0,
                verified_bytes: 0,
                matched_bytes: 0,
            });
            TargetOutcome {
                target,
                result: Err(failure),
                bytes_written: 0,
                written_bytes: 0,
                verified_bytes: 0,
                matched_bytes: 0,
                verified: false,
            }
        }
    }
}

/// The failure of `what` when its thread panicked.
pub(super) fn internal_error(what: &str, panic: &Box<dyn std::any::Any + Send>) -> TargetFailure {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_string());
    TargetFailure {
        kind: FailureKind::Write,
        offset: None,
        message: format!(
            "an internal error stopped {what} ({detail}); it is incomplete: flash it again, and please report this"
        ),
    }
}

/// Spawns a named thread in scope `s` (names show in debuggers and `top -H`).
pub(super) fn spawn_named<'scope, T: Send + 'scope>(
    s: &'scope thread::Scope<'scope, '_>,
    name: impl Into<String>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> thread::ScopedJoinHandle<'scope, T> {
    thread::Builder::new()
        .name(name.into())
        .spawn_scoped(s, f)
        .expect("spawning a thread")
}

/// `sdb` for `/dev/sdb`: for thread names.
pub(crate) fn short_name(info: &TargetInfo) -> String {
    info.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "target".to_string())
}

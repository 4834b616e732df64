//! Ctrl-C, SIGTERM and SIGHUP: one handler for the whole process.
//!
//! Before a run starts writing, a signal ends the process at once (exit 2:
//! nothing was written) — whatever it was waiting for, a FIFO with no writer
//! or a slow drive check. So does a signal after the run started while no
//! byte has reached any target yet (the engine waits for the image's first
//! bytes): `target::close_if_untouched` keeps any from going out after it,
//! and the message names the untouched drives. Once a byte is written, the
//! first signal cancels the run:
//! the engine stops every target, each gets its `target_done`, the run its
//! `done`, exit 1. A second signal ends the process there and then, for the
//! case the kernel keeps a writer in an I/O that cannot be interrupted.
//! `imprint verify` never writes: its messages say the verification was
//! interrupted and the drives are unchanged.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::json_lines;
use crate::protocol::{ErrorKind, WireEvent};
use crate::request::Exit;
use crate::source::ImageSource;
use crate::target;

/// What the handler acts on.
struct State {
    /// Set once the run may have written something.
    writing: bool,
    /// The run only reads the targets (`imprint verify`).
    verifying: bool,
    /// Signals received so far.
    signals: u32,
    json: bool,
    cancel: Arc<AtomicBool>,
    /// Images whose waiting reads a signal must interrupt.
    sources: Vec<ImageSource>,
    /// The run's targets, named when a signal leaves them untouched.
    targets: Vec<PathBuf>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Installs the handler (once per process) and returns the flag that
/// cancels the run. `json` makes a signal before the run an `error` event.
pub(super) fn install(json: bool) -> Arc<AtomicBool> {
    let mut state = lock();
    if let Some(state) = state.as_mut() {
        state.json = json;
        return state.cancel.clone();
    }
    let cancel = Arc::new(AtomicBool::new(false));
    *state = Some(State {
        writing: false,
        verifying: false,
        signals: 0,
        json,
        cancel: cancel.clone(),
        sources: Vec::new(),
        targets: Vec::new(),
    });
    drop(state);
    // Fails only when another handler exists (a test calling twice keeps
    // the first, which reads the same state).
    let _ = ctrlc::set_handler(on_signal);
    cancel
}

/// From now on a signal cancels the run instead of ending the process.
pub(super) fn started_writing() {
    if let Some(state) = lock().as_mut() {
        state.writing = true;
    }
}

/// From now on a signal stops a verification, which writes nothing.
pub(super) fn started_verifying() {
    if let Some(state) = lock().as_mut() {
        state.writing = true;
        state.verifying = true;
    }
}

/// The targets of a flash, which a signal before the first written byte
/// leaves untouched (exit 2, naming them).
pub(super) fn name_targets(targets: &[PathBuf]) {
    if let Some(state) = lock().as_mut() {
        state.targets = targets.to_vec();
    }
}

/// A signal also interrupts reads of `source` that wait for data.
pub(super) fn watch(source: &ImageSource) {
    if let Some(state) = lock().as_mut() {
        state.sources.push(source.clone());
    }
}

/// What a signal before the first written byte says.
fn untouched_message(targets: &[PathBuf]) -> String {
    let names: Vec<String> = targets.iter().map(|t| t.display().to_string()).collect();
    match names.len() {
        0 => "interrupted; nothing was written".to_string(),
        1 => format!(
            "interrupted; nothing was written; {} is untouched",
            names[0]
        ),
        _ => format!(
            "interrupted; nothing was written; {} are untouched",
            names.join(", ")
        ),
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<State>> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

fn on_signal() {
    let mut guard = lock();
    let Some(state) = guard.as_mut() else {
        std::process::exit(i32::from(Exit::Refused.code()));
    };
    state.signals += 1;
    // Only a flash names its targets: a verify writes nothing anyway, and
    // its interrupt is a cancelled check (exit 1), not a refusal.
    let untouched = !state.targets.is_empty() && target::close_if_untouched();
    if !state.writing || untouched {
        let message = untouched_message(&state.targets);
        if state.json {
            json_lines::emit(&WireEvent::error(ErrorKind::Cancelled, message.clone()));
        }
        eprintln!("\nimprint: {message}");
        std::process::exit(i32::from(Exit::Refused.code()));
    }
    if state.signals == 1 {
        state.cancel.store(true, Ordering::Relaxed);
        for source in &state.sources {
            source.interrupt();
        }
        if state.verifying {
            eprintln!(
                "\nimprint: stopping; verification was interrupted, the drives are unchanged (verify writes nothing)"
            );
        } else {
            eprintln!(
                "\nimprint: stopping; every target being written is left incomplete (interrupt again to quit at once)"
            );
        }
    } else if state.verifying {
        eprintln!("imprint: quitting now; verification was interrupted, the drives are unchanged");
        std::process::exit(i32::from(Exit::Failed.code()));
    } else {
        eprintln!(
            "imprint: quitting now; a drive may still be finishing a write the system cannot interrupt, \
             and every target being written is incomplete"
        );
        std::process::exit(i32::from(Exit::Failed.code()));
    }
}

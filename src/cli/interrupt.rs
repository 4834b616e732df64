//! Ctrl-C, SIGTERM and SIGHUP: one handler for the whole process.
//!
//! Before a run starts writing, a signal ends the process at once (exit 2:
//! nothing was written) — whatever it was waiting for, a FIFO with no writer
//! or a slow drive check. Once the run writes, the first signal cancels it:
//! the engine stops every target, each gets its `target_done`, the run its
//! `done`, exit 1. A second signal ends the process there and then, for the
//! case the kernel keeps a writer in an I/O that cannot be interrupted.
//! `imprint verify` never writes: its messages say the verification was
//! interrupted and the drives are unchanged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::json_lines;
use crate::protocol::{ErrorKind, WireEvent};
use crate::request::Exit;
use crate::source::ImageSource;

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
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Installs the handler (once per process) and returns the flag that
/// cancels the run. `json` makes a signal before the run an `error` event.
pub fn install(json: bool) -> Arc<AtomicBool> {
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
    });
    drop(state);
    // Fails only when another handler exists (a test calling twice keeps
    // the first, which reads the same state).
    let _ = ctrlc::set_handler(on_signal);
    cancel
}

/// From now on a signal cancels the run instead of ending the process.
pub fn started_writing() {
    if let Some(state) = lock().as_mut() {
        state.writing = true;
    }
}

/// From now on a signal stops a verification, which writes nothing.
pub fn started_verifying() {
    if let Some(state) = lock().as_mut() {
        state.writing = true;
        state.verifying = true;
    }
}

/// A signal also interrupts reads of `source` that wait for data.
pub fn watch(source: &ImageSource) {
    if let Some(state) = lock().as_mut() {
        state.sources.push(source.clone());
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
    if !state.writing {
        let message = "interrupted; nothing was written";
        if state.json {
            json_lines::emit(&WireEvent::error(ErrorKind::Cancelled, message));
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

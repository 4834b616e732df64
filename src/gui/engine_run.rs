//! A flash run inside this process: the engine on its own thread, its events
//! forwarded to the app by a second thread that wakes the UI for each one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::Sender;

use super::run_event::{Cancel, RunEvent, Running};
use crate::engine::{self, FlashEvent, FlashJob};

struct CancelFlag(Arc<AtomicBool>);

impl Cancel for CancelFlag {
    fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Starts `job` on a thread named `engine`; returns at once.
pub fn start(job: FlashJob, ctx: &egui::Context) -> Running {
    let (tx, rx) = crossbeam_channel::unbounded();
    let flag = Arc::new(AtomicBool::new(false));
    let cancel = Arc::clone(&flag);
    let ctx = ctx.clone();
    let spawned = std::thread::Builder::new()
        .name("engine".into())
        .spawn(move || run_engine(&job, &tx, &flag, &ctx));
    if let Err(e) = spawned {
        let (tx, failed) = crossbeam_channel::unbounded();
        let _ = tx.send(RunEvent::Failed(format!("cannot start the flash: {e}")));
        let _ = tx.send(RunEvent::Finished);
        return Running {
            events: failed,
            cancel: Box::new(CancelFlag(cancel)),
        };
    }
    Running {
        events: rx,
        cancel: Box::new(CancelFlag(cancel)),
    }
}

/// Runs the engine and forwards its events. If the engine panics, `tx` is
/// dropped without [`RunEvent::Finished`] and the app reports that.
fn run_engine(job: &FlashJob, tx: &Sender<RunEvent>, cancel: &AtomicBool, ctx: &egui::Context) {
    let (flash_tx, flash_rx) = crossbeam_channel::unbounded::<FlashEvent>();
    let forward_tx = tx.clone();
    let forward_ctx = ctx.clone();
    // The engine blocks, so a second thread forwards its events while it
    // runs: the UI then repaints exactly when something happened.
    let forwarder = std::thread::Builder::new()
        .name("engine-events".into())
        .spawn(move || {
            for event in flash_rx {
                if forward_tx.send(RunEvent::Flash(event)).is_err() {
                    return;
                }
                forward_ctx.request_repaint();
            }
        });
    let forwarder = match forwarder {
        Ok(handle) => handle,
        Err(e) => {
            let _ = tx.send(RunEvent::Failed(format!("cannot start the flash: {e}")));
            let _ = tx.send(RunEvent::Finished);
            ctx.request_repaint();
            return;
        }
    };
    let result = engine::flash(job, &flash_tx, cancel);
    drop(flash_tx);
    // Every engine event must reach the app before the end of the run.
    let _ = forwarder.join();
    if let Err(refusals) = result {
        let _ = tx.send(RunEvent::Refused(
            refusals.iter().map(ToString::to_string).collect(),
        ));
    }
    let _ = tx.send(RunEvent::Finished);
    ctx.request_repaint();
}

//! A flash run inside this process: the engine on its own thread
//! ([`request::spawn`]), its events forwarded to the app by a second thread
//! that wakes the UI for each one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::Sender;

use super::run_event::{Cancel, RunEvent, Running};
use crate::engine::FlashJob;
use crate::request::{self, Mode};
use crate::source::ImageSource;

struct CancelFlag(Arc<AtomicBool>, ImageSource);

impl Cancel for CancelFlag {
    fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
        // A reader waiting for a stalled download gives up at once, as
        // Ctrl-C makes it on the command line.
        self.1.interrupt();
    }
}

/// Starts `job`, ejecting each drive that succeeds when `eject`; returns at
/// once.
pub(super) fn start(job: FlashJob, eject: bool, ctx: &egui::Context) -> Running {
    let (tx, rx) = crossbeam_channel::unbounded();
    let flag = Arc::new(AtomicBool::new(false));
    let cancel = Box::new(CancelFlag(flag.clone(), job.source.clone()));
    let ctx = ctx.clone();
    let forward = {
        let tx = tx.clone();
        let ctx = ctx.clone();
        move || forward(job, eject, flag, &tx, &ctx)
    };
    if let Err(e) = std::thread::Builder::new()
        .name("engine-events".into())
        .spawn(forward)
    {
        fail(
            &tx,
            &ctx,
            &format!("The flash could not start: close other programs and try again.\n\n{e}"),
        );
    }
    Running { events: rx, cancel }
}

/// Runs the engine and forwards its events as they come, so the UI repaints
/// exactly when something happened; then how the run ended.
fn forward(
    job: FlashJob,
    eject: bool,
    cancel: Arc<AtomicBool>,
    tx: &Sender<RunEvent>,
    ctx: &egui::Context,
) {
    let targets = job.targets.clone();
    let run = match request::spawn(job, Mode::Flash, cancel) {
        Ok(run) if eject => run.ejecting(targets),
        Ok(run) => Ok(run),
        Err(e) => Err(e),
    };
    let run = match run {
        Ok(run) => run,
        Err(e) => {
            return fail(
                tx,
                ctx,
                &format!("The flash could not start: try again.\n\n{e}"),
            );
        }
    };
    for event in &run.events {
        if tx.send(RunEvent::Flash(event)).is_err() {
            return;
        }
        ctx.request_repaint();
    }
    // Every engine event has reached the app: the channel is closed.
    if let Err(refusals) = run.finish() {
        let _ = tx.send(RunEvent::Refused(
            refusals.iter().map(ToString::to_string).collect(),
        ));
    }
    let _ = tx.send(RunEvent::Finished);
    ctx.request_repaint();
}

fn fail(tx: &Sender<RunEvent>, ctx: &egui::Context, message: &str) {
    let _ = tx.send(RunEvent::Failed(message.to_string()));
    let _ = tx.send(RunEvent::Finished);
    ctx.request_repaint();
}

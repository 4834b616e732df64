//! The engine on its own thread: events on a channel, a flag to cancel.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;

use crossbeam_channel::Receiver;

use crate::engine::{self, FlashEvent, FlashJob, FlashReport, Refusal};
use crate::source::DownloadEvent;

/// What the run does to its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write, then read back and verify.
    Flash,
    /// Only compare (`imprint verify`).
    Verify,
}

/// A running job. Its events end with [`FlashEvent::Done`] unless the run
/// was refused; [`Run::finish`] then gives the report.
pub struct Run {
    pub events: Receiver<FlashEvent>,
    pub(super) handle: JoinHandle<Result<FlashReport, Vec<Refusal>>>,
}

impl Run {
    /// Waits for the engine to end. The events already sent stay readable.
    pub fn finish(self) -> Result<FlashReport, Vec<Refusal>> {
        self.handle.join().unwrap_or_else(|_| {
            // The engine catches failures per target; a panic here is a bug,
            // and the process must say so rather than report a result.
            panic!("the engine thread panicked")
        })
    }
}

/// Starts `job` on a thread named `engine`; setting `cancel` stops it within
/// a second.
pub fn spawn(job: FlashJob, mode: Mode, cancel: Arc<AtomicBool>) -> std::io::Result<Run> {
    let (tx, events) = crossbeam_channel::unbounded();
    // A download runs on its own thread, ahead of the engine: its progress
    // and retries join the run's events while the run lasts.
    if let Some(download) = job.source.download() {
        let tx = tx.clone();
        download.observe(Box::new(move |event| {
            let _ = tx.send(download_event(event));
        }));
    }
    let handle = std::thread::Builder::new()
        .name("engine".into())
        .spawn(move || {
            let result = match mode {
                Mode::Flash => engine::flash(&job, &tx, &cancel),
                Mode::Verify => engine::verify(&job, &tx, &cancel),
            };
            if let Some(download) = job.source.download() {
                download.unobserve();
            }
            result
        })?;
    Ok(Run { events, handle })
}

/// A download's event as an event of the run (`FlashEvent`'s `From`).
pub fn download_event(event: DownloadEvent) -> FlashEvent {
    event.into()
}

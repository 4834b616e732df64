//! Ejecting each drive as soon as it is written and verified (`--eject`,
//! the app's default): the run's events pass through one more thread, which
//! ejects every block device that succeeded and reports
//! [`FlashEvent::Ejected`] before the run's `Done`.

use std::path::PathBuf;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::Run;
use crate::engine::{Ejected, FlashEvent};
use crate::platform::{self, NodeKind};

impl Run {
    /// This run, with each of `targets` (the job's, in order) ejected once
    /// it succeeds. Files are not drives: they are left alone.
    pub fn ejecting(self, targets: Vec<PathBuf>) -> std::io::Result<Run> {
        let (tx, events) = crossbeam_channel::unbounded();
        let engine_events = self.events;
        std::thread::Builder::new()
            .name("eject".into())
            .spawn(move || forward(engine_events, tx, targets))?;
        Ok(Run {
            events,
            handle: self.handle,
        })
    }
}

fn forward(events: Receiver<FlashEvent>, out: Sender<FlashEvent>, targets: Vec<PathBuf>) {
    let mut ejecting: Vec<JoinHandle<()>> = Vec::new();
    for event in events {
        if let FlashEvent::TargetDone {
            target,
            result: Ok(()),
            ..
        } = &event
            && let Some(path) = targets.get(*target).filter(|p| is_block_device(p))
        {
            let (target, path, out) = (*target, path.clone(), out.clone());
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let spawned = std::thread::Builder::new()
                .name(format!("eject/{name}"))
                .spawn({
                    let (path, out) = (path.clone(), out.clone());
                    move || {
                        let result = eject(&path);
                        let _ = out.send(FlashEvent::Ejected { target, result });
                    }
                });
            match spawned {
                Ok(handle) => ejecting.push(handle),
                // Without a thread the drive is ejected here: slower, but
                // it is still flushed and reported.
                Err(_) => {
                    let _ = out.send(FlashEvent::Ejected {
                        target,
                        result: eject(&path),
                    });
                }
            }
        }
        if matches!(event, FlashEvent::Done { .. }) {
            // Every ejection is reported before the run's end.
            for handle in ejecting.drain(..) {
                let _ = handle.join();
            }
        }
        if out.send(event).is_err() {
            break;
        }
    }
}

fn is_block_device(path: &std::path::Path) -> bool {
    platform::path_kind(path) == Some(NodeKind::BlockDevice)
}

/// Ejects one drive (a block device) that was written and verified; the
/// error as a sentence for the user.
pub fn eject(path: &std::path::Path) -> Result<Ejected, String> {
    platform::eject(path).map_err(|e| {
        format!(
            "{} could not be flushed ({e}); wait a moment before removing it",
            path.display()
        )
    })
}

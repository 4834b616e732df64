//! Where the live drive list comes from: the machine's drives through
//! [`DriveWatcher`], or a channel a test (or a future station mode) fills.

use crossbeam_channel::{Receiver, Sender};

use crate::drives::{DEFAULT_POLL_INTERVAL, Drive, DriveWatcher};

/// One update of the drive list: every drive, or why listing failed.
pub(super) type DriveUpdate = Result<Vec<Drive>, String>;

/// The source of drive lists the app shows.
pub enum DriveFeed {
    /// The machine's drives, as [`DriveWatcher`] reports them.
    System,
    /// Lists sent by the caller, shown as they arrive.
    Channel(Receiver<DriveUpdate>),
}

impl DriveFeed {
    /// Starts the feed; `ctx` is woken whenever a new list arrives, so the
    /// app repaints only when the list changed.
    pub fn start(self, ctx: &egui::Context) -> Receiver<DriveUpdate> {
        match self {
            DriveFeed::Channel(rx) => rx,
            DriveFeed::System => {
                let (tx, rx) = crossbeam_channel::unbounded();
                if let Err(message) = watch_system_drives(tx.clone(), ctx) {
                    let _ = tx.send(Err(message));
                }
                rx
            }
        }
    }
}

/// Forwards the watcher's lists on a thread named `drive-feed`, waking the
/// UI for each. The thread owns the watcher: when the app drops its
/// receiver, the next send fails, the thread ends and the watcher stops.
fn watch_system_drives(tx: Sender<DriveUpdate>, ctx: &egui::Context) -> Result<(), String> {
    let (watcher, lists) = DriveWatcher::start(DEFAULT_POLL_INTERVAL)
        .map_err(|e| format!("Cannot list drives: {e}"))?;
    let ctx = ctx.clone();
    std::thread::Builder::new()
        .name("drive-feed".into())
        .spawn(move || {
            let _watcher = watcher;
            for drives in lists {
                if tx.send(Ok(drives)).is_err() {
                    return;
                }
                ctx.request_repaint();
            }
        })
        .map(drop)
        .map_err(|e| format!("Cannot watch drives: {e}"))
}

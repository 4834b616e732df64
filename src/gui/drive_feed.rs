//! Where the live drive list comes from: the machine's drives, polled on a
//! background thread, or a channel a test (or a future station mode) fills.

use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::drives::{self, Drive};

/// One update of the drive list: every drive, or why listing failed.
pub type DriveUpdate = Result<Vec<Drive>, String>;

/// The source of drive lists the app shows.
pub enum DriveFeed {
    /// The machine's drives ([`drives::list`]), re-read about every second.
    System,
    /// Lists sent by the caller, shown as they arrive.
    Channel(Receiver<DriveUpdate>),
}

/// How often the system drive list is re-read: hot-plugged cards should
/// appear within about a second, and one sysfs walk per tick costs nothing
/// measurable.
const POLL_INTERVAL: Duration = Duration::from_millis(1000);

impl DriveFeed {
    /// Starts the feed; `ctx` is woken whenever a new list arrives, so the
    /// app repaints only when the list changed.
    pub fn start(self, ctx: &egui::Context) -> Receiver<DriveUpdate> {
        match self {
            DriveFeed::Channel(rx) => rx,
            DriveFeed::System => {
                let (tx, rx) = crossbeam_channel::bounded(1);
                let ctx = ctx.clone();
                let spawned = std::thread::Builder::new()
                    .name("drive-poll".into())
                    .spawn(move || poll_drives(&tx, &ctx));
                if let Err(e) = spawned {
                    let (tx, rx) = crossbeam_channel::bounded(1);
                    let _ = tx.send(Err(format!("cannot watch drives: {e}")));
                    return rx;
                }
                rx
            }
        }
    }
}

/// Sends the drive list whenever it differs from the last one sent; ends
/// when the app drops the receiver.
fn poll_drives(tx: &Sender<DriveUpdate>, ctx: &egui::Context) {
    let mut last: Option<DriveUpdate> = None;
    loop {
        let update = drives::list().map_err(|e| format!("cannot list drives: {e}"));
        if last.as_ref() != Some(&update) {
            if tx.send(update.clone()).is_err() {
                return;
            }
            ctx.request_repaint();
            last = Some(update);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

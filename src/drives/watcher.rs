//! A watcher that reports drives arriving and leaving (and partitions being
//! mounted or unmounted), for the desktop app and a flashing station.
//!
//! A named thread compares a cheap snapshot of the machine every interval —
//! the names, sizes and read-only flags of the block devices plus the mount
//! and swap tables, a few dozen small reads — and lists the drives again only
//! when the snapshot changed. Polling sysfs needs no udev and no privileges,
//! and at ~500 ms it reports a card within a second while staying asleep in
//! between.

use std::io;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::{Drive, list};

/// A good interval for people: a drive shows up within about half a second.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Runs until dropped; the receiver given by [`DriveWatcher::start`] gets
/// the full drive list whenever it changes.
pub struct DriveWatcher {
    /// Dropping the sender wakes the thread at once and tells it to stop.
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DriveWatcher {
    /// Lists the drives now (an error here means drives cannot be listed on
    /// this machine at all), sends that list, then starts the `drive-watcher`
    /// thread that sends a new list after every change. Transient errors
    /// while watching (a device vanishing mid-read) are retried at the next
    /// poll.
    pub fn start(poll_interval: Duration) -> io::Result<(DriveWatcher, Receiver<Vec<Drive>>)> {
        let (drives_tx, drives_rx) = crossbeam_channel::unbounded();
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let mut snapshot = crate::platform::block_snapshot()?;
        let mut last_sent = list()?;
        // The receiver is still in our hands, so this cannot fail.
        let _ = drives_tx.send(last_sent.clone());
        let thread = thread::Builder::new()
            .name("drive-watcher".into())
            .spawn(move || {
                loop {
                    match stop_rx.recv_timeout(poll_interval) {
                        Err(RecvTimeoutError::Timeout) => {}
                        // Disconnected: the watcher was dropped.
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let Ok(now) = crate::platform::block_snapshot() else {
                        continue;
                    };
                    if now == snapshot {
                        continue;
                    }
                    let Ok(drives) = list() else {
                        // Keep the old snapshot so the next poll lists again.
                        continue;
                    };
                    snapshot = now;
                    if drives != last_sent {
                        if drives_tx.send(drives.clone()).is_err() {
                            return; // Nobody listens any more.
                        }
                        last_sent = drives;
                    }
                }
            })?;
        Ok((
            DriveWatcher {
                stop: Some(stop_tx),
                thread: Some(thread),
            },
            drives_rx,
        ))
    }
}

impl Drop for DriveWatcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and reads sysfs; a panic there has
            // nothing to clean up, so it is not re-raised in a destructor.
            let _ = thread.join();
        }
    }
}

//! A consumer's place in the spool: the chunks it reads, from memory or
//! the backing, at its own pace.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};

use super::{FailureKind, Message, POLL, Spool, TargetFailure};

/// One consumer's place in the spool. Dropping it (a target that failed or
/// ended) lets the spool free what only it still needed.
pub(crate) struct Cursor {
    pub(super) spool: Arc<Spool>,
    pub(super) id: usize,
    pub(super) at: usize,
}

impl Cursor {
    /// The next chunk, the end of the image, or why it stopped. Waits for
    /// the reader; gives up when `cancel` is set.
    pub(crate) fn next(&mut self, cancel: &AtomicBool) -> Message {
        let spool = self.spool.clone();
        let mut state = spool.lock();
        loop {
            if let Some(entry) = state.entries.get(self.at - state.first) {
                let chunk = match &entry.memory {
                    Some(chunk) => chunk.clone(),
                    None => {
                        // Our cursor keeps the entry (and its part of the
                        // cache file) until we move on.
                        let (offset, len, used) = (entry.offset, entry.len, entry.used.clone());
                        drop(state);
                        match spool.reload(offset, len, used) {
                            Ok(chunk) => {
                                state = spool.lock();
                                Arc::new(chunk)
                            }
                            Err(e) => {
                                return Message::Failed(TargetFailure {
                                    kind: FailureKind::Source,
                                    offset: Some(offset),
                                    message: format!(
                                        "reading byte {offset} of the image again (this drive fell behind the others) failed: {e}"
                                    ),
                                });
                            }
                        }
                    }
                };
                self.at += 1;
                state.cursors[self.id].at = Some(self.at);
                spool.trim(&mut state);
                drop(state);
                spool.changed.notify_all();
                return Message::Chunk(chunk);
            }
            match &state.end {
                Some(Ok(image_bytes)) => {
                    return Message::End {
                        image_bytes: *image_bytes,
                    };
                }
                Some(Err(failure)) => return Message::Failed(failure.clone()),
                None => {}
            }
            if cancel.load(Ordering::Relaxed) {
                let offset = state.entries.back().map_or(0, |e| e.offset + e.len as u64);
                return Message::Failed(cancelled(offset));
            }
            state = spool
                .changed
                .wait_timeout(state, POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl Drop for Cursor {
    fn drop(&mut self) {
        let mut state = self.spool.lock();
        state.cursors[self.id].at = None;
        self.spool.trim(&mut state);
        drop(state);
        self.spool.changed.notify_all();
    }
}

pub(super) fn cancelled(offset: u64) -> TargetFailure {
    TargetFailure {
        kind: FailureKind::Cancelled,
        offset: Some(offset),
        message: format!(
            "cancelled after {offset} bytes; the target is incomplete and will not boot, flash it again"
        ),
    }
}

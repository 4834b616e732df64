//! The reader thread: the used ranges of the source, in order, in pieces
//! of at most [`PIECE`] bytes read with O_DIRECT, handed to the writer
//! through a short queue so that reading never waits for compression
//! unless the queue is full.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, bounded};

use super::source::Source;
use crate::target::AlignedBuf;

/// The largest single read: 4 MiB, as the engine's chunks.
pub(crate) const PIECE: u64 = 4 << 20;
/// Pieces read ahead of the writer (64 MiB).
const QUEUE: usize = 16;

/// `len` bytes of the source at `offset`, in `buf`.
pub(crate) struct Piece {
    pub(crate) offset: u64,
    pub(crate) buf: AlignedBuf,
    pub(crate) len: usize,
}

/// A read that failed, and where.
pub(crate) struct ReadFailure {
    pub(crate) offset: u64,
    pub(crate) cause: std::io::Error,
}

/// The queue of pieces read, or the failure that ended it.
pub(crate) type Pieces = Receiver<Result<Piece, ReadFailure>>;

/// Starts reading `used` from `source`; the queue ends after the last
/// piece, after a failure (its last item), or when `cancel` is set.
pub(crate) fn spawn(
    source: Arc<Source>,
    used: Vec<Range<u64>>,
    cancel: Arc<AtomicBool>,
) -> std::io::Result<(Pieces, JoinHandle<()>)> {
    let (send, receive) = bounded(QUEUE);
    let handle = std::thread::Builder::new()
        .name("backup-read".into())
        .spawn(move || {
            for range in used {
                let mut at = range.start;
                while at < range.end {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let len = (range.end - at).min(PIECE) as usize;
                    let mut buf = AlignedBuf::zeroed(len.next_multiple_of(4096));
                    let item = match source.read_into(at, &mut buf, len) {
                        Ok(()) => Ok(Piece {
                            offset: at,
                            buf,
                            len,
                        }),
                        Err(cause) => Err(ReadFailure { offset: at, cause }),
                    };
                    let failed = item.is_err();
                    if send.send(item).is_err() || failed {
                        return;
                    }
                    at += len as u64;
                }
            }
        })?;
    Ok((receive, handle))
}

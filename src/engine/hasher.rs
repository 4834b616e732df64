//! The two hashing consumers of the spool, each on its own thread so they
//! overlap with decompression and writing: the SHA-256 of the whole image,
//! and a digest per used range that every target's verification compares
//! its read-back with. Both publish into cells any number of targets read,
//! so a target that joins late finds everything from the first byte. Both
//! stop at once when the run is cancelled.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::chunk::{ChunkDigest, Message, digest_of};
use super::spool::Cursor;

/// How often a waiting reader of a cell looks at the cancel flag.
const POLL: Duration = Duration::from_millis(100);

/// Hashes the whole image into `cell`: `None` when it could not be read to
/// its end.
pub(super) fn hash_image(
    mut chunks: Cursor,
    cell: &ShaCell,
    cancel: &AtomicBool,
) -> Option<[u8; 32]> {
    // A panic here must not leave the targets waiting for the hash.
    struct Unset<'a>(&'a ShaCell);
    impl Drop for Unset<'_> {
        fn drop(&mut self) {
            self.0.set_if_unset(None);
        }
    }
    let _unset = Unset(cell);
    let mut hasher = Sha256::new();
    let mut result = None;
    loop {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        match chunks.next(cancel) {
            Message::Chunk(chunk) => hasher.update(chunk.bytes()),
            Message::End { .. } => {
                result = Some(hasher.finalize().into());
                break;
            }
            Message::Failed(_) => break,
        }
    }
    cell.set(result);
    result
}

/// Digests every used range of every chunk into `digests`, in order (every
/// target verifies the same ranges).
pub(super) fn digest_chunks(mut chunks: Cursor, digests: &Digests, cancel: &AtomicBool) {
    // However this ends (a panic included), verifiers must not wait for
    // ever: a closed list makes them fail.
    struct Close<'a>(&'a Digests);
    impl Drop for Close<'_> {
        fn drop(&mut self) {
            self.0.close();
        }
    }
    let _close = Close(digests);
    loop {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let Message::Chunk(chunk) = chunks.next(cancel) else {
            break;
        };
        let list: Vec<_> = chunk
            .used
            .iter()
            .map(|range| digest_of(chunk.bytes_of(range)))
            .collect();
        drop(chunk);
        digests.extend(list);
    }
}

/// The image's SHA-256, once known; targets wait for it.
#[derive(Default)]
pub(super) struct ShaCell {
    value: Mutex<Option<Option<[u8; 32]>>>,
    set: Condvar,
}

impl ShaCell {
    pub(super) fn set(&self, sha: Option<[u8; 32]>) {
        *self.value.lock().unwrap_or_else(PoisonError::into_inner) = Some(sha);
        self.set.notify_all();
    }

    fn set_if_unset(&self, sha: Option<[u8; 32]>) {
        self.value
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(sha);
        self.set.notify_all();
    }

    /// Waits for the hash; `None` when the image could not be hashed (or the
    /// run was cancelled).
    pub(super) fn wait(&self, cancel: &AtomicBool) -> Option<[u8; 32]> {
        let mut value = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(sha) = *value {
                return sha;
            }
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            value = self
                .set
                .wait_timeout(value, POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The digests of the image's used ranges, in order, as they are made: a
/// few bytes each, kept for the run's life.
#[derive(Default)]
pub(super) struct Digests {
    state: Mutex<DigestList>,
    grew: Condvar,
}

#[derive(Default)]
struct DigestList {
    list: Vec<ChunkDigest>,
    closed: bool,
}

impl Digests {
    fn lock(&self) -> MutexGuard<'_, DigestList> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn extend(&self, digests: impl IntoIterator<Item = ChunkDigest>) {
        self.lock().list.extend(digests);
        self.grew.notify_all();
    }

    /// No digest will follow.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.grew.notify_all();
    }

    /// A reader of the digests from the first.
    pub(super) fn reader(self: &Arc<Self>) -> DigestReader {
        DigestReader {
            digests: self.clone(),
            next: 0,
        }
    }
}

/// One target's place in the digests.
pub(super) struct DigestReader {
    digests: Arc<Digests>,
    next: usize,
}

impl DigestReader {
    /// The next digest; `None` when there is none (the image stopped, or the
    /// run was cancelled).
    pub(super) fn next(&mut self, cancel: &AtomicBool) -> Option<ChunkDigest> {
        let mut state = self.digests.lock();
        loop {
            if let Some(&digest) = state.list.get(self.next) {
                self.next += 1;
                return Some(digest);
            }
            if state.closed || cancel.load(Ordering::Relaxed) {
                return None;
            }
            state = self
                .digests
                .grew
                .wait_timeout(state, POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

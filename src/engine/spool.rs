//! The spool: the decoded image, produced once by the reader and read by
//! every consumer (each target, the hashers) at its own pace.
//!
//! Chunks stay in memory up to a budget ([`config::MEMORY_BUDGET`] by default) while
//! some consumer still needs them. A target that falls further behind than
//! that reads the chunks it missed from a *backing*: the image file itself
//! when it is raw (`pread` on the one open handle; the page cache is shared),
//! else one sparse cache file, unlinked as soon as it is created so that it
//! is gone however the run ends. Without a backing (no cache directory, or
//! the cache file failed), the reader waits for the slowest target, as a
//! fixed pool of buffers did before.
//!
//! The reader decodes at most a few chunks ahead of the fastest target, so
//! memory holds the distance between the fastest and the slowest: a single
//! target, or targets of one speed, need little of it and never spill.
//! Chunks leave memory, oldest first, only when that distance exceeds the
//! budget.
//!
//! With `retain_all`, every chunk is kept for the spool's life (in memory or
//! in the backing), so that a target can join late and still read the image
//! from its first byte (the station: drives inserted one after another
//! share one decode).

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::chunk::{CHUNK_BYTES, Chunk, Message, is_all_zero};
use super::{FailureKind, TargetFailure};
use crate::platform;
use crate::source::ImageSource;
use crate::target::AlignedBuf;

/// How far the reader decodes ahead of the fastest target: enough to keep
/// it busy, no more (memory is for the distance between targets, not for
/// reading ahead of all of them).
const READ_AHEAD_CHUNKS: usize = 4;
/// How far the hashers may fall behind the reader (they only ever wait for
/// a CPU, never for a drive).
const HASHER_LAG_CHUNKS: usize = 8;

/// How often a waiting reader or consumer looks at the cancel flag.
const POLL: Duration = Duration::from_millis(100);

/// Spare buffers kept for the reader: enough to recycle, few enough not to
/// count.
const SPARE_BUFFERS: usize = 4;

#[path = "spool_backing.rs"]
mod backing;
#[path = "spool_config.rs"]
mod config;
#[path = "spool_cursor.rs"]
mod cursor;
#[path = "spool_file.rs"]
mod file;

pub(crate) use config::{SpoolConfig, free_bytes};
pub(crate) use cursor::Cursor;
use cursor::cancelled;
use file::{read_filling_holes, store};

/// The decoded image, shared by its consumers.
pub(crate) struct Spool {
    state: Mutex<State>,
    changed: Condvar,
    memory_bytes: usize,
    retain_all: bool,
    backing: Backing,
    spare: (Sender<AlignedBuf>, Receiver<AlignedBuf>),
}

/// Where evicted chunks are read again from.
enum Backing {
    /// A raw image: its own file.
    Source(ImageSource),
    /// The cache file in `dir`, created at the first eviction.
    Cache {
        dir: PathBuf,
    },
    None,
}

struct State {
    /// The index of `entries[0]` in the image's chunks.
    first: usize,
    entries: VecDeque<Entry>,
    /// Bytes of the entries held in memory.
    in_memory: usize,
    /// Set when the reader is done: the image length, or why it stopped.
    end: Option<Result<u64, TargetFailure>>,
    cursors: Vec<CursorState>,
    /// The cache file, once created. It stays open when storing fails:
    /// the chunks it holds are still read back from it.
    cache: Option<Arc<File>>,
    /// Why the cache file cannot take more chunks (it could not be made,
    /// or its disk filled up): the reader then waits for the slowest
    /// target instead of evicting.
    cache_failed: Option<String>,
    stats: SpoolStats,
}

struct Entry {
    offset: u64,
    len: usize,
    used: Vec<Range<u64>>,
    memory: Option<Arc<Chunk>>,
    /// Whether the backing holds this chunk's bytes.
    stored: bool,
}

#[derive(Clone, Copy)]
struct CursorState {
    /// The next chunk this consumer needs; `None` once it left.
    at: Option<usize>,
    /// A target, whose pace matters (not a hasher).
    required: bool,
}

/// What a spool did, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SpoolStats {
    /// Chunks written to the cache file.
    pub chunks_spilled: usize,
    /// Chunks read back from the backing by a consumer that fell behind.
    pub chunks_reloaded: usize,
    /// The most bytes held in memory at once.
    pub peak_memory_bytes: usize,
}

impl Spool {
    /// A spool of `source`'s image.
    pub(crate) fn new(config: &SpoolConfig, source: &ImageSource) -> Arc<Spool> {
        let backing = if source.is_positional() {
            Backing::Source(source.clone())
        } else if let Some(dir) = &config.cache_dir {
            Backing::Cache { dir: dir.clone() }
        } else {
            Backing::None
        };
        Arc::new(Spool {
            state: Mutex::new(State {
                first: 0,
                entries: VecDeque::new(),
                in_memory: 0,
                end: None,
                cursors: Vec::new(),
                cache: None,
                cache_failed: None,
                stats: SpoolStats::default(),
            }),
            changed: Condvar::new(),
            memory_bytes: config.memory_bytes,
            retain_all: config.retain_all,
            backing,
            spare: crossbeam_channel::bounded(SPARE_BUFFERS),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the spool may need a cache file for an image of `size_hint`
    /// bytes (`None`: unknown): not for a raw image, nor one that fits in
    /// memory.
    pub(crate) fn may_need_cache(&self, size_hint: Option<u64>) -> bool {
        matches!(self.backing, Backing::Cache { .. })
            && size_hint.is_none_or(|size| size > self.memory_bytes as u64)
    }

    /// A consumer reading the image from its first byte; `required` for a
    /// target. `None` when that first byte is gone (a spool that does not
    /// retain every chunk, joined after its start was dropped).
    pub(crate) fn join(self: &Arc<Self>, required: bool) -> Option<Cursor> {
        let mut state = self.lock();
        if state.first > 0 {
            return None;
        }
        let id = state.cursors.len();
        state.cursors.push(CursorState {
            at: Some(0),
            required,
        });
        Some(Cursor {
            spool: self.clone(),
            id,
            at: 0,
        })
    }

    /// Whether the image is still wanted: a target still reads it, or
    /// targets may yet join.
    pub(crate) fn wanted(&self) -> bool {
        self.retain_all
            || self
                .lock()
                .cursors
                .iter()
                .any(|c| c.required && c.at.is_some())
    }

    #[cfg(test)]
    pub(crate) fn stats(&self) -> SpoolStats {
        self.lock().stats
    }

    /// A buffer for the reader's next chunk.
    pub(crate) fn buffer(&self) -> AlignedBuf {
        self.spare
            .1
            .try_recv()
            .unwrap_or_else(|_| AlignedBuf::zeroed(CHUNK_BYTES))
    }

    /// Where a chunk's buffer goes when it is dropped.
    pub(crate) fn home(&self) -> Sender<AlignedBuf> {
        self.spare.0.clone()
    }

    /// Adds the reader's next chunk. Waits while memory is full and no
    /// target is waiting for it (or nothing can be evicted); fails when
    /// cancelled, or when a spool that retains every chunk cannot keep it.
    pub(crate) fn push(&self, chunk: Chunk, cancel: &AtomicBool) -> Result<(), TargetFailure> {
        let mut state = self.lock();
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(cancelled(chunk.offset));
            }
            // A spool that keeps every chunk reads on whoever is there;
            // else the reader waits once it is far enough ahead of every
            // target.
            let next = state.first + state.entries.len();
            // (With no target left there is no one to wait for: the reader
            // then stops, `wanted` says.)
            let fastest = state
                .cursors
                .iter()
                .filter(|c| c.required)
                .filter_map(|c| c.at)
                .max();
            // The hashers are never a slow drive, only a busy CPU: letting
            // them lag would fill memory with chunks every target has
            // written already.
            let slowest_hasher = state
                .cursors
                .iter()
                .filter(|c| !c.required)
                .filter_map(|c| c.at)
                .min();
            let far_enough = !self.retain_all
                && (fastest.is_some_and(|at| next >= at + READ_AHEAD_CHUNKS)
                    || slowest_hasher.is_some_and(|at| next >= at + HASHER_LAG_CHUNKS));
            if !far_enough {
                if state.in_memory == 0 || state.in_memory + chunk.len <= self.memory_bytes {
                    break;
                }
                // Memory is full because a target lags the fastest by the
                // whole budget: the oldest chunk goes to the backing.
                if let Some(victim) = self.evictable(&state) {
                    state = self.evict(state, victim)?;
                    continue;
                }
                if self.retain_all {
                    return Err(self.cannot_keep(&state, chunk.offset));
                }
            }
            state = self
                .changed
                .wait_timeout(state, POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.in_memory += chunk.len;
        state.stats.peak_memory_bytes = state.stats.peak_memory_bytes.max(state.in_memory);
        state.entries.push_back(Entry {
            offset: chunk.offset,
            len: chunk.len,
            used: chunk.used.clone(),
            memory: Some(Arc::new(chunk)),
            stored: matches!(self.backing, Backing::Source(_)),
        });
        drop(state);
        self.changed.notify_all();
        Ok(())
    }

    /// The reader is done: `result` is the image's length or why it stopped.
    pub(crate) fn finish(&self, result: Result<u64, TargetFailure>) {
        let mut state = self.lock();
        if state.end.is_none() {
            state.end = Some(result);
        }
        drop(state);
        self.changed.notify_all();
    }

    /// Drops the entries no consumer needs any more (unless every chunk is
    /// retained), freeing their memory and their part of the cache file.
    fn trim(&self, state: &mut State) {
        if self.retain_all {
            return;
        }
        let needed = state
            .cursors
            .iter()
            .filter_map(|c| c.at)
            .min()
            .unwrap_or(usize::MAX);
        while state.first < needed {
            let Some(entry) = state.entries.pop_front() else {
                break;
            };
            state.first += 1;
            if entry.memory.is_some() {
                state.in_memory -= entry.len;
            }
            if entry.stored
                && let Some(file) = &state.cache
            {
                // Best effort: a filesystem without holes keeps the
                // blocks until the run ends.
                platform::release_range(file, entry.offset, entry.len as u64);
            }
        }
    }
}

#[cfg(test)]
#[path = "spool_tests.rs"]
mod tests;

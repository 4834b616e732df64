//! The spool: the decoded image, produced once by the reader and read by
//! every consumer (each target, the hashers) at its own pace.
//!
//! Chunks stay in memory up to a budget ([`MEMORY_BUDGET`] by default) while
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
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::chunk::{CHUNK_BYTES, Chunk, Message, is_all_zero};
use super::{FailureKind, TargetFailure};
use crate::platform;
use crate::source::ImageSource;
use crate::target::AlignedBuf;

/// Bytes of decoded image held in memory at most (docs/architecture.md §11).
pub const MEMORY_BUDGET: usize = 256 << 20;

/// Memory each target needs besides the spool (a buffer to read a chunk it
/// missed, and its verifier's): taken from the budget so that the whole
/// run stays within it whatever the number of targets.
pub const PER_TARGET_BYTES: usize = 2 * CHUNK_BYTES;

/// The spool never holds less than this in memory, however many targets.
const MIN_MEMORY_BYTES: usize = 16 * CHUNK_BYTES;

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

/// The cache-file block: all-zero blocks are left as holes.
const BLOCK: usize = 4096;

/// How a spool keeps the image.
#[derive(Debug, Clone)]
pub struct SpoolConfig {
    /// Bytes of chunks held in memory.
    pub memory_bytes: usize,
    /// Where the cache file goes when memory is not enough and the image is
    /// not a raw file; `None`: no cache file, the reader waits instead.
    pub cache_dir: Option<PathBuf>,
    /// Keep every chunk for the spool's life, so that targets may join late.
    pub retain_all: bool,
}

impl SpoolConfig {
    /// The configuration of a run of `targets` targets: the budget less
    /// what the targets need themselves, and the user's cache directory.
    pub fn for_targets(targets: usize) -> SpoolConfig {
        SpoolConfig {
            memory_bytes: memory_for(targets),
            cache_dir: Some(cache_dir()),
            retain_all: false,
        }
    }
}

/// The spool's memory for a run of `targets` targets.
pub fn memory_for(targets: usize) -> usize {
    MEMORY_BUDGET
        .saturating_sub(targets * PER_TARGET_BYTES)
        .max(MIN_MEMORY_BYTES)
}

/// Where the cache file goes: `$XDG_CACHE_HOME/imprint` or
/// `~/.cache/imprint`; as root (whose home may be small, or not be the
/// user's) `/var/cache/imprint`, else the temporary directory.
pub fn cache_dir() -> PathBuf {
    // Nothing is created here: the directory is made with the cache file,
    // which most runs never need.
    if platform::is_administrator() {
        let var = Path::new("/var/cache");
        return if var.is_dir() {
            var.join("imprint")
        } else {
            std::env::temp_dir()
        };
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    match base {
        Some(base) => base.join("imprint"),
        None => std::env::temp_dir(),
    }
}

/// Bytes free for an unprivileged writer in the filesystem that holds, or
/// will hold, `dir`.
pub fn free_bytes(dir: &Path) -> io::Result<u64> {
    let dir = dir
        .ancestors()
        .find(|d| d.is_dir())
        .ok_or_else(|| io::Error::other("no such directory"))?;
    platform::free_space_bytes(dir)
}

/// The decoded image, shared by its consumers.
pub struct Spool {
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
pub struct SpoolStats {
    /// Chunks written to the cache file.
    pub chunks_spilled: usize,
    /// Chunks read back from the backing by a consumer that fell behind.
    pub chunks_reloaded: usize,
    /// The most bytes held in memory at once.
    pub peak_memory_bytes: usize,
}

impl Spool {
    /// A spool of `source`'s image.
    pub fn new(config: &SpoolConfig, source: &ImageSource) -> Arc<Spool> {
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
    pub fn may_need_cache(&self, size_hint: Option<u64>) -> bool {
        matches!(self.backing, Backing::Cache { .. })
            && size_hint.is_none_or(|size| size > self.memory_bytes as u64)
    }

    /// A consumer reading the image from its first byte; `required` for a
    /// target. `None` when that first byte is gone (a spool that does not
    /// retain every chunk, joined after its start was dropped).
    pub fn join(self: &Arc<Self>, required: bool) -> Option<Cursor> {
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
    pub fn wanted(&self) -> bool {
        self.retain_all
            || self
                .lock()
                .cursors
                .iter()
                .any(|c| c.required && c.at.is_some())
    }

    pub fn stats(&self) -> SpoolStats {
        self.lock().stats
    }

    /// A buffer for the reader's next chunk.
    pub fn buffer(&self) -> AlignedBuf {
        self.spare
            .1
            .try_recv()
            .unwrap_or_else(|_| AlignedBuf::zeroed(CHUNK_BYTES))
    }

    /// Where a chunk's buffer goes when it is dropped.
    pub fn home(&self) -> Sender<AlignedBuf> {
        self.spare.0.clone()
    }

    /// Adds the reader's next chunk. Waits while memory is full and no
    /// target is waiting for it (or nothing can be evicted); fails when
    /// cancelled, or when a spool that retains every chunk cannot keep it.
    pub fn push(&self, chunk: Chunk, cancel: &AtomicBool) -> Result<(), TargetFailure> {
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

    /// The oldest chunk in memory that may leave it: one the backing holds
    /// or can hold.
    fn evictable(&self, state: &State) -> Option<usize> {
        let can_store = match &self.backing {
            Backing::Source(_) => true,
            Backing::Cache { .. } => state.cache_failed.is_none(),
            Backing::None => false,
        };
        state
            .entries
            .iter()
            .position(|e| e.memory.is_some() && (e.stored || can_store))
    }

    /// Moves entry `victim` (a position in `entries`) out of memory, writing
    /// it to the cache file first if need be (without the lock: consumers
    /// go on meanwhile, reading it from memory).
    fn evict<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        victim: usize,
    ) -> Result<MutexGuard<'a, State>, TargetFailure> {
        let index = state.first + victim;
        let entry = &state.entries[victim];
        if !entry.stored {
            let chunk = entry
                .memory
                .clone()
                .expect("an evictable entry is in memory");
            let file = match (&state.cache, &state.cache_failed) {
                (_, Some(e)) => Err(e.clone()),
                (Some(file), None) => Ok(file.clone()),
                (None, None) => self.create_cache(),
            };
            drop(state);
            let stored = file.and_then(|file| {
                store(&file, &chunk)
                    .map(|()| file)
                    .map_err(|e| format!("writing the cache file failed: {e}"))
            });
            drop(chunk);
            state = self.lock();
            match stored {
                Ok(file) => {
                    state.cache = Some(file);
                    state.stats.chunks_spilled += 1;
                }
                Err(e) => {
                    // Only this chunk failed to be stored: it stays in
                    // memory, and what the file holds stays readable.
                    state.cache_failed = Some(e);
                    return Ok(state);
                }
            }
        }
        // Consumers may have moved on, dropping entries, meanwhile.
        let first = state.first;
        if index >= first
            && let Some(entry) = state.entries.get_mut(index - first)
        {
            entry.stored = true;
            let freed = entry.memory.take().map_or(0, |_| entry.len);
            state.in_memory -= freed;
        }
        Ok(state)
    }

    /// Creates the cache file, unlinked at once: nothing is left behind
    /// whatever happens to the run (a panic, a kill).
    fn create_cache(&self) -> Result<Arc<File>, String> {
        let Backing::Cache { dir } = &self.backing else {
            return Err("no cache directory".to_string());
        };
        let created = std::fs::create_dir_all(dir).and_then(|()| platform::nameless_file_in(dir));
        created
            .map(Arc::new)
            .map_err(|e| format!("cannot create a cache file in {}: {e}", dir.display()))
    }

    fn cannot_keep(&self, state: &State, offset: u64) -> TargetFailure {
        let why = state
            .cache_failed
            .clone()
            .unwrap_or_else(|| "no cache file can be made".to_string());
        TargetFailure {
            kind: FailureKind::Source,
            offset: Some(offset),
            message: format!(
                "the decoded image cannot be kept for drives still to come: {why}; free space in {} or flash fewer drives at once",
                match &self.backing {
                    Backing::Cache { dir } => dir.display().to_string(),
                    _ => "the cache directory".to_string(),
                }
            ),
        }
    }

    /// The reader is done: `result` is the image's length or why it stopped.
    pub fn finish(&self, result: Result<u64, TargetFailure>) {
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

    /// Reads a chunk that left memory again from the backing.
    fn reload(&self, offset: u64, len: usize, used: Vec<Range<u64>>) -> io::Result<Chunk> {
        let mut buf = AlignedBuf::zeroed(len.max(1));
        match &self.backing {
            Backing::Source(source) => source.read_at(offset, &mut buf[..len])?,
            Backing::Cache { .. } => {
                let file = match &self.lock().cache {
                    Some(file) => file.clone(),
                    None => return Err(io::Error::other("the cache file is gone")),
                };
                read_filling_holes(&file, offset, &mut buf[..len])?;
            }
            Backing::None => return Err(io::Error::other("nothing holds that chunk")),
        }
        self.lock().stats.chunks_reloaded += 1;
        let mut chunk = Chunk::new(offset, len, buf, None);
        chunk.used = used;
        Ok(chunk)
    }
}

/// One consumer's place in the spool. Dropping it (a target that failed or
/// ended) lets the spool free what only it still needed.
pub struct Cursor {
    spool: Arc<Spool>,
    id: usize,
    at: usize,
}

impl Cursor {
    /// The next chunk, the end of the image, or why it stopped. Waits for
    /// the reader; gives up when `cancel` is set.
    pub fn next(&mut self, cancel: &AtomicBool) -> Message {
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

fn cancelled(offset: u64) -> TargetFailure {
    TargetFailure {
        kind: FailureKind::Cancelled,
        offset: Some(offset),
        message: format!(
            "cancelled after {offset} bytes; the target is incomplete and will not boot, flash it again"
        ),
    }
}

/// Writes the non-zero blocks of `chunk` at its offset in the cache file:
/// zeros stay holes.
fn store(file: &File, chunk: &Chunk) -> io::Result<()> {
    let bytes = chunk.bytes();
    let mut at = 0;
    while at < bytes.len() {
        // A run of non-zero blocks, written at once.
        let start = at;
        while at < bytes.len() && !is_all_zero(&bytes[at..(at + BLOCK).min(bytes.len())]) {
            at = (at + BLOCK).min(bytes.len());
        }
        if at > start {
            platform::write_all_at(file, &bytes[start..at], chunk.offset + start as u64)?;
        }
        at = (at + BLOCK).min(bytes.len());
    }
    Ok(())
}

/// Reads `buf.len()` bytes at `offset`; bytes past the file's end (a
/// trailing hole) are zeros.
fn read_filling_holes(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match platform::read_at(file, &mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf[filled..].fill(0);
    Ok(())
}

#[cfg(test)]
#[path = "spool_tests.rs"]
mod tests;

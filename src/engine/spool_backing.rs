//! What holds the chunks that left memory: the raw image file itself, or
//! the sparse cache file.

use super::*;

impl Spool {
    /// The oldest chunk in memory that may leave it: one the backing holds
    /// or can hold.
    pub(super) fn evictable(&self, state: &State) -> Option<usize> {
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
    pub(super) fn evict<'a>(
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
    pub(super) fn create_cache(&self) -> Result<Arc<File>, String> {
        let Backing::Cache { dir } = &self.backing else {
            return Err("no cache directory".to_string());
        };
        let created = std::fs::create_dir_all(dir).and_then(|()| platform::nameless_file_in(dir));
        created
            .map(Arc::new)
            .map_err(|e| format!("cannot create a cache file in {}: {e}", dir.display()))
    }

    pub(super) fn cannot_keep(&self, state: &State, offset: u64) -> TargetFailure {
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

    /// Reads a chunk that left memory again from the backing.
    pub(super) fn reload(
        &self,
        offset: u64,
        len: usize,
        used: Vec<Range<u64>>,
    ) -> io::Result<Chunk> {
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

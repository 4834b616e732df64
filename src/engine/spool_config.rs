//! How much of the image a spool keeps in memory, and where its cache file
//! goes when that is not enough (docs/architecture.md §11).

use std::io;
use std::path::{Path, PathBuf};

use super::CHUNK_BYTES;
use crate::platform;

/// Bytes of decoded image held in memory at most (docs/architecture.md §11).
pub(crate) const MEMORY_BUDGET: usize = 256 << 20;

/// Memory each target needs besides the spool (a buffer to read a chunk it
/// missed, and its verifier's): taken from the budget so that the whole
/// run stays within it whatever the number of targets.
pub(crate) const PER_TARGET_BYTES: usize = 2 * CHUNK_BYTES;

/// The spool never holds less than this in memory, however many targets.
pub(super) const MIN_MEMORY_BYTES: usize = 16 * CHUNK_BYTES;

/// How a spool keeps the image.
#[derive(Debug, Clone)]
pub(crate) struct SpoolConfig {
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
    pub(crate) fn for_targets(targets: usize) -> SpoolConfig {
        SpoolConfig {
            memory_bytes: memory_for(targets),
            cache_dir: Some(cache_dir()),
            retain_all: false,
        }
    }
}

/// The spool's memory for a run of `targets` targets.
pub(crate) fn memory_for(targets: usize) -> usize {
    MEMORY_BUDGET
        .saturating_sub(targets * PER_TARGET_BYTES)
        .max(MIN_MEMORY_BYTES)
}

/// Where the cache file goes: `$XDG_CACHE_HOME/imprint` or
/// `~/.cache/imprint`; as root (whose home may be small, or not be the
/// user's) `/var/cache/imprint`, else the temporary directory.
pub(crate) fn cache_dir() -> PathBuf {
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
pub(crate) fn free_bytes(dir: &Path) -> io::Result<u64> {
    let dir = dir
        .ancestors()
        .find(|d| d.is_dir())
        .ok_or_else(|| io::Error::other("no such directory"))?;
    platform::free_space_bytes(dir)
}

//! One decode of an image shared by targets that start at different times:
//! the station starts each drive when it is inserted, and every drive reads
//! the same decoded image from its first byte at its own pace.
//!
//! [`SharedImage::start`] decodes the image once into a spool that keeps
//! every chunk for its life (memory up to the budget, the rest in the raw
//! image file itself or in one cache file); [`SharedImage::flash_one`]
//! writes and verifies one target from it, on the caller's thread, with the
//! target's own patch. The digests every target is verified against, and
//! the image's SHA-256, come from that one decode.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use crossbeam_channel::Sender;

use super::hasher::{self, Digests, ShaCell};
use super::spool::{self, Spool, SpoolConfig};
use super::{FlashEvent, Refusal, TargetFailure, TargetOutcome, reader, writer};
use crate::hex::hex;
use crate::map::bmap::Bmap;
use crate::patch::Patch;
use crate::source::ImageSource;
use crate::target::probe::ProbeMode;
use crate::target::{self, OpenTargetFile, TargetInfo, TargetOpener};

/// An image being decoded once for any number of targets, joining at any
/// time. Dropping it stops the decode (targets in flight then fail).
pub(crate) struct SharedImage {
    source: ImageSource,
    spool: Arc<Spool>,
    digests: Arc<Digests>,
    image_sha: Arc<ShaCell>,
    /// Stops the reader and the hashers.
    stop: Arc<AtomicBool>,
    read: Arc<Mutex<Option<Result<u64, TargetFailure>>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// One target of a [`SharedImage`].
pub(crate) struct OneTarget<'a> {
    /// The number its events carry.
    pub index: usize,
    /// The target, as [`SharedImage::check`] gave it.
    pub info: TargetInfo,
    /// Its configured boot partition, written and verified in place of the
    /// image's own bytes.
    pub patch: Option<&'a Patch>,
    /// Read it back and compare it with the image.
    pub verify: bool,
    /// The SHA-256 (hex) the image (unconfigured) must have.
    pub expected_sha256: Option<String>,
    /// The counterfeit probe before it is written.
    pub probe: ProbeMode,
}

impl SharedImage {
    /// Starts decoding `source`. `patched` are the regions any target's
    /// patch may cover (the boot partition): always used in the map, so
    /// that every target writes and verifies them whole. `full` writes every
    /// byte; `bmap`, when the image has one, maps the used bytes as it does
    /// for `flash` (its range checksums checked). `config.retain_all` is implied. Refused when the image may not
    /// fit in memory and the cache directory lacks the space for it.
    pub(crate) fn start(
        source: ImageSource,
        patched: Vec<Range<u64>>,
        full: bool,
        bmap: Option<Arc<Bmap>>,
        config: SpoolConfig,
    ) -> Result<SharedImage, Refusal> {
        let config = SpoolConfig {
            retain_all: true,
            ..config
        };
        let spool = Spool::new(&config, &source);
        if spool.may_need_cache(source.size_hint())
            && let (Some(dir), Some(size)) = (&config.cache_dir, source.size_hint())
            && let Ok(free) = spool::free_bytes(dir)
            && free < size
        {
            return Err(Refusal {
                target: dir.clone(),
                reason: format!(
                    "sharing the decompressed image between drives needs up to {} free here for a cache file, and there are {}; free some space, or decompress the image first (a raw image needs no cache)",
                    crate::humanize::bytes(size),
                    crate::humanize::bytes(free)
                ),
            });
        }
        let digests = Arc::new(Digests::default());
        let image_sha = Arc::new(ShaCell::default());
        let stop = Arc::new(AtomicBool::new(false));
        let read = Arc::new(Mutex::new(None));
        let image_cursor = spool.join(false).expect("a new spool starts at 0");
        let digest_cursor = spool.join(false).expect("a new spool starts at 0");
        let mut threads = Vec::new();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            thread::Builder::new()
                .name(name.to_string())
                .spawn(f)
                .expect("spawning a thread")
        };
        {
            let (image_sha, stop) = (image_sha.clone(), stop.clone());
            threads.push(spawn(
                "hash/image",
                Box::new(move || {
                    hasher::hash_image(image_cursor, &image_sha, &stop);
                }),
            ));
        }
        {
            let (digests, stop) = (digests.clone(), stop.clone());
            threads.push(spawn(
                "hash/chunks",
                Box::new(move || hasher::digest_chunks(digest_cursor, &digests, &stop)),
            ));
        }
        {
            let (source, spool, stop, read) =
                (source.clone(), spool.clone(), stop.clone(), read.clone());
            threads.push(spawn(
                "reader",
                Box::new(move || {
                    let result =
                        reader::read_image(&source, &patched, bmap.as_deref(), full, &spool, &stop);
                    *read.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
                }),
            ));
        }
        Ok(SharedImage {
            source,
            spool,
            digests,
            image_sha,
            stop,
            read,
            threads: Mutex::new(threads),
        })
    }

    /// Checks target `path` as `flash` does (not a system drive, large
    /// enough, not the image itself), opening nothing for writing.
    pub(crate) fn check(&self, path: &std::path::Path) -> Result<TargetInfo, Refusal> {
        target::check_targets(
            &[path.to_path_buf()],
            self.source.path(),
            self.source.size_hint(),
        )
        .map(|mut infos| infos.remove(0))
        .map_err(|mut refusals| refusals.remove(0))
    }

    /// Writes and verifies `target` from the image's first byte, on this
    /// thread. `cancel` stops this target alone.
    pub(crate) fn flash_one(
        &self,
        target: OneTarget<'_>,
        events: &Sender<FlashEvent>,
        cancel: &AtomicBool,
    ) -> TargetOutcome {
        self.flash_one_with(target, events, cancel, &OpenTargetFile)
    }

    pub(crate) fn flash_one_with(
        &self,
        target: OneTarget<'_>,
        events: &Sender<FlashEvent>,
        cancel: &AtomicBool,
        opener: &dyn TargetOpener,
    ) -> TargetOutcome {
        let OneTarget {
            index,
            info,
            patch,
            verify,
            expected_sha256,
            probe,
        } = target;
        let cursor = self
            .spool
            .join(true)
            .expect("a retaining spool keeps byte 0");
        let path = info.path.clone();
        let run = writer::TargetRun {
            index,
            info,
            patch,
            chunks: Mutex::new(cursor),
            digests: verify.then(|| self.digests.clone()),
            image_sha256: self.image_sha.clone(),
            image_hashed: true,
            expected_sha256,
            size_hint: self.source.size_hint(),
            probe,
            events,
            cancel,
            opener,
        };
        // A bug in this target's thread fails this target alone.
        let joined = thread::scope(|s| {
            thread::Builder::new()
                .name(format!("writer/{}", super::short_name(&run.info)))
                .spawn_scoped(s, move || run.run())
                .expect("spawning a thread")
                .join()
        });
        super::target_outcome(joined, index, path, events)
    }

    /// The image's length and SHA-256 (hex) once it has been read to its
    /// end; waits for the decode. `None`s when it could not be.
    pub(crate) fn result(&self) -> (Option<u64>, Option<String>) {
        for handle in self
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            let _ = handle.join();
        }
        let bytes = self
            .read
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .and_then(Result::ok);
        let sha = self.image_sha.wait(&self.stop).map(|sha| hex(&sha));
        (bytes, sha)
    }

    /// What the spool did so far.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> spool::SpoolStats {
        self.spool.stats()
    }
}

impl Drop for SharedImage {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.source.interrupt();
        for handle in self
            .threads
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            let _ = handle.join();
        }
    }
}

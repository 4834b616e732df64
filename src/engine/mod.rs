//! The flash engine: one reader decompresses the image once into a spool,
//! from which one writer thread per target takes the chunks at its own pace;
//! each writer applies its target's own patch (a configured boot partition)
//! to a private copy, and its verifier reads the target back and compares
//! it with the digests of the one reading of the image.
//!
//! ```text
//! image ─▶ reader ─▶ spool ─cursor─▶ writer/<target> (+ patch) ─▶ fsync
//!                      │                   └──▶ verify/<target> (O_DIRECT read-back, behind the writer)
//!                      ├─cursor─▶ hash/image   (SHA-256 of the whole image, unconfigured)
//!                      └─cursor─▶ hash/chunks  (digests of the used ranges, for verification)
//! ```
//!
//! Memory is bounded by the spool's budget, whatever the image size and the
//! number of targets: a target that falls behind reads what left memory
//! from the raw image itself or from one cache file (`spool`).
//! Each writer and verifier makes its system calls on an I/O thread of its
//! own (`device_io`), so that Ctrl-C ends the run within a second even
//! when a drive has stopped answering.
//! The engine knows nothing of egui, clap or terminals: it reports through
//! [`FlashEvent`]s on a channel and returns a [`FlashReport`].

mod chunk;
mod compare;
mod compare_first;
mod device_io;
mod events;
mod hasher;
mod held;
mod job;
#[cfg(test)]
mod mock_target;
mod progress;
mod reader;
mod shared;
pub(crate) mod spool;
mod table_last;
mod threads;
mod verifier;
mod writer;
mod writer_checks;
mod writer_state;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread;

use crossbeam_channel::Sender;

pub(crate) use crate::hex::hex;
pub(crate) use crate::target::Refusal;
pub(crate) use device_io::stuck_targets;
pub(crate) use events::{Ejected, FailureKind, FlashEvent, Phase, TargetFailure};
pub(crate) use job::{FlashJob, FlashReport, TargetOutcome};
pub(crate) use shared::{OneTarget, SharedImage};
pub(crate) use spool::SpoolConfig;
pub(crate) use threads::short_name;
use threads::{internal_error, spawn_named, target_outcome};

use crate::target::{self, OpenTargetFile, TargetInfo, TargetOpener};
use hasher::{Digests, ShaCell};
use spool::Spool;

/// Checks every target of `job` (system drive, size, named twice, the image
/// itself) without opening any for writing. `--dry-run` stops here.
pub(crate) fn check(job: &FlashJob) -> Result<Vec<TargetInfo>, Vec<Refusal>> {
    // The size when known (the source's, the bmap's), else a lower bound
    // (gzip's trailer, the end the image's partition tables imply — a
    // GPT's backup header is on the disk's last sector): a drive smaller
    // than either is refused.
    let size = image_size(job).or_else(|| job.source.min_size().max(table_end(job)));
    target::check_targets_with(&job.targets, job.source.path(), size, &job.inputs)
}

/// The end the image's partition tables imply, for an image in a file
/// (whose start can be read again; a stream is not read before the run).
fn table_end(job: &FlashJob) -> Option<u64> {
    if !job.source.is_reopenable() {
        return None;
    }
    let probe = job
        .source
        .probe(crate::disk::partitions::TABLE_PREFIX_LEN as u64)
        .ok()?;
    crate::disk::implied_end_of(probe)
}

/// The decompressed image size when known: the source's hint, else the
/// bmap's `ImageSize` ([`FlashJob::size_hint`]).
fn image_size(job: &FlashJob) -> Option<u64> {
    job.size_hint()
}

/// Runs `job` to its end: checks every target, then writes and verifies them
/// all, each at its own pace, sending events on `events`. Blocks until every
/// target is finished; setting `cancel` stops the run within a second.
/// Returns the refusals when a target failed its checks, or when the cache
/// file that lets targets go at their own pace could not fit (then nothing
/// was written).
pub(crate) fn flash(
    job: &FlashJob,
    events: &Sender<FlashEvent>,
    cancel: &AtomicBool,
) -> Result<FlashReport, Vec<Refusal>> {
    let infos = check(job)?;
    let config = SpoolConfig::for_targets(infos.len());
    check_cache_space(job, infos.len(), &config)?;
    Ok(write_targets(
        job,
        infos,
        events,
        cancel,
        &OpenTargetFile,
        &config,
    ))
}

/// With several targets, a compressed image larger than the spool's memory
/// may go to a cache file as large as the image: refused up front when the
/// cache directory has less free space than that (docs/architecture.md §11).
fn check_cache_space(
    job: &FlashJob,
    targets: usize,
    config: &SpoolConfig,
) -> Result<(), Vec<Refusal>> {
    let size_hint = image_size(job);
    let (Some(dir), Some(size)) = (&config.cache_dir, size_hint) else {
        // An image of unknown size: the free space is found out as the
        // cache file grows; when it runs out, targets share one pace again.
        return Ok(());
    };
    if targets < 2 || job.source.is_positional() || size <= config.memory_bytes as u64 {
        return Ok(());
    }
    match spool::free_bytes(dir) {
        Ok(free) if free < size => Err(vec![Refusal {
            target: dir.clone(),
            reason: format!(
                "flashing {targets} drives each at its own pace needs up to {} free here for a cache file of the decompressed image, and there are {}; free some space, or decompress the image first (a raw image needs no cache)",
                crate::humanize::bytes(size),
                crate::humanize::bytes(free)
            ),
        }]),
        // A directory that cannot be made: the spool finds out too, and
        // targets share one pace.
        _ => Ok(()),
    }
}

/// Writes and verifies the checked targets `infos`, which `opener` opens,
/// through a spool configured by `config`.
fn write_targets(
    job: &FlashJob,
    infos: Vec<TargetInfo>,
    events: &Sender<FlashEvent>,
    cancel: &AtomicBool,
    opener: &dyn TargetOpener,
    config: &SpoolConfig,
) -> FlashReport {
    let size_hint = image_size(job);
    announce_start(events, &infos, size_hint);
    let spool = Spool::new(config, &job.source);
    let image_sha = Arc::new(ShaCell::default());
    let digests = job.verify.then(|| Arc::new(Digests::default()));
    let cells = (&image_sha, &digests);
    let runs = target_runs(job, infos, &spool, cells, events, cancel, opener);
    let image_cursor = job
        .hashes_image()
        .then(|| spool.join(false).expect("joined before the reader starts"));
    if image_cursor.is_none() {
        // Nobody compares or shows it: no pass over every byte for it.
        image_sha.set(None);
    }
    let digest_cursor = digests.as_ref().map(|d| {
        (
            spool.join(false).expect("joined before the reader starts"),
            d,
        )
    });

    let (image_bytes, outcomes) = thread::scope(|s| {
        let image_sha = &image_sha;
        let image_hasher = image_cursor.map(|cursor| {
            spawn_named(s, "hash/image", move || {
                hasher::hash_image(cursor, image_sha, cancel)
            })
        });
        if let Some((cursor, digests)) = digest_cursor {
            spawn_named(s, "hash/chunks", move || {
                hasher::digest_chunks(cursor, digests, cancel)
            });
        }
        let writers: Vec<_> = runs
            .into_iter()
            .map(|run| {
                let target = (run.index, run.info.path.clone());
                let handle =
                    spawn_named(s, format!("writer/{}", short_name(&run.info)), move || {
                        run.run()
                    });
                (target, handle)
            })
            .collect();
        let spool = &spool;
        let reader = spawn_named(s, "reader", move || {
            reader::read_image(
                &job.source,
                &job.patched_ranges(),
                job.bmap.as_deref(),
                job.full,
                spool,
                cancel,
            )
        });
        let image_bytes = reader
            .join()
            .unwrap_or_else(|panic| Err(internal_error("reading the image", &panic)));
        let outcomes: Vec<_> = writers
            .into_iter()
            .map(|((index, path), w)| target_outcome(w.join(), index, path, events))
            .collect();
        if let Some(hasher) = image_hasher {
            let _ = hasher.join();
        }
        (image_bytes, outcomes)
    });
    let image_sha = image_sha.wait(cancel);
    finish(events, outcomes, image_bytes, image_sha)
}

/// One writer's run per checked target, each with its own cursor.
fn target_runs<'a>(
    job: &'a FlashJob,
    infos: Vec<TargetInfo>,
    spool: &Arc<Spool>,
    (image_sha, digests): (&Arc<ShaCell>, &Option<Arc<Digests>>),
    events: &'a Sender<FlashEvent>,
    cancel: &'a AtomicBool,
    opener: &'a dyn TargetOpener,
) -> Vec<writer::TargetRun<'a>> {
    let size_hint = image_size(job);
    infos
        .into_iter()
        .enumerate()
        .map(|(index, info)| writer::TargetRun {
            index,
            info,
            patch: job.patch_for(index),
            chunks: Mutex::new(spool.join(true).expect("joined before the reader starts")),
            digests: digests.clone(),
            image_sha256: image_sha.clone(),
            image_hashed: job.hashes_image(),
            expected_sha256: job.expected_sha256.clone(),
            size_hint,
            probe: job.probe,
            events,
            cancel,
            opener,
        })
        .collect()
}

/// Compares every target of `job` with the image byte for byte, writing
/// nothing (`imprint verify`). Targets only need to exist and be readable.
pub(crate) fn verify(
    job: &FlashJob,
    events: &Sender<FlashEvent>,
    cancel: &AtomicBool,
) -> Result<FlashReport, Vec<Refusal>> {
    let mut infos = Vec::new();
    let mut refusals = Vec::new();
    for path in &job.targets {
        match target::inspect(path) {
            Ok(info) if path.exists() => infos.push(info),
            Ok(_) => refusals.push(Refusal {
                target: path.clone(),
                reason: "does not exist".to_string(),
            }),
            Err(reason) => refusals.push(Refusal {
                target: path.clone(),
                reason,
            }),
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    Ok(compare_targets(job, infos, events, cancel, &OpenTargetFile))
}

/// Compares the targets `infos`, which `opener` opens, with the image. The
/// targets go in step (no cache file: a comparison writes nothing).
fn compare_targets(
    job: &FlashJob,
    infos: Vec<TargetInfo>,
    events: &Sender<FlashEvent>,
    cancel: &AtomicBool,
    opener: &dyn TargetOpener,
) -> FlashReport {
    let size_hint = image_size(job);
    announce_start(events, &infos, size_hint);
    let config = SpoolConfig {
        cache_dir: None,
        ..SpoolConfig::for_targets(infos.len())
    };
    let spool = Spool::new(&config, &job.source);
    let runs: Vec<_> = infos
        .into_iter()
        .enumerate()
        .map(|(index, info)| compare::CompareRun {
            index,
            info,
            patch: job.patch_for(index),
            chunks: spool.join(true).expect("joined before the reader starts"),
            size_hint,
            events,
            cancel,
            opener,
        })
        .collect();
    let image_cursor = spool.join(false).expect("joined before the reader starts");
    let image_sha = ShaCell::default();
    let (image_bytes, outcomes) = thread::scope(|s| {
        let image_sha = &image_sha;
        let image_hasher = spawn_named(s, "hash/image", move || {
            hasher::hash_image(image_cursor, image_sha, cancel)
        });
        let comparers: Vec<_> = runs
            .into_iter()
            .map(|run| {
                let target = (run.index, run.info.path.clone());
                let handle =
                    spawn_named(s, format!("verify/{}", short_name(&run.info)), move || {
                        run.run()
                    });
                (target, handle)
            })
            .collect();
        let image_bytes = reader::read_image(
            &job.source,
            &job.patched_ranges(),
            job.bmap.as_deref(),
            job.full,
            &spool,
            cancel,
        );
        let outcomes: Vec<_> = comparers
            .into_iter()
            .map(|((index, path), w)| target_outcome(w.join(), index, path, events))
            .collect();
        let _ = image_hasher.join();
        (image_bytes, outcomes)
    });
    let image_sha = image_sha.wait(cancel);
    finish(events, outcomes, image_bytes, image_sha)
}

fn announce_start(events: &Sender<FlashEvent>, infos: &[TargetInfo], size_hint: Option<u64>) {
    let _ = events.send(FlashEvent::Started {
        targets: infos.iter().map(|t| t.path.display().to_string()).collect(),
        size_hint,
    });
}

/// The run's report, also announced as the `Done` event.
fn finish(
    events: &Sender<FlashEvent>,
    targets: Vec<TargetOutcome>,
    image_bytes: Result<u64, TargetFailure>,
    image_sha: Option<[u8; 32]>,
) -> FlashReport {
    let report = FlashReport {
        targets,
        image_sha256: image_sha.map(|sha| hex(&sha)),
        image_bytes: image_bytes.ok(),
    };
    let _ = events.send(FlashEvent::Done {
        image_sha256: report.image_sha256.clone(),
        image_bytes: report.image_bytes,
    });
    report
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

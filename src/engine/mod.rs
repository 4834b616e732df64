//! The flash engine: one reader decompresses the image once and fans aligned
//! chunks out to one writer thread per target; each writer then reads its
//! target back and compares it chunk by chunk with the image's digests.
//!
//! ```text
//! image ─▶ reader ──Arc<Chunk>──▶ writer/<target> ─▶ fsync
//!                         │              └──▶ verify/<target> (O_DIRECT read-back, behind the writer)
//!                         ├─────▶ hash/image   (SHA-256 of the whole image)
//!                         └─────▶ hash/chunks  (per-chunk digests for verification)
//! ```
//!
//! Memory is bounded by a pool of chunk buffers, whatever the image size.
//! Each writer and verifier makes its system calls on an I/O thread of its
//! own (`device_io`), so that Ctrl-C ends the run within a second even
//! when a drive has stopped answering.
//! The engine knows nothing of egui, clap or terminals: it reports through
//! [`FlashEvent`]s on a channel and returns a [`FlashReport`].

mod chunk;
mod compare;
mod device_io;
mod events;
mod hasher;
mod job;
#[cfg(test)]
mod mock_target;
mod progress;
mod reader;
mod verifier;
mod writer;

use std::sync::atomic::AtomicBool;
use std::thread;

use crossbeam_channel::{Sender, unbounded};

pub use crate::hex::hex;
pub use crate::patch::Patch;
pub use crate::target::Refusal;
pub use chunk::CHUNK_BYTES;
pub use device_io::stuck_targets;
pub use events::{Ejected, FailureKind, FlashEvent, Phase, TargetFailure};
pub use job::{FlashJob, FlashReport, TargetOutcome};

use crate::target::{self, OpenTargetFile, TargetInfo, TargetOpener};
use chunk::BufferPool;
use reader::Consumer;

/// Checks every target of `job` (system drive, size, named twice, the image
/// itself) without opening any for writing. `--dry-run` stops here.
pub fn check(job: &FlashJob) -> Result<Vec<TargetInfo>, Vec<Refusal>> {
    // At least this size: a drive smaller than a lower bound is refused too.
    let size = job.source.min_size();
    target::check_targets(&job.targets, job.source.path(), size)
}

/// The decompressed image size when known: the source's hint, or at least
/// the end of the patch.
fn image_size(job: &FlashJob) -> Option<u64> {
    job.source.size_hint()
}

/// Buffers in flight: enough that every target and hasher has a few chunks
/// queued, so a momentarily slow one does not stall the others.
fn pool_size(targets: usize) -> usize {
    4 + 2 * targets
}

/// Runs `job` to its end: checks every target, then writes and verifies them
/// all, sending events on `events`. Blocks until every target is finished;
/// setting `cancel` stops the run within a second. Returns the refusals when
/// a target failed its checks (then nothing was written).
pub fn flash(
    job: &FlashJob,
    events: &Sender<FlashEvent>,
    cancel: &AtomicBool,
) -> Result<FlashReport, Vec<Refusal>> {
    let infos = check(job)?;
    Ok(write_targets(job, infos, events, cancel, &OpenTargetFile))
}

/// Writes and verifies the checked targets `infos`, which `opener` opens.
fn write_targets(
    job: &FlashJob,
    infos: Vec<TargetInfo>,
    events: &Sender<FlashEvent>,
    cancel: &AtomicBool,
    opener: &dyn TargetOpener,
) -> FlashReport {
    let size_hint = image_size(job);
    announce_start(events, &infos, size_hint);
    let pool = BufferPool::new(pool_size(infos.len()), CHUNK_BYTES);
    let mut consumers = Vec::new();
    let mut image_sha_waiters = Vec::new();
    let mut digest_senders = Vec::new();
    let mut runs = Vec::new();
    for (index, info) in infos.into_iter().enumerate() {
        let (tx, chunks) = unbounded();
        consumers.push(Consumer { tx, required: true });
        let (sha_tx, image_sha256) = crossbeam_channel::bounded(1);
        image_sha_waiters.push(sha_tx);
        let digests = job.verify.then(|| {
            let (tx, rx) = unbounded();
            digest_senders.push(tx);
            rx
        });
        runs.push(writer::TargetRun {
            index,
            info,
            chunks,
            digests,
            image_sha256,
            expected_sha256: job.expected_sha256.clone(),
            size_hint,
            events,
            cancel,
            opener,
        });
    }
    let (image_tx, image_rx) = unbounded();
    consumers.push(Consumer {
        tx: image_tx,
        required: false,
    });
    let digest_rx = job.verify.then(|| {
        let (tx, rx) = unbounded();
        consumers.push(Consumer {
            tx,
            required: false,
        });
        rx
    });

    let (image_result, outcomes) = thread::scope(|s| {
        let image_hasher = spawn_named(s, "hash/image", move || {
            hasher::hash_image(image_rx, image_sha_waiters, cancel)
        });
        if let Some(digest_rx) = digest_rx {
            spawn_named(s, "hash/chunks", move || {
                hasher::digest_chunks(digest_rx, digest_senders, cancel)
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
        let pool = &pool;
        let reader = spawn_named(s, "reader", move || {
            reader::read_image(
                &job.source,
                job.patch.as_ref(),
                job.full,
                pool,
                consumers,
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
        let image_sha = image_hasher.join().unwrap_or(None);
        ((image_bytes, image_sha), outcomes)
    });
    let (image_bytes, image_sha) = image_result;
    finish(events, outcomes, image_bytes, image_sha)
}

/// Compares every target of `job` with the image byte for byte, writing
/// nothing (`imprint verify`). Targets only need to exist and be readable.
pub fn verify(
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

/// Compares the targets `infos`, which `opener` opens, with the image.
fn compare_targets(
    job: &FlashJob,
    infos: Vec<TargetInfo>,
    events: &Sender<FlashEvent>,
    cancel: &AtomicBool,
    opener: &dyn TargetOpener,
) -> FlashReport {
    let size_hint = image_size(job);
    announce_start(events, &infos, size_hint);
    let pool = BufferPool::new(pool_size(infos.len()), CHUNK_BYTES);
    let mut consumers = Vec::new();
    let mut runs = Vec::new();
    for (index, info) in infos.into_iter().enumerate() {
        let (tx, chunks) = unbounded();
        consumers.push(Consumer { tx, required: true });
        runs.push(compare::CompareRun {
            index,
            info,
            chunks,
            size_hint,
            events,
            cancel,
            opener,
        });
    }
    let (image_tx, image_rx) = unbounded();
    consumers.push(Consumer {
        tx: image_tx,
        required: false,
    });
    let (image_bytes, image_sha, outcomes) = thread::scope(|s| {
        let image_hasher = spawn_named(s, "hash/image", move || {
            hasher::hash_image(image_rx, Vec::new(), cancel)
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
        let pool = &pool;
        let image_bytes = reader::read_image(
            &job.source,
            job.patch.as_ref(),
            job.full,
            pool,
            consumers,
            cancel,
        );
        let outcomes: Vec<_> = comparers
            .into_iter()
            .map(|((index, path), w)| target_outcome(w.join(), index, path, events))
            .collect();
        let image_sha = image_hasher.join().unwrap_or(None);
        (image_bytes, image_sha, outcomes)
    });
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

/// The outcome of a target's thread. A thread that panicked (a bug) fails
/// its own target — announced like any failure — instead of taking the whole
/// run down: the other targets keep their results.
fn target_outcome(
    joined: thread::Result<TargetOutcome>,
    index: usize,
    target: std::path::PathBuf,
    events: &Sender<FlashEvent>,
) -> TargetOutcome {
    match joined {
        Ok(outcome) => outcome,
        Err(panic) => {
            let what = format!("writing {}", target.display());
            let failure = internal_error(&what, &panic);
            let _ = events.send(FlashEvent::TargetDone {
                target: index,
                result: Err(failure.clone()),
                sha256: None,
                written_bytes: 0,
                verified_bytes: 0,
            });
            TargetOutcome {
                target,
                result: Err(failure),
                bytes_written: 0,
                written_bytes: 0,
                verified_bytes: 0,
                verified: false,
            }
        }
    }
}

/// The failure of `what` when its thread panicked.
fn internal_error(what: &str, panic: &Box<dyn std::any::Any + Send>) -> TargetFailure {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_string());
    TargetFailure {
        kind: FailureKind::Write,
        offset: None,
        message: format!(
            "an internal error stopped {what} ({detail}); it is incomplete: flash it again, and please report this"
        ),
    }
}

/// Spawns a named thread in scope `s` (names show in debuggers and `top -H`).
fn spawn_named<'scope, T: Send + 'scope>(
    s: &'scope thread::Scope<'scope, '_>,
    name: impl Into<String>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> thread::ScopedJoinHandle<'scope, T> {
    thread::Builder::new()
        .name(name.into())
        .spawn_scoped(s, f)
        .expect("spawning a thread")
}

/// `sdb` for `/dev/sdb`: for thread names.
pub(crate) fn short_name(info: &TargetInfo) -> String {
    info.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "target".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicked_target_thread_fails_its_target_alone_and_says_so() {
        let (events, received) = unbounded();
        let joined =
            std::thread::spawn(|| -> TargetOutcome { panic!("index out of bounds") }).join();
        let outcome = target_outcome(joined, 2, "/dev/sdc".into(), &events);
        let failure = outcome.result.unwrap_err();
        assert!(
            failure.message.contains("writing /dev/sdc"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("index out of bounds"),
            "{}",
            failure.message
        );
        assert!(matches!(
            received.try_recv(),
            Ok(FlashEvent::TargetDone {
                target: 2,
                result: Err(_),
                ..
            })
        ));
    }
}

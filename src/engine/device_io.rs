//! A target's reads and writes on a thread of their own, so that a device
//! that stops answering cannot hold the run hostage.
//!
//! A write to a stalled drive blocks in the kernel, uninterruptibly: no
//! signal ends it. Were the writer itself blocked there, Ctrl-C would wait
//! for the drive, and the `target_done`/`done` events with it. Instead the
//! writer and verifier hand each system call to a [`DeviceIo`] worker and
//! wait for its answer while watching the cancel flag; once cancelled, they
//! give the call [`GRACE`] to return and then abandon it, so the run ends
//! within a second (docs/architecture.md §2, "Cancellation and stalls"). The abandoned
//! worker finishes when the kernel lets it; [`stuck_targets`] names such
//! targets so the front end can say why the process has not exited yet.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, Sender};

use super::chunk::Payload;
use crate::target::{AlignedBuf, BlockTarget, IO_ALIGNMENT, TargetError};

/// How often a waiting thread looks at the cancel flag.
const POLL: Duration = Duration::from_millis(50);
/// How long a call may still take once the run is cancelled: a healthy
/// drive answers well within it, and the run still ends within a second.
pub(super) const GRACE: Duration = Duration::from_millis(300);

type Job = Box<dyn FnOnce(&mut dyn BlockTarget) + Send>;

/// The pieces a failed read or write is retried in to find where it fails:
/// 64 KiB, then 4 KiB within the failing 64 KiB. Only pieces up to the
/// first failing one are retried, so a bad drive sees two more failing
/// calls, not hundreds.
const LOCATE_PIECES: [usize; 2] = [64 << 10, 4 << 10];

/// Calls abandoned while the kernel still holds them: (call id, target).
static STUCK: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static NEXT_CALL: AtomicU64 = AtomicU64::new(0);

/// Targets with a read or write abandoned after a cancel that the kernel has
/// not returned yet: the process cannot exit before they return.
pub(crate) fn stuck_targets() -> Vec<PathBuf> {
    let stuck = STUCK.lock().unwrap_or_else(PoisonError::into_inner);
    let mut paths: Vec<PathBuf> = stuck.iter().map(|(_, path)| path.clone()).collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The run was cancelled while a call on the target had not returned.
#[derive(Debug)]
pub(super) struct Abandoned;

/// An open target, owned by its worker thread.
pub(super) struct DeviceIo {
    jobs: Sender<Job>,
    path: PathBuf,
}

impl DeviceIo {
    /// Moves `file` to a new worker thread named `name`. Dropping the
    /// `DeviceIo` lets the worker close the file once its last call returns.
    pub(super) fn spawn(file: Box<dyn BlockTarget>, name: String) -> DeviceIo {
        let path = file.path().to_path_buf();
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let mut file = file;
        // Not scoped: a worker blocked in the kernel must not keep the run
        // from returning.
        thread::Builder::new()
            .name(name)
            .spawn(move || {
                for job in queue {
                    job(file.as_mut());
                }
            })
            .expect("spawning a target I/O thread");
        DeviceIo { jobs, path }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Runs `f` on the worker and returns its result, or [`Abandoned`] when
    /// `cancel` was set and `f` did not return within [`GRACE`] after.
    pub(super) fn call<R: Send + 'static>(
        &self,
        cancel: &AtomicBool,
        f: impl FnOnce(&mut dyn BlockTarget) -> R + Send + 'static,
    ) -> Result<R, Abandoned> {
        let id = NEXT_CALL.fetch_add(1, Ordering::Relaxed);
        let (reply_tx, reply) = crossbeam_channel::bounded(1);
        let job: Job = Box::new(move |file| {
            let result = f(file);
            // Under the lock, so that the caller either sees the reply or
            // has registered the call as stuck, and it is removed here.
            let mut stuck = STUCK.lock().unwrap_or_else(PoisonError::into_inner);
            stuck.retain(|(call, _)| *call != id);
            let _ = reply_tx.send(result);
        });
        // The worker ends only by a panic while this handle lives: a bug,
        // which takes the run down as a panic in the writer itself would.
        let worker_panicked = || panic!("the I/O thread of {} panicked", self.path.display());
        if self.jobs.send(job).is_err() {
            worker_panicked();
        }
        let mut cancelled_at: Option<Instant> = None;
        loop {
            match reply.recv_timeout(POLL) {
                Ok(result) => return Ok(result),
                Err(RecvTimeoutError::Disconnected) => worker_panicked(),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if !cancel.load(Ordering::Relaxed) {
                continue;
            }
            let since = *cancelled_at.get_or_insert_with(Instant::now);
            if since.elapsed() < GRACE {
                continue;
            }
            let mut stuck = STUCK.lock().unwrap_or_else(PoisonError::into_inner);
            if let Ok(result) = reply.try_recv() {
                return Ok(result);
            }
            stuck.push((id, self.path.clone()));
            return Err(Abandoned);
        }
    }

    /// After `op` failed on `len` bytes at `offset`, retries it piece by
    /// piece ([`LOCATE_PIECES`]) and returns the error of the first piece
    /// that fails, whose offset is then exact to 4 KiB; `None` when every
    /// piece succeeded (the failure did not recur). `op(file, at, n)` does
    /// the read or write of `n` bytes at `at`.
    pub(super) fn locate_failure(
        &self,
        cancel: &AtomicBool,
        offset: u64,
        len: usize,
        op: impl Fn(&mut dyn BlockTarget, u64, usize) -> Result<(), TargetError> + Send + Sync + 'static,
    ) -> Result<Option<TargetError>, Abandoned> {
        let op = Arc::new(op);
        let (mut start, mut end) = (offset, offset + len as u64);
        let mut found = None;
        for piece in LOCATE_PIECES {
            found = None;
            let mut at = start;
            while at < end {
                let n = (piece as u64).min(end - at) as usize;
                let op = op.clone();
                if let Err(error) = self.call(cancel, move |file| op(file, at, n))? {
                    (start, end) = (at, at + n as u64);
                    found = Some(error);
                    break;
                }
                at += n as u64;
            }
            if found.is_none() {
                break;
            }
        }
        Ok(found)
    }

    /// `error` from writing `chunk` whole, located to its 4 KiB when it
    /// was an I/O error that recurs.
    pub(super) fn locate_write_failure(
        &self,
        cancel: &AtomicBool,
        chunk: Arc<Payload>,
        error: TargetError,
    ) -> Result<TargetError, Abandoned> {
        if !matches!(error, TargetError::Write { .. }) {
            return Ok(error);
        }
        let (offset, len) = (chunk.offset, chunk.len);
        // Rewriting the target's own bytes is harmless where they did land.
        let located = self.locate_failure(cancel, offset, len, move |file, at, n| {
            let from = (at - chunk.offset) as usize;
            file.write_at(at, &chunk.bytes()[from..from + n])
        })?;
        Ok(located.unwrap_or(error))
    }

    /// `error` from reading `len` bytes at `offset`, located to its 4 KiB
    /// when it was an I/O error that recurs.
    pub(super) fn locate_read_failure(
        &self,
        cancel: &AtomicBool,
        offset: u64,
        len: usize,
        error: TargetError,
    ) -> Result<TargetError, Abandoned> {
        if !matches!(error, TargetError::Read { .. }) {
            return Ok(error);
        }
        let located = self.locate_failure(cancel, offset, len, |file, at, n| {
            let mut buf = AlignedBuf::zeroed(n.next_multiple_of(IO_ALIGNMENT));
            file.read_at(at, &mut buf, n)
        })?;
        Ok(located.unwrap_or(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file_target(dir: &Path) -> Box<dyn BlockTarget> {
        let path = dir.join("target.img");
        std::fs::write(&path, [7u8; 4096]).unwrap();
        let info = crate::target::inspect(&path).unwrap();
        Box::new(crate::target::TargetFile::open_for_read(&info).unwrap())
    }

    #[test]
    fn a_call_returns_what_the_worker_did() {
        let dir = tempfile::tempdir().unwrap();
        let io = DeviceIo::spawn(file_target(dir.path()), "io/test".into());
        let cancel = AtomicBool::new(false);
        let buf = io
            .call(&cancel, |file| {
                let mut buf = AlignedBuf::zeroed(4096);
                file.read_at(0, &mut buf, 4096).map(|_| buf)
            })
            .unwrap()
            .unwrap();
        assert!(buf.iter().all(|&b| b == 7));
    }

    #[test]
    fn a_call_that_hangs_is_abandoned_soon_after_cancel_and_named_stuck() {
        let dir = tempfile::tempdir().unwrap();
        let io = DeviceIo::spawn(file_target(dir.path()), "io/test".into());
        let cancel = AtomicBool::new(false);
        let (release_tx, release) = crossbeam_channel::bounded::<()>(0);
        let started = Instant::now();
        let result = thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(Duration::from_millis(100));
                cancel.store(true, Ordering::Relaxed);
            });
            // Stands for a write the kernel does not return.
            io.call(&cancel, move |_| {
                let _ = release.recv();
            })
        });
        let took = started.elapsed();
        assert!(result.is_err());
        assert!(
            took >= GRACE && took < GRACE + Duration::from_millis(500),
            "abandoned {took:?} after the start"
        );
        assert!(stuck_targets().contains(&io.path().to_path_buf()));
        release_tx.send(()).unwrap();
        // The call is no longer stuck once it returns.
        let deadline = Instant::now() + Duration::from_secs(5);
        while stuck_targets().contains(&io.path().to_path_buf()) {
            assert!(Instant::now() < deadline, "still listed as stuck");
            thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_failure_is_located_to_its_4_kib_piece_and_only_up_to_there() {
        let dir = tempfile::tempdir().unwrap();
        let io = DeviceIo::spawn(file_target(dir.path()), "io/test".into());
        let cancel = AtomicBool::new(false);
        let bad: u64 = (1 << 20) + 70_000;
        let tried = Arc::new(Mutex::new(Vec::new()));
        let seen = tried.clone();
        let error = io
            .locate_failure(&cancel, 1 << 20, 4 << 20, move |_, at, n| {
                seen.lock().unwrap().push((at, n));
                if at <= bad && bad < at + n as u64 {
                    Err(TargetError::Write {
                        path: "/dev/test".into(),
                        target_kind: crate::target::TargetKind::BlockDevice,
                        offset: at,
                        source: std::io::Error::other("input/output error"),
                    })
                } else {
                    Ok(())
                }
            })
            .unwrap()
            .expect("the bad byte's piece fails");
        assert_eq!(error.offset(), Some(bad / 4096 * 4096));
        let tried = tried.lock().unwrap();
        // 70000 bytes in: the second 64 KiB piece, then its second 4 KiB.
        assert_eq!(tried.len(), 2 + 2, "{tried:?}");
        assert!(tried.iter().all(|&(at, _)| at <= bad));
    }

    #[test]
    fn a_failure_that_does_not_recur_is_not_located() {
        let dir = tempfile::tempdir().unwrap();
        let io = DeviceIo::spawn(file_target(dir.path()), "io/test".into());
        let cancel = AtomicBool::new(false);
        let located = io
            .locate_failure(&cancel, 0, 300_000, |_, _, _| Ok(()))
            .unwrap();
        assert!(located.is_none());
    }

    #[test]
    fn a_slow_call_without_cancel_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let io = DeviceIo::spawn(file_target(dir.path()), "io/test".into());
        let cancel = AtomicBool::new(false);
        let result = io.call(&cancel, |_| {
            thread::sleep(GRACE + Duration::from_millis(200));
            42
        });
        assert_eq!(result.unwrap(), 42);
    }
}

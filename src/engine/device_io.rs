//! A target's reads and writes on a thread of their own, so that a device
//! that stops answering cannot hold the run hostage.
//!
//! A write to a stalled drive blocks in the kernel, uninterruptibly: no
//! signal ends it. Were the writer itself blocked there, Ctrl-C would wait
//! for the drive, and the `target_done`/`done` events with it. Instead the
//! writer and verifier hand each system call to a [`DeviceIo`] worker and
//! wait for its answer while watching the cancel flag; once cancelled, they
//! give the call [`GRACE`] to return and then abandon it, so the run ends
//! within a second (DESIGN.md §9, "Cancellation and stalls"). The abandoned
//! worker finishes when the kernel lets it; [`stuck_targets`] names such
//! targets so the front end can say why the process has not exited yet.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{RecvTimeoutError, Sender};

use crate::target::TargetFile;

/// How often a waiting thread looks at the cancel flag.
const POLL: Duration = Duration::from_millis(50);
/// How long a call may still take once the run is cancelled: a healthy
/// drive answers well within it, and the run still ends within a second.
pub const GRACE: Duration = Duration::from_millis(300);

type Job = Box<dyn FnOnce(&mut TargetFile) + Send>;

/// Calls abandoned while the kernel still holds them: (call id, target).
static STUCK: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static NEXT_CALL: AtomicU64 = AtomicU64::new(0);

/// Targets with a read or write abandoned after a cancel that the kernel has
/// not returned yet: the process cannot exit before they return.
pub fn stuck_targets() -> Vec<PathBuf> {
    let stuck = STUCK.lock().unwrap_or_else(PoisonError::into_inner);
    let mut paths: Vec<PathBuf> = stuck.iter().map(|(_, path)| path.clone()).collect();
    paths.dedup();
    paths
}

/// The run was cancelled while a call on the target had not returned.
#[derive(Debug)]
pub struct Abandoned;

/// An open target, owned by its worker thread.
pub struct DeviceIo {
    jobs: Sender<Job>,
    path: PathBuf,
}

impl DeviceIo {
    /// Moves `file` to a new worker thread named `name`. Dropping the
    /// `DeviceIo` lets the worker close the file once its last call returns.
    pub fn spawn(file: TargetFile, name: String) -> DeviceIo {
        let path = file.path().to_path_buf();
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let mut file = file;
        // Not scoped: a worker blocked in the kernel must not keep the run
        // from returning.
        thread::Builder::new()
            .name(name)
            .spawn(move || {
                for job in queue {
                    job(&mut file);
                }
            })
            .expect("spawning a target I/O thread");
        DeviceIo { jobs, path }
    }

    #[cfg(test)]
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Runs `f` on the worker and returns its result, or [`Abandoned`] when
    /// `cancel` was set and `f` did not return within [`GRACE`] after.
    pub fn call<R: Send + 'static>(
        &self,
        cancel: &AtomicBool,
        f: impl FnOnce(&mut TargetFile) -> R + Send + 'static,
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::AlignedBuf;
    use std::path::Path;

    fn file_target(dir: &Path) -> TargetFile {
        let path = dir.join("target.img");
        std::fs::write(&path, [7u8; 4096]).unwrap();
        let info = crate::target::inspect(&path).unwrap();
        TargetFile::open_for_read(&info).unwrap()
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

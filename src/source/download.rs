//! What a download tells the run while it goes: bytes received and retries.
//!
//! The download runs on the input pump thread, ahead of the engine and
//! before any run exists (the format, the size and a `--config` boot
//! partition are read from it first). So the status is shared state the
//! download updates, and whoever runs the job subscribes an observer when
//! the run starts; progress is throttled like the engine's, retries are
//! always passed on.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often, at most, download progress is passed on.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// One thing a download reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadEvent {
    /// `bytes` of the file received so far, of `total` when the server said.
    Progress { bytes: u64, total: Option<u64> },
    /// The connection dropped or stalled at byte `at` of the file; try
    /// number `attempt` (from 1) resumes from there.
    Retry {
        attempt: u32,
        at: u64,
        reason: String,
    },
    /// The whole file is received: its SHA-256, lower-case hex.
    Finished { sha256: String },
}

/// Receives a download's events on the download's thread.
pub type DownloadObserver = Box<dyn Fn(DownloadEvent) + Send>;

/// The shared state of one download.
#[derive(Default)]
pub struct DownloadStatus {
    inner: Mutex<StatusInner>,
}

#[derive(Default)]
struct StatusInner {
    observer: Option<DownloadObserver>,
    bytes: u64,
    total: Option<u64>,
    last_sent: Option<Instant>,
    /// Retries so far (a few: their number is bounded), replayed to an
    /// observer that comes later: the download starts before the run.
    retries: Vec<DownloadEvent>,
    /// The whole file's SHA-256, once received (replayed like the retries:
    /// a small file is whole before the run observes it).
    sha256: Option<String>,
}

impl std::fmt::Debug for DownloadStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("DownloadStatus")
            .field("bytes", &inner.bytes)
            .field("total", &inner.total)
            .finish()
    }
}

impl DownloadStatus {
    pub fn new(total: Option<u64>) -> DownloadStatus {
        DownloadStatus {
            inner: Mutex::new(StatusInner {
                total,
                ..StatusInner::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StatusInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends the events from now on to `observer` (replacing any other),
    /// starting with the retries so far and where the download is.
    pub fn observe(&self, observer: DownloadObserver) {
        let mut inner = self.lock();
        for retry in &inner.retries {
            observer(retry.clone());
        }
        observer(DownloadEvent::Progress {
            bytes: inner.bytes,
            total: inner.total,
        });
        if let Some(sha256) = &inner.sha256 {
            observer(DownloadEvent::Finished {
                sha256: sha256.clone(),
            });
        }
        inner.observer = Some(observer);
        inner.last_sent = Some(Instant::now());
    }

    /// Stops sending events (the run is over).
    pub fn unobserve(&self) {
        self.lock().observer = None;
    }

    /// Bytes of the file received so far.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    /// The file's size, when the server said.
    pub fn total(&self) -> Option<u64> {
        self.lock().total
    }

    /// `bytes` of the file are received; `finished` sends it whatever the
    /// throttle says (the last event of the download).
    pub fn received(&self, bytes: u64, finished: bool) {
        let mut inner = self.lock();
        inner.bytes = bytes;
        if !finished
            && inner
                .last_sent
                .is_some_and(|t| t.elapsed() < PROGRESS_INTERVAL)
        {
            return;
        }
        let total = inner.total;
        if let Some(observer) = &inner.observer {
            observer(DownloadEvent::Progress { bytes, total });
            inner.last_sent = Some(Instant::now());
        }
    }

    /// A retry begins.
    pub fn retry(&self, attempt: u32, at: u64, reason: &str) {
        let mut inner = self.lock();
        let event = DownloadEvent::Retry {
            attempt,
            at,
            reason: reason.to_owned(),
        };
        if let Some(observer) = &inner.observer {
            observer(event.clone());
        }
        inner.retries.push(event);
    }

    /// The whole file is received, with this SHA-256; told once.
    pub fn finished(&self, sha256: String) {
        let mut inner = self.lock();
        if let Some(observer) = &inner.observer {
            observer(DownloadEvent::Finished {
                sha256: sha256.clone(),
            });
        }
        inner.sha256 = Some(sha256);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn progress_is_throttled_but_the_last_and_every_retry_go_out() {
        let status = DownloadStatus::new(Some(100));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        status.received(10, false);
        status.retry(1, 5, "closed early");
        status.observe(Box::new(move |e| sink.lock().unwrap().push(e)));
        status.received(20, false);
        status.retry(2, 20, "stalled");
        status.received(100, true);
        status.unobserve();
        status.received(100, true);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![
                DownloadEvent::Retry {
                    attempt: 1,
                    at: 5,
                    reason: "closed early".into()
                },
                DownloadEvent::Progress {
                    bytes: 10,
                    total: Some(100)
                },
                DownloadEvent::Retry {
                    attempt: 2,
                    at: 20,
                    reason: "stalled".into()
                },
                DownloadEvent::Progress {
                    bytes: 100,
                    total: Some(100)
                },
            ]
        );
        assert_eq!(status.bytes(), 100);
    }
}

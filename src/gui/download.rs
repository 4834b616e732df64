//! A run's download, when the image is at a URL: bytes received, a smoothed
//! rate, when data last arrived (a stall is told as waiting, not with the
//! last rate), the last retry, and the time the rest will take.

use std::time::{Duration, Instant};

use crate::engine::Phase;

use super::progress::TargetProgress;

/// No data for this long is "waiting for the server", not a rate.
pub(crate) const STALL_AFTER: Duration = Duration::from_secs(3);
/// A resume notice stays this long after the download went on past it.
pub(crate) const RESUME_NOTICE_FOR: Duration = Duration::from_secs(10);

/// How the download of a run's image goes; empty for an image file.
#[derive(Debug, Clone, Default)]
pub struct DownloadProgress {
    /// Bytes, total and rate (the write phase's bookkeeping serves).
    progress: Option<TargetProgress>,
    /// The last retry: where it stopped and why.
    pub last_retry: Option<(u64, String)>,
    pub retries: u32,
    /// When the byte count last grew (or the download began).
    last_growth: Option<Instant>,
    /// When the last retry was reported.
    retried_at: Option<Instant>,
}

/// Where the download is at one moment, for the progress screen.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadStatus {
    pub bytes: u64,
    pub total: Option<u64>,
    /// The rate, `None` while stalled (a stale rate would mislead).
    pub rate: Option<f64>,
    /// How long no data has come, once that is [`STALL_AFTER`] or more.
    pub waiting: Option<Duration>,
}

impl DownloadProgress {
    /// Records a download event received at `now`.
    pub fn received(&mut self, bytes: u64, total: Option<u64>, now: Instant) {
        let progress = self.progress.get_or_insert_with(TargetProgress::default);
        if self.last_growth.is_none() || bytes > progress.bytes {
            self.last_growth = Some(now);
        }
        progress.update(Phase::Write, bytes, total, now);
    }

    /// Records a retry from byte `at`, reported at `now`.
    pub fn retried(&mut self, at: u64, reason: String, now: Instant) {
        self.retries += 1;
        self.last_retry = Some((at, reason));
        self.retried_at = Some(now);
    }

    /// Where the download is at `now`: `None` when nothing is downloaded
    /// (an image file).
    pub fn status(&self, now: Instant) -> Option<DownloadStatus> {
        let p = self.progress.as_ref()?;
        let done = p.total == Some(p.bytes);
        let quiet = self
            .last_growth
            .map(|t| now.saturating_duration_since(t))
            .filter(|&d| d >= STALL_AFTER && !done);
        Some(DownloadStatus {
            bytes: p.bytes,
            total: p.total,
            rate: p.rate.filter(|_| quiet.is_none() && !done),
            waiting: quiet,
        })
    }

    /// The retry to tell at `now`: it clears once the download has gone on
    /// past it for [`RESUME_NOTICE_FOR`].
    pub fn resume_notice(&self, now: Instant) -> Option<&(u64, String)> {
        let retry = self.last_retry.as_ref()?;
        let bytes = self.progress.as_ref().map_or(0, |p| p.bytes);
        let settled = self
            .retried_at
            .is_some_and(|t| now.saturating_duration_since(t) >= RESUME_NOTICE_FOR);
        (!(settled && bytes > retry.0)).then_some(retry)
    }

    /// Seconds until the rest is downloaded at the current rate.
    pub fn seconds_left(&self, now: Instant) -> Option<f64> {
        let status = self.status(now)?;
        let rate = status.rate.filter(|&r| r > 0.0)?;
        Some(status.total?.saturating_sub(status.bytes) as f64 / rate)
    }
}

#[cfg(test)]
#[path = "download_tests.rs"]
mod tests;

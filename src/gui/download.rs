//! A run's download, when the image is at a URL: bytes received, a smoothed
//! rate, and the last retry, for the progress screen.

use std::time::Instant;

use crate::engine::Phase;

use super::progress::TargetProgress;

/// How the download of a run's image goes; empty for an image file.
#[derive(Debug, Clone, Default)]
pub struct DownloadProgress {
    /// Bytes, total and rate (the write phase's bookkeeping serves).
    progress: Option<TargetProgress>,
    /// The last retry: where it stopped and why.
    pub last_retry: Option<(u64, String)>,
    pub retries: u32,
}

impl DownloadProgress {
    /// Records a download event received at `now`.
    pub fn received(&mut self, bytes: u64, total: Option<u64>, now: Instant) {
        self.progress
            .get_or_insert_with(TargetProgress::default)
            .update(Phase::Write, bytes, total, now);
    }

    /// Records a retry from byte `at`.
    pub fn retried(&mut self, at: u64, reason: String) {
        self.retries += 1;
        self.last_retry = Some((at, reason));
    }

    /// Bytes received, the file's size when known, and the rate: `None`
    /// when nothing is downloaded (an image file).
    pub fn status(&self) -> Option<(u64, Option<u64>, Option<f64>)> {
        self.progress.as_ref().map(|p| (p.bytes, p.total, p.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_download_has_a_rate_and_counts_retries() {
        let mut download = DownloadProgress::default();
        assert!(download.status().is_none());
        let t0 = Instant::now();
        download.received(0, Some(1000), t0);
        download.received(500, Some(1000), t0 + Duration::from_secs(1));
        download.retried(500, "no data for 30 s".into());
        let (bytes, total, rate) = download.status().unwrap();
        assert_eq!((bytes, total), (500, Some(1000)));
        assert!((rate.unwrap() - 500.0).abs() < 1.0);
        assert_eq!(download.retries, 1);
    }
}

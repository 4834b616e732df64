//! One drive's progress during a run: phase, bytes, a smoothed rate and the
//! time left, and its result once it is done.

use std::time::Instant;

use crate::engine::{Ejected, Phase, TargetFailure};

/// How much a new rate sample counts: enough smoothing that the MB/s figure
/// does not flicker at ten events per second, while still following a
/// drive that slows down when its cache fills.
const RATE_WEIGHT: f64 = 0.2;

#[derive(Debug, Clone)]
pub struct TargetProgress {
    pub phase: Phase,
    pub bytes: u64,
    pub total: Option<u64>,
    /// Bytes per second, smoothed; `None` until two samples exist.
    pub rate: Option<f64>,
    last_sample: Option<(Instant, u64)>,
    pub result: Option<Result<(), TargetFailure>>,
    /// What the engine reported when the target was done: bytes written
    /// (the used ones, or all with "Write every byte") and read back.
    pub written_bytes: u64,
    pub verified_bytes: u64,
    /// The write phase's total, kept once verification starts (the
    /// overall bar counts both phases).
    pub write_total: Option<u64>,
    /// When verification began, and when the target was done: the result
    /// screen's elapsed time and average speed.
    pub verify_started: Option<Instant>,
    pub done_at: Option<Instant>,
    /// How the drive was left once it succeeded, when the run ejects.
    pub ejected: Option<Result<Ejected, String>>,
}

impl Default for TargetProgress {
    fn default() -> Self {
        TargetProgress {
            phase: Phase::Write,
            bytes: 0,
            total: None,
            rate: None,
            last_sample: None,
            result: None,
            written_bytes: 0,
            verified_bytes: 0,
            write_total: None,
            verify_started: None,
            done_at: None,
            ejected: None,
        }
    }
}

impl TargetProgress {
    /// Records a progress event received at `now`.
    pub fn update(&mut self, phase: Phase, bytes: u64, total: Option<u64>, now: Instant) {
        if phase != self.phase {
            if phase == Phase::Verify {
                self.write_total = self.write_total.or(self.total).or(Some(self.bytes));
                self.verify_started = Some(now);
            }
            // Verification reads at its own speed: start its rate afresh.
            self.phase = phase;
            self.rate = None;
            self.last_sample = None;
        }
        if let Some((then, then_bytes)) = self.last_sample {
            let seconds = now.duration_since(then).as_secs_f64();
            if seconds > 0.05 && bytes >= then_bytes {
                let sample = (bytes - then_bytes) as f64 / seconds;
                self.rate = Some(match self.rate {
                    Some(rate) => rate + RATE_WEIGHT * (sample - rate),
                    None => sample,
                });
                self.last_sample = Some((now, bytes));
            }
        } else {
            self.last_sample = Some((now, bytes));
        }
        self.bytes = bytes;
        self.total = total.or(self.total);
        if self.phase == Phase::Write {
            self.write_total = self.total;
        }
    }

    /// Done fraction of the current phase, when the total is known.
    pub fn fraction(&self) -> Option<f32> {
        let total = self.total.filter(|&t| t > 0)?;
        Some((self.bytes as f64 / total as f64).clamp(0.0, 1.0) as f32)
    }

    /// Seconds left in the current phase.
    pub fn seconds_left(&self) -> Option<f64> {
        let rate = self.rate.filter(|&r| r > 0.0)?;
        let total = self.total?;
        Some(total.saturating_sub(self.bytes) as f64 / rate)
    }

    pub fn is_done(&self) -> bool {
        self.result.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rate_and_time_left_follow_the_samples() {
        let start = Instant::now();
        let mut p = TargetProgress::default();
        p.update(Phase::Write, 0, Some(1_000_000_000), start);
        assert_eq!(p.rate, None);
        p.update(
            Phase::Write,
            100_000_000,
            None,
            start + Duration::from_secs(1),
        );
        assert_eq!(p.rate, Some(100_000_000.0));
        assert_eq!(p.fraction(), Some(0.1));
        assert_eq!(p.seconds_left(), Some(9.0));
        p.update(
            Phase::Verify,
            0,
            Some(1_000_000_000),
            start + Duration::from_secs(10),
        );
        assert_eq!(p.rate, None);
        assert_eq!(p.fraction(), Some(0.0));
    }
}

//! Time and speed of a run: the overall progress of every target and both
//! phases (writing, then verifying) with the time left for the whole run,
//! each target's elapsed time and average speed once it is done, and the
//! window title that shows the progress in the taskbar.

use std::time::Duration;

use super::progress::TargetProgress;
use super::state::{FlashRun, Outcome};
use crate::engine::Phase;

/// The run as one bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Overall {
    /// Done share of all the work (every target, writing and verifying);
    /// `None` while a target's size is unknown.
    pub fraction: Option<f32>,
    /// Seconds until the last target is done, verification included;
    /// `None` until every running target has a rate.
    pub seconds_left: Option<f64>,
}

/// Work of one target in bytes: (done, total), both phases counted.
fn work(p: &TargetProgress, verify: bool) -> Option<(f64, f64)> {
    let write = p.write_total? as f64;
    // Before verification starts its size is the written image's.
    let check = if verify {
        match p.phase {
            Phase::Verify => p.total.unwrap_or(p.write_total?) as f64,
            Phase::Write => write,
        }
    } else {
        0.0
    };
    let total = write + check;
    let done = match (&p.result, p.phase) {
        // A failed target stops counting: it is as done as it will get.
        (Some(_), _) => total,
        (None, Phase::Write) => p.bytes as f64,
        (None, Phase::Verify) => write + p.bytes as f64,
    };
    Some((done.min(total), total))
}

/// Seconds until `p` is done; verification is assumed to read at the
/// write rate until it has its own (reading is rarely slower).
fn seconds_left(p: &TargetProgress, verify: bool) -> Option<f64> {
    if p.result.is_some() {
        return Some(0.0);
    }
    let rate = p.rate.filter(|&r| r > 0.0)?;
    let left_here = p.total?.saturating_sub(p.bytes) as f64 / rate;
    let verify_after = match p.phase {
        Phase::Write if verify => p.total? as f64 / rate,
        _ => 0.0,
    };
    Some(left_here + verify_after)
}

pub(super) fn overall(run: &FlashRun) -> Overall {
    let mut done = 0.0;
    let mut total = 0.0;
    let mut known = true;
    let mut left: Option<f64> = Some(0.0);
    for target in &run.targets {
        match work(&target.progress, run.verify) {
            Some((d, t)) => {
                done += d;
                total += t;
            }
            None => known = target.progress.result.is_some() && known,
        }
        // Targets are written side by side: the slowest one decides.
        left = match (left, seconds_left(&target.progress, run.verify)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    Overall {
        fraction: (known && total > 0.0).then(|| (done / total).clamp(0.0, 1.0) as f32),
        seconds_left: left,
    }
}

/// How long a finished target took, and its average write speed (bytes
/// actually written per second of writing).
pub(super) fn target_timing(run: &FlashRun, p: &TargetProgress) -> Option<(Duration, Option<f64>)> {
    let start = run.started_at?;
    let done = p.done_at?;
    let elapsed = done.saturating_duration_since(start);
    let writing = p
        .verify_started
        .unwrap_or(done)
        .saturating_duration_since(start)
        .as_secs_f64();
    let speed = (p.written_bytes > 0 && writing > 0.0).then(|| p.written_bytes as f64 / writing);
    Some((elapsed, speed))
}

/// "0.4 s", "42 s", "3 min 5 s", "1 h 2 min".
pub(super) fn duration(d: Duration) -> String {
    let seconds = d.as_secs_f64();
    if seconds < 10.0 {
        return format!("{seconds:.1} s");
    }
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// The window's title: the progress while flashing (seen in the taskbar
/// and the window switcher), how it ended afterwards, else the app's name.
pub(super) fn window_title(flashing: Option<&FlashRun>, result: Option<&FlashRun>) -> String {
    if let Some(run) = flashing {
        if run.cancel_requested {
            return "Cancelling — Imprint".into();
        }
        return match overall(run).fraction {
            Some(f) if run.started() => format!("{:.0} % — Imprint", f * 100.0),
            _ => "Flashing — Imprint".into(),
        };
    }
    match result.map(FlashRun::outcome) {
        Some(Outcome::Complete) => "Flash complete — Imprint".into(),
        Some(Outcome::Cancelled) => "Flash cancelled — Imprint".into(),
        Some(Outcome::Partial) => "Flash partly failed — Imprint".into(),
        Some(Outcome::Failed) => "Flash failed — Imprint".into(),
        None => "Imprint".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::FlashEvent;
    use crate::gui::run_event::RunEvent;
    use std::time::Instant;

    fn progress(target: usize, phase: Phase, bytes: u64, total: u64) -> RunEvent {
        RunEvent::Flash(FlashEvent::Progress {
            target,
            phase,
            bytes,
            total: Some(total),
        })
    }

    #[test]
    fn the_overall_bar_counts_both_phases_and_the_slowest_drive() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut run = FlashRun::new(
            "a.img".into(),
            vec![("/a".into(), "a".into()), ("/b".into(), "b".into())],
        );
        run.apply(
            RunEvent::Flash(FlashEvent::Started {
                targets: vec![],
                size_hint: Some(100),
            }),
            at(0),
        );
        run.apply(progress(0, Phase::Write, 0, 100), at(0));
        run.apply(progress(1, Phase::Write, 0, 100), at(0));
        // A writes 50 bytes/s, B 25 bytes/s.
        run.apply(progress(0, Phase::Write, 50, 100), at(1));
        run.apply(progress(1, Phase::Write, 25, 100), at(1));
        let o = overall(&run);
        // 75 of 400 bytes of work (two drives, write and verify each).
        assert_eq!(o.fraction, Some(75.0 / 400.0));
        // B: 75 bytes left to write and 100 to verify at 25 bytes/s.
        assert_eq!(o.seconds_left, Some(7.0));
        assert_eq!(window_title(Some(&run), None), "19 % — Imprint");
        // A verifies: its write is counted whole.
        run.apply(progress(0, Phase::Verify, 0, 100), at(2));
        run.apply(progress(0, Phase::Verify, 40, 100), at(3));
        assert_eq!(overall(&run).fraction, Some((140.0 + 25.0) / 400.0));
        // Without verification the work halves.
        run.verify = false;
        assert_eq!(overall(&run).fraction, Some((100.0 + 25.0) / 200.0));
    }

    #[test]
    fn a_finished_target_has_its_time_and_speed() {
        let t0 = Instant::now();
        let mut run = FlashRun::new("a.img".into(), vec![("/a".into(), "a".into())]);
        run.apply(
            RunEvent::Flash(FlashEvent::Started {
                targets: vec![],
                size_hint: None,
            }),
            t0,
        );
        run.apply(progress(0, Phase::Write, 0, 100_000_000), t0);
        run.apply(
            progress(0, Phase::Verify, 0, 100_000_000),
            t0 + Duration::from_secs(4),
        );
        run.apply(
            RunEvent::Flash(FlashEvent::TargetDone {
                target: 0,
                result: Ok(()),
                sha256: None,
                written_bytes: 100_000_000,
                verified_bytes: 100_000_000,
                matched_bytes: 0,
            }),
            t0 + Duration::from_secs(6),
        );
        let (elapsed, speed) = target_timing(&run, &run.targets[0].progress).unwrap();
        assert_eq!(duration(elapsed), "6.0 s");
        assert_eq!(speed, Some(25_000_000.0));
        assert_eq!(duration(Duration::from_secs(185)), "3 min 5 s");
    }
}

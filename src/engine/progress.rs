//! Progress events, throttled to about ten per second and target: enough
//! for a smooth bar, few enough that a slow UI never falls behind.

use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::{FlashEvent, Phase};

const INTERVAL: Duration = Duration::from_millis(100);

pub(super) struct ProgressReporter<'a> {
    events: &'a Sender<FlashEvent>,
    target: usize,
    phase: Phase,
    total: Option<u64>,
    last_sent: Option<Instant>,
}

impl<'a> ProgressReporter<'a> {
    pub(super) fn new(
        events: &'a Sender<FlashEvent>,
        target: usize,
        phase: Phase,
        total: Option<u64>,
    ) -> Self {
        ProgressReporter {
            events,
            target,
            phase,
            total,
            last_sent: None,
        }
    }

    /// Reports `bytes` done, unless an event went out less than 100 ms ago.
    pub(super) fn update(&mut self, bytes: u64) {
        if self.last_sent.is_some_and(|t| t.elapsed() < INTERVAL) {
            return;
        }
        self.send(bytes);
    }

    /// Reports `bytes` done now (the phase's last event).
    pub(super) fn finish(&mut self, bytes: u64) {
        self.total = Some(bytes);
        self.send(bytes);
    }

    fn send(&mut self, bytes: u64) {
        self.last_sent = Some(Instant::now());
        let _ = self.events.send(FlashEvent::Progress {
            target: self.target,
            phase: self.phase,
            bytes,
            total: self.total,
        });
    }
}

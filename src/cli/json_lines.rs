//! `--json`: one JSON object per line on stdout, and nothing else there
//! (docs/architecture.md §5). Every line is a [`WireEvent`] built by
//! `protocol`; the GUI's privileged helper reads exactly these.

use std::io::{self, Write};

use super::sink::{EventSink, RunInfo};
use crate::engine::{FlashEvent, FlashReport, Refusal};
use crate::protocol::WireEvent;

pub(super) struct JsonLines {
    targets: Vec<String>,
}

impl JsonLines {
    pub(super) fn new() -> JsonLines {
        JsonLines {
            targets: Vec::new(),
        }
    }

    fn target_name(&self, index: usize) -> String {
        self.targets.get(index).cloned().unwrap_or_default()
    }
}

/// Prints `event` as one line and flushes, so a reading process sees each
/// event as it happens.
pub(super) fn emit(event: &WireEvent) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", event.to_line());
    let _ = out.flush();
}

/// `start.map`: what decides the bytes written.
fn map_name(info: &RunInfo<'_>) -> &'static str {
    if info.full {
        "full"
    } else if info.bmap.is_some() {
        "bmap"
    } else {
        "filesystems"
    }
}

impl EventSink for JsonLines {
    fn start(&mut self, info: &RunInfo<'_>) {
        self.targets = info.targets.clone();
        let mapped_bytes = if info.full { info.size } else { None };
        emit(
            &WireEvent::start(
                info.image.clone(),
                info.format.to_string(),
                info.size,
                info.targets.clone(),
                info.configured,
            )
            .with_map(map_name(info), mapped_bytes),
        );
    }

    fn event(&mut self, event: &FlashEvent) {
        if let Some(line) = WireEvent::from_flash(event, |target| self.target_name(target)) {
            emit(&line);
        }
    }

    fn finish(&mut self, _info: &RunInfo<'_>, report: &FlashReport) {
        emit(&WireEvent::done(report));
    }

    fn refused(&mut self, refusals: &[Refusal]) {
        for refusal in refusals {
            emit(&WireEvent::Refused {
                target: refusal.target.display().to_string(),
                error: refusal.reason.clone(),
            });
        }
    }
}

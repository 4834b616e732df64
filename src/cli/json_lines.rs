//! `--json`: one JSON object per line on stdout, and nothing else there
//! (docs/architecture.md §5). Every line is a [`WireEvent`]; the GUI's privileged
//! helper reads exactly these.

use std::io::{self, Write};

use super::sink::{EventSink, RunInfo};
use crate::engine::{FlashEvent, FlashReport, Refusal};
use crate::protocol::{WireBootPartition, WireEvent};

pub struct JsonLines {
    targets: Vec<String>,
}

impl JsonLines {
    pub fn new() -> JsonLines {
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
pub fn emit(event: &WireEvent) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", event.to_line());
    let _ = out.flush();
}

impl EventSink for JsonLines {
    fn start(&mut self, info: &RunInfo<'_>) {
        self.targets = info.targets.clone();
        let configured = info.configured;
        emit(&WireEvent::Start {
            image: info.image.clone(),
            format: info.format.to_string(),
            size: info.size,
            targets: info.targets.clone(),
            boot_partition: configured.map(|c| WireBootPartition {
                number: c.partition.number,
                label: c.partition.label.clone(),
                offset: c.partition.offset,
                size: c.partition.size_bytes,
            }),
            config_sha256: configured.map(|c| c.config_sha256.clone()),
            warnings: configured.map(|c| c.warnings.clone()).unwrap_or_default(),
            map: Some(if info.full { "full" } else { "filesystems" }.to_string()),
            mapped_bytes: if info.full { info.size } else { None },
        });
    }

    fn event(&mut self, event: &FlashEvent) {
        match event {
            FlashEvent::Started { .. } | FlashEvent::Done { .. } => {}
            FlashEvent::Progress {
                target,
                phase,
                bytes,
                total,
            } => emit(&WireEvent::Progress {
                target: self.target_name(*target),
                phase: *phase,
                bytes: *bytes,
                total: *total,
            }),
            FlashEvent::Ejected { target, result } => {
                emit(&WireEvent::ejected(self.target_name(*target), result))
            }
            FlashEvent::TargetDone {
                target,
                result,
                sha256,
                written_bytes,
                verified_bytes,
            } => emit(
                &WireEvent::target_done(self.target_name(*target), result, sha256.clone())
                    .with_bytes(*written_bytes, *verified_bytes),
            ),
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

//! `--json`: one JSON object per line on stdout, and nothing else there
//! (DESIGN.md §5). The GUI's privileged helper speaks exactly this.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::sink::{EventSink, RunInfo};
use crate::engine::{FlashEvent, FlashReport, Refusal};

pub struct JsonLines {
    targets: Vec<String>,
}

impl JsonLines {
    pub fn new() -> JsonLines {
        JsonLines {
            targets: Vec::new(),
        }
    }

    fn target_name(&self, index: usize) -> Value {
        self.targets
            .get(index)
            .map_or(Value::Null, |t| Value::String(t.clone()))
    }
}

/// Prints `value` as one line and flushes, so a reading process sees each
/// event as it happens.
pub fn emit(value: &Value) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

impl EventSink for JsonLines {
    fn start(&mut self, info: &RunInfo<'_>) {
        self.targets = info.targets.clone();
        let mut start = json!({
            "event": "start",
            "image": info.image,
            "format": info.format,
            "size": info.size,
            "targets": info.targets,
        });
        if let Some(configured) = info.configured {
            start["boot_partition"] = json!({
                "number": configured.partition.number,
                "label": configured.partition.label,
                "offset": configured.partition.offset,
                "size": configured.partition.size_bytes,
            });
            start["config_sha256"] = json!(configured.config_sha256);
            start["warnings"] = json!(configured.warnings);
            if let Some(first) = configured.warnings.first() {
                start["warning"] = json!(first);
            }
        }
        emit(&start);
    }

    fn event(&mut self, event: &FlashEvent) {
        match event {
            FlashEvent::Started { .. } => {}
            FlashEvent::Progress {
                target,
                phase,
                bytes,
                total,
            } => emit(&json!({
                "event": "progress",
                "target": self.target_name(*target),
                "phase": phase.name(),
                "bytes": bytes,
                "total": total,
            })),
            FlashEvent::TargetDone {
                target,
                result,
                sha256,
            } => {
                let (ok, error, offset) = match result {
                    Ok(()) => (true, None, None),
                    Err(failure) => (false, Some(failure.message.clone()), failure.offset),
                };
                emit(&json!({
                    "event": "target_done",
                    "target": self.target_name(*target),
                    "ok": ok,
                    "error": error,
                    "offset": offset,
                    "sha256": sha256,
                }));
            }
            FlashEvent::Done { .. } => {}
        }
    }

    fn finish(&mut self, _info: &RunInfo<'_>, report: &FlashReport) {
        emit(&json!({
            "event": "done",
            "ok": report.succeeded(),
            "failed": report.failed(),
            "image_sha256": report.image_sha256,
            "image_bytes": report.image_bytes,
        }));
    }

    fn refused(&mut self, refusals: &[Refusal]) {
        for refusal in refusals {
            emit(&json!({
                "event": "refused",
                "target": refusal.target.display().to_string(),
                "error": refusal.reason,
            }));
        }
    }
}

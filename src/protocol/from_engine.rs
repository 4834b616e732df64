//! Engine → wire: the [`WireEvent`]s the front ends print for the engine's
//! events, its report and a configuration's boot partition. The one place
//! these are built, so `--json`, `imprint station --json` and `configure
//! --json` say the same thing the same way (docs/architecture.md §5).

use super::wire::{
    EjectOutcome, ErrorKind, Outcome, WireBootPartition, WireCustomisation, WireEvent,
};
use crate::bootcfg::{BootPartition, Configured, Customisation};
use crate::engine::{Ejected, FailureKind, FlashEvent, FlashReport, TargetFailure};

impl From<&BootPartition> for WireBootPartition {
    fn from(partition: &BootPartition) -> WireBootPartition {
        WireBootPartition {
            number: partition.number,
            label: partition.label.clone(),
            offset: partition.offset,
            size: partition.size_bytes,
        }
    }
}

impl From<&Customisation> for WireCustomisation {
    fn from(customisation: &Customisation) -> WireCustomisation {
        WireCustomisation {
            format: customisation.format.clone(),
            evidence: customisation.evidence.clone(),
            files: customisation.files.clone(),
        }
    }
}

impl WireEvent {
    /// The line of an engine event; `name` gives a target number's name.
    ///
    /// `started` and `done` have none: the front end writes `start` and
    /// `done` from what it knows of the whole run ([`WireEvent::start`],
    /// [`WireEvent::done`]), which is more than these events carry.
    pub fn from_flash(event: &FlashEvent, name: impl Fn(usize) -> String) -> Option<WireEvent> {
        Some(match event {
            FlashEvent::Started { .. } | FlashEvent::Done { .. } => return None,
            FlashEvent::Downloaded { sha256 } => WireEvent::Downloaded {
                sha256: sha256.clone(),
            },
            FlashEvent::Download { bytes, total } => WireEvent::Download {
                bytes: *bytes,
                total: *total,
            },
            FlashEvent::Retry {
                attempt,
                at,
                reason,
            } => WireEvent::Retry {
                attempt: *attempt,
                at: *at,
                reason: reason.clone(),
            },
            FlashEvent::Progress {
                target,
                phase,
                bytes,
                total,
            } => WireEvent::Progress {
                target: name(*target),
                phase: *phase,
                bytes: *bytes,
                total: *total,
                drive: None,
            },
            FlashEvent::Ejected { target, result } => WireEvent::ejected(name(*target), result),
            FlashEvent::Probed { target, verdict } => WireEvent::Probe {
                target: name(*target),
                verdict: verdict.words(),
                real_bytes: verdict.real_bytes(),
                drive: None,
            },
            FlashEvent::TargetDone {
                target,
                result,
                sha256,
                written_bytes,
                verified_bytes,
                matched_bytes,
            } => WireEvent::target_done(name(*target), result, sha256.clone())
                .with_bytes(*written_bytes, *verified_bytes)
                .with_matched(*matched_bytes),
        })
    }

    /// The `start` of a run of `image` on `targets`, with the boot partition
    /// `configured` went into; no `map` (see [`WireEvent::with_map`]).
    pub fn start(
        image: String,
        format: String,
        size: Option<u64>,
        targets: Vec<String>,
        configured: Option<&Configured>,
    ) -> WireEvent {
        WireEvent::Start {
            image,
            format,
            size,
            targets,
            boot_partition: configured.map(|c| WireBootPartition::from(&c.partition)),
            config_sha256: configured.map(|c| c.config_sha256.clone()),
            warnings: configured.map(|c| c.warnings.clone()).unwrap_or_default(),
            customisation: configured
                .and_then(|c| c.customisation.as_ref())
                .map(|c| Box::new(WireCustomisation::from(c))),
            map: None,
            mapped_bytes: None,
        }
    }

    /// This `start` with what decides the bytes written, and their count
    /// when known before the run.
    pub fn with_map(mut self, name: &str, bytes: Option<u64>) -> WireEvent {
        if let WireEvent::Start {
            map, mapped_bytes, ..
        } = &mut self
        {
            *map = Some(name.to_string());
            *mapped_bytes = bytes;
        }
        self
    }

    /// The `ejected` of `target` with the engine's `result`.
    pub fn ejected(target: String, result: &Result<Ejected, String>) -> WireEvent {
        let (outcome, error) = match result {
            Ok(Ejected::PoweredOff) => (EjectOutcome::PoweredOff, None),
            Ok(Ejected::Flushed) => (EjectOutcome::Flushed, None),
            Err(e) => (EjectOutcome::Failed, Some(e.clone())),
        };
        WireEvent::Ejected {
            target,
            outcome,
            error,
        }
    }

    /// The `target_done` of `target` with `result`.
    pub fn target_done(
        target: String,
        result: &Result<(), TargetFailure>,
        sha256: Option<String>,
    ) -> WireEvent {
        let (outcome, failure) = match result {
            Ok(()) => (Outcome::Ok, None),
            Err(failure) if failure.kind == FailureKind::Cancelled => {
                (Outcome::Cancelled, Some(failure))
            }
            Err(failure) => (Outcome::Failed, Some(failure)),
        };
        WireEvent::TargetDone {
            target,
            ok: failure.is_none(),
            outcome,
            kind: failure.map(|f| f.kind),
            error: failure.map(|f| f.message.clone()),
            offset: failure.and_then(|f| f.offset),
            sha256,
            written_bytes: None,
            verified_bytes: None,
            matched_bytes: None,
            drive: None,
        }
    }

    /// This `target_done` with the bytes the target already held.
    pub fn with_matched(mut self, matched: u64) -> WireEvent {
        if let WireEvent::TargetDone { matched_bytes, .. } = &mut self {
            *matched_bytes = Some(matched);
        }
        self
    }

    /// This `target_done` with the bytes written and verified.
    pub fn with_bytes(mut self, written: u64, verified: u64) -> WireEvent {
        if let WireEvent::TargetDone {
            written_bytes,
            verified_bytes,
            ..
        } = &mut self
        {
            *written_bytes = Some(written);
            *verified_bytes = Some(verified);
        }
        self
    }

    /// This `progress` or `target_done` with the station's id of its drive.
    pub fn with_drive(mut self, id: &str) -> WireEvent {
        if let WireEvent::Progress { drive, .. }
        | WireEvent::TargetDone { drive, .. }
        | WireEvent::Probe { drive, .. } = &mut self
        {
            *drive = Some(id.to_string());
        }
        self
    }

    /// The `done` of a flash or verify run.
    pub fn done(report: &FlashReport) -> WireEvent {
        WireEvent::Done {
            ok: report.succeeded(),
            failed: report.failed(),
            image_sha256: report.image_sha256.clone(),
            image_bytes: report.image_bytes,
            output: None,
            boot_partition: None,
            config_sha256: None,
            warnings: Vec::new(),
            customisation: None,
        }
    }

    /// The `error` event of `kind`.
    pub fn error(kind: ErrorKind, message: impl Into<String>) -> WireEvent {
        WireEvent::Error {
            kind,
            error: message.into(),
        }
    }
}

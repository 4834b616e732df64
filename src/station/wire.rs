//! A station's events as the JSON-lines protocol's `WireEvent`s: what
//! `imprint station --json` prints and what the app's Station view reads,
//! whether the station runs in the app or in its privileged helper. The
//! station's own events are built here, since `protocol` sits below
//! `station` (docs/architecture.md §1); its flash events go through
//! `protocol`'s translation (§5).

use super::StationEvent;
use crate::engine::FlashEvent;
use crate::protocol::{ErrorKind, Outcome, WireEvent};

impl StationEvent {
    /// The protocol lines of this event; a warning (a report line that
    /// could not be written) is an `error` event of kind `report`, which
    /// stops nothing.
    pub(crate) fn to_wire(&self) -> Vec<WireEvent> {
        let path = |drive: &super::SeenDrive| drive.path().display().to_string();
        match self {
            StationEvent::Started { present } => present
                .iter()
                .map(|(drive, reason)| WireEvent::Skipped {
                    drive: drive.id.clone(),
                    path: path(drive),
                    reason: reason.clone(),
                })
                .collect(),
            StationEvent::Inserted(drive) => vec![WireEvent::Inserted {
                drive: drive.id.clone(),
                path: path(drive),
                size: drive.drive.size_bytes,
                serial: drive.drive.serial.clone(),
                model: drive.drive.model.clone(),
            }],
            StationEvent::Skipped { drive, reason } => vec![WireEvent::Skipped {
                drive: drive.id.clone(),
                path: path(drive),
                reason: reason.clone(),
            }],
            StationEvent::Removed(drive) => vec![WireEvent::Removed {
                drive: drive.id.clone(),
                path: path(drive),
            }],
            StationEvent::Flashing { drive, identity } => vec![WireEvent::Flashing {
                drive: drive.id.clone(),
                path: path(drive),
                n: identity.as_ref().map(|i| i.n),
                row: identity.as_ref().and_then(|i| i.row),
                uuid: identity.as_ref().and_then(|i| i.uuid.clone()),
                hostname: identity.as_ref().and_then(|i| i.hostname.clone()),
            }],
            // Progress and ejection as `flash --json` says them
            // (`protocol`), with the drive's id; the record says everything
            // a `target_done` says, also for a drive that failed before its
            // run began.
            StationEvent::Flash { drive, event } => match event {
                FlashEvent::Progress { .. }
                | FlashEvent::Ejected { .. }
                | FlashEvent::Probed { .. } => WireEvent::from_flash(event, |_| path(drive))
                    .map(|line| line.with_drive(&drive.id))
                    .into_iter()
                    .collect(),
                FlashEvent::Started { .. }
                | FlashEvent::TargetDone { .. }
                | FlashEvent::Download { .. }
                | FlashEvent::Downloaded { .. }
                | FlashEvent::Retry { .. }
                | FlashEvent::Done { .. } => Vec::new(),
            },
            StationEvent::Warning(message) => {
                vec![WireEvent::error(ErrorKind::Report, message.clone())]
            }
            StationEvent::Finished { drive, record } => vec![WireEvent::TargetDone {
                target: path(drive),
                ok: record.result == Outcome::Ok,
                outcome: record.result,
                kind: record.kind,
                error: record.error.clone(),
                offset: record.offset,
                sha256: record.sha256.clone(),
                written_bytes: Some(record.written_bytes),
                verified_bytes: Some(record.verified_bytes),
                matched_bytes: None,
                drive: Some(drive.id.clone()),
            }],
        }
    }
}

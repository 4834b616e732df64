//! One drive of a station: its configuration, its own run from the image
//! every drive shares (`engine::SharedImage`: decoded once, joined at any
//! time), its events tagged with the drive, and its report record.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

use crossbeam_channel::Sender;

use super::{SeenDrive, StationEvent};
use crate::bootcfg::{self, Configured, WifiProfile};
use crate::engine::{
    FailureKind, FlashEvent, OneTarget, SharedImage, TargetFailure, TargetOutcome,
};
use crate::identity::DriveIdentity;
use crate::protocol::Outcome;
use crate::report::{Claim, DriveRecord, Marker, Release, mb_per_s, rfc3339};
use crate::source::ImageSource;

/// What every drive of a station shares.
pub struct Shared {
    pub source: ImageSource,
    /// The image, decoded once for every drive.
    pub image: SharedImage,
    /// The one configuration of every drive, when there are no per-drive
    /// identities.
    pub configured: Option<Configured>,
    /// Written beside each drive's own config.json.
    pub wifi: Option<WifiProfile>,
    pub verify: bool,
    pub full: bool,
    pub expected_sha256: Option<String>,
    /// Eject each drive that succeeded (the station's default).
    pub eject: bool,
}

/// The configuration of a drive with `identity` (or the shared one).
pub fn configure(
    shared: &Shared,
    identity: Option<&DriveIdentity>,
) -> Result<Option<Configured>, bootcfg::BootConfigError> {
    match identity {
        Some(identity) => {
            crate::identity::configure(&shared.source, identity, shared.wifi.as_ref()).map(Some)
        }
        None => Ok(shared.configured.clone()),
    }
}

/// Flashes `seen` alone and returns its record; its events go to `events`
/// as they happen. Never panics on a drive's failure: a failing drive is a
/// record, and never affects another.
pub fn flash_drive(
    shared: &Shared,
    seen: &SeenDrive,
    identity: Option<&DriveIdentity>,
    events: &Sender<StationEvent>,
    cancel: &AtomicBool,
) -> DriveRecord {
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut record = new_record(
        shared.source.path(),
        seen.path(),
        Some(seen),
        identity,
        started,
    );
    let fail = failed;
    let configured = match configure(shared, identity) {
        Ok(configured) => configured,
        Err(e) => {
            let failure = TargetFailure {
                kind: FailureKind::Source,
                offset: None,
                message: format!(
                    "configuring the image for {} failed: {e}",
                    seen.path().display()
                ),
            };
            return fail(record, failure);
        }
    };
    record.config_sha256 = configured.as_ref().map(|c| c.config_sha256.clone());
    let info = match shared.image.check(seen.path()) {
        Ok(info) => info,
        Err(refusal) => {
            let failure = TargetFailure {
                kind: FailureKind::Write,
                offset: None,
                message: format!("{} was refused: {}", seen.path().display(), refusal.reason),
            };
            return fail(record, failure);
        }
    };
    let (tx, rx) = crossbeam_channel::unbounded();
    let outcome = std::thread::scope(|s| {
        // Passes the drive's events on as they come, tagged with it.
        s.spawn(|| {
            for event in rx {
                if let FlashEvent::TargetDone { sha256, .. } = &event {
                    record.sha256 = sha256.clone();
                }
                // The front end may have gone; the drive goes on regardless.
                let _ = events.send(StationEvent::Flash {
                    drive: seen.clone(),
                    event,
                });
            }
        });
        let target = OneTarget {
            index: 0,
            info,
            patch: configured.as_ref().map(|c| &c.patch),
            verify: shared.verify,
            expected_sha256: shared.expected_sha256.clone(),
        };
        let outcome = shared.image.flash_one(target, &tx, cancel);
        if outcome.result.is_ok() && shared.eject {
            let _ = tx.send(FlashEvent::Ejected {
                target: 0,
                result: crate::request::eject(seen.path()),
            });
        }
        drop(tx);
        outcome
    });
    if outcome.result.is_ok() {
        // Every byte was read for this drive: the decode is done.
        record.image_sha256 = shared.image.result().1;
    }
    complete(
        record,
        &outcome,
        clock.elapsed().as_secs_f64(),
        SystemTime::now(),
    )
}

/// The record of a drive about to be flashed (`seen`: what the station
/// or the drive list knows of it; `None` for a file target): result ok
/// until it fails.
pub fn new_record(
    image: &Path,
    path: &Path,
    seen: Option<&SeenDrive>,
    identity: Option<&DriveIdentity>,
    started: SystemTime,
) -> DriveRecord {
    let drive = seen.map(|s| &s.drive);
    DriveRecord {
        started: rfc3339(started),
        finished: rfc3339(started),
        drive: seen.map(|s| s.id.clone()),
        path: path.display().to_string(),
        serial: drive.and_then(|d| d.serial.clone()),
        vendor: drive.and_then(|d| d.vendor.clone()),
        model: drive.and_then(|d| d.model.clone()),
        size: drive.map(|d| d.size_bytes),
        backing_file: seen
            .and_then(|s| s.media.backing_file.as_ref())
            .map(|f| f.display().to_string()),
        image: image.display().to_string(),
        image_sha256: None,
        sha256: None,
        config_sha256: None,
        n: identity.map(|i| i.n),
        row: identity.and_then(|i| i.row),
        uuid: identity.and_then(|i| i.uuid.clone()),
        hostname: identity.and_then(|i| i.hostname.clone()),
        row_sha256: identity.and_then(|i| i.row_sha256.clone()),
        claim: identity.map(|i| i.claim.clone()),
        written_bytes: 0,
        verified_bytes: 0,
        mb_per_s: None,
        result: Outcome::Ok,
        kind: None,
        error: None,
        offset: None,
    }
}

/// The claim on `identity` of a drive at `path` about to be written: the
/// report line that keeps its row from any other run (`report::Claim`).
pub fn claim(identity: &DriveIdentity, path: &Path, seen: Option<&SeenDrive>) -> Marker {
    Marker::Claim(Claim {
        claim: identity.claim.clone(),
        at: rfc3339(SystemTime::now()),
        path: path.display().to_string(),
        drive: seen.map(|s| s.id.clone()),
        n: identity.n,
        row: identity.row,
        row_sha256: identity.row_sha256.clone(),
        uuid: identity.uuid.clone(),
        hostname: identity.hostname.clone(),
    })
}

/// The release of the claim on `identity`: nothing was written, `reason`.
pub fn release(identity: &DriveIdentity, reason: &str) -> Marker {
    Marker::Release(Release {
        claim: identity.claim.clone(),
        at: rfc3339(SystemTime::now()),
        reason: reason.to_string(),
    })
}

/// `record` with its target's outcome, `seconds` after it started.
pub fn complete(
    mut record: DriveRecord,
    outcome: &TargetOutcome,
    seconds: f64,
    finished: SystemTime,
) -> DriveRecord {
    record.written_bytes = outcome.written_bytes;
    record.verified_bytes = outcome.verified_bytes;
    record.mb_per_s = mb_per_s(outcome.written_bytes, seconds);
    record.finished = rfc3339(finished);
    match &outcome.result {
        Ok(()) => record,
        Err(failure) => failed(record, failure.clone()),
    }
}

/// `record` failed with `failure`, now.
fn failed(mut record: DriveRecord, failure: TargetFailure) -> DriveRecord {
    record.finished = rfc3339(SystemTime::now());
    record.result = if failure.kind == FailureKind::Cancelled {
        Outcome::Cancelled
    } else {
        Outcome::Failed
    };
    record.kind = Some(failure.kind);
    record.error = Some(failure.message);
    record.offset = failure.offset;
    record
}

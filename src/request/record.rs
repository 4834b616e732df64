//! A drive's report record and the claim on its identity: made the same
//! way by `flash --report` and the station (docs/architecture.md §10).

use std::path::Path;
use std::time::SystemTime;

use super::SeenDrive;
use crate::engine::{FailureKind, TargetFailure, TargetOutcome};
use crate::identity::DriveIdentity;
use crate::protocol::Outcome;
use crate::report::{Claim, DriveRecord, Marker, Release, mb_per_s, rfc3339};

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
        probe: None,
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
pub fn failed(mut record: DriveRecord, failure: TargetFailure) -> DriveRecord {
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

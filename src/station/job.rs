//! One drive of a station: its configuration, its own run from the image
//! every drive shares (`engine::SharedImage`: decoded once, joined at any
//! time), its events tagged with the drive, and its report record.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use crossbeam_channel::Sender;

use super::{SeenDrive, StationEvent};
use crate::bootcfg::{Configured, WifiProfile};
use crate::engine::{
    FailureKind, FlashEvent, OneTarget, SharedImage, TargetFailure, TargetOutcome,
};
use crate::identity::DriveIdentity;
use crate::report::DriveRecord;
use crate::request::per_drive::{self, PerDriveError};
use crate::request::{CustomisePlan, Written, complete, failed, new_record, seal_drive};
use crate::sign::SecretKey;
use crate::source::ImageSource;
use crate::target::TargetInfo;

/// What every drive of a station shares.
pub(crate) struct Shared {
    pub source: ImageSource,
    /// The image, decoded once for every drive.
    pub image: SharedImage,
    /// The one configuration of every drive, when there are no per-drive
    /// identities.
    pub configured: Option<Configured>,
    /// Written beside each drive's own config.json.
    pub wifi: Option<WifiProfile>,
    /// The customisation (hostname, user, SSH…), for the drives that get
    /// their own (`{n}`, `{serial}`, an identity's row).
    pub customise: Option<CustomisePlan>,
    /// A `--config` template made the identities' config.json.
    pub template: bool,
    /// Drives started so far: the next one's `{n}`.
    pub drives_started: AtomicU64,
    pub verify: bool,
    pub expected_sha256: Option<String>,
    /// Eject each drive that succeeded (the station's default).
    pub eject: bool,
    /// A bmap's ranges (written whatever the drive's map says) and
    /// `--full`: what a signed record's ranges cover.
    pub bmap_ranges: Vec<Range<u64>>,
    pub full: bool,
    /// `--sign KEY`: each drive's record sealed as `flash` seals it.
    pub signer: Option<Signer>,
    /// The counterfeit probe of each drive.
    pub probe: crate::target::probe::ProbeMode,
}

/// The key each record is signed with, and the report it goes beside.
pub(crate) struct Signer {
    pub key: SecretKey,
    pub report: PathBuf,
}

/// The configuration of a drive with `identity` (or the shared one): the
/// same rule as `flash`'s drives (`per_drive::own_configuration`); without
/// an identity, `{n}` is the drive's number in the order the station
/// started them.
pub(super) fn configure(
    shared: &Shared,
    seen: &SeenDrive,
    identity: Option<&DriveIdentity>,
) -> Result<Option<Configured>, PerDriveError> {
    let n = shared.drives_started.fetch_add(1, Ordering::Relaxed) + 1;
    let own = per_drive::own_configuration(
        &shared.source,
        shared.customise.as_ref(),
        identity,
        shared.template,
        shared.wifi.as_ref(),
        n,
        &seen.serial_text(),
    )?;
    Ok(own.or_else(|| shared.configured.clone()))
}

/// Flashes `seen` alone and returns its record; its events go to `events`
/// as they happen. Never panics on a drive's failure: a failing drive is a
/// record, and never affects another.
pub(super) fn flash_drive(
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
    let (configured, info) = match prepare_drive(shared, seen, identity) {
        Ok(prepared) => prepared,
        Err(failure) => return failed(record, failure),
    };
    record.config_sha256 = configured.as_ref().map(|c| c.config_sha256.clone());
    let target = OneTarget {
        index: 0,
        info,
        patch: configured.as_ref().map(|c| &c.patch),
        verify: shared.verify,
        expected_sha256: shared.expected_sha256.clone(),
        probe: shared.probe,
    };
    let outcome = run_drive(shared, seen, target, &mut record, events, cancel);
    if outcome.result.is_ok() {
        // Every byte was read for this drive: the decode is done.
        record.image_sha256 = shared.image.result().1;
    }
    let mut record = complete(
        record,
        &outcome,
        clock.elapsed().as_secs_f64(),
        SystemTime::now(),
    );
    if let Some(signer) = &shared.signer {
        sign(shared, signer, configured.as_ref(), &mut record, events);
    }
    record
}

/// Seals `record` on the drive's own thread (the read-back takes as long
/// as the verification, and no other drive waits for it), the same way
/// `flash --report --sign` does. A record left unsigned is a warning here
/// and a failed report for the station's exit code.
fn sign(
    shared: &Shared,
    signer: &Signer,
    configured: Option<&Configured>,
    record: &mut DriveRecord,
    events: &Sender<StationEvent>,
) {
    let mut forced = shared.bmap_ranges.clone();
    forced.extend(configured.map(|c| c.patch.range()));
    let written = Written {
        image_bytes: shared.image.result().0,
        forced,
        full: shared.full,
    };
    if let Err(message) = seal_drive(record, &written, &signer.report, &signer.key) {
        let _ = events.send(StationEvent::Warning(message));
    }
}

/// The drive's configuration, and the drive checked again just before it
/// is written; a failure is the drive's record.
fn prepare_drive(
    shared: &Shared,
    seen: &SeenDrive,
    identity: Option<&DriveIdentity>,
) -> Result<(Option<Configured>, TargetInfo), TargetFailure> {
    let configured = configure(shared, seen, identity).map_err(|e| TargetFailure {
        kind: FailureKind::Source,
        offset: None,
        message: format!(
            "configuring the image for {} failed: {e}",
            seen.path().display()
        ),
    })?;
    let info = shared
        .image
        .check(seen.path())
        .map_err(|refusal| TargetFailure {
            kind: FailureKind::Write,
            offset: None,
            message: format!("{} was refused: {}", seen.path().display(), refusal.reason),
        })?;
    Ok((configured, info))
}

/// Writes `target` from the shared decode (and ejects it when it is ok and
/// the station ejects); the drive's events go to `events` tagged with it
/// as they come, and its SHA-256 into `record`.
fn run_drive(
    shared: &Shared,
    seen: &SeenDrive,
    target: OneTarget<'_>,
    record: &mut DriveRecord,
    events: &Sender<StationEvent>,
    cancel: &AtomicBool,
) -> TargetOutcome {
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::scope(|s| {
        // Passes the drive's events on as they come, tagged with it.
        s.spawn(|| {
            for event in rx {
                if let FlashEvent::TargetDone { sha256, .. } = &event {
                    record.sha256 = sha256.clone();
                }
                if let FlashEvent::Probed { verdict, .. } = &event {
                    record.probe = Some(verdict.words());
                }
                // The front end may have gone; the drive goes on regardless.
                let _ = events.send(StationEvent::Flash {
                    drive: seen.clone(),
                    event,
                });
            }
        });
        let outcome = shared.image.flash_one(target, &tx, cancel);
        if outcome.result.is_ok() && shared.eject {
            let _ = tx.send(FlashEvent::Ejected {
                target: 0,
                result: crate::request::eject(seen.path()),
            });
        }
        drop(tx);
        outcome
    })
}

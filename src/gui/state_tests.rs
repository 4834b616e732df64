//! Tests of the app's plain-data state machine (`state`): availability, selection, runs.

use super::*;
use crate::drives::Bus;
use crate::engine::Phase;

fn drive(path: &str, size_bytes: u64) -> Drive {
    Drive {
        path: path.into(),
        size_bytes,
        vendor: None,
        model: None,
        serial: None,
        bus: Bus::Usb,
        removable: true,
        read_only: false,
        partitions: Vec::new(),
        mount_points: Vec::new(),
        system: None,
    }
}

#[test]
fn unsafe_and_small_drives_cannot_be_chosen() {
    let mut system = drive("/dev/sda", 500_000_000_000);
    system.system = Some("holds /".into());
    assert!(
        matches!(availability(&system, None), Availability::Blocked(r) if r.contains("holds /"))
    );
    let mut locked = drive("/dev/sdb", 8_000_000_000);
    locked.read_only = true;
    assert!(matches!(
        availability(&locked, None),
        Availability::Blocked(_)
    ));
    let small = drive("/dev/sdc", 1_000_000);
    assert!(
        matches!(availability(&small, Some(2_000_000)), Availability::Blocked(r) if r.contains("2.0 MB"))
    );
    assert_eq!(availability(&small, None), Availability::Selectable);
    let big = drive("/dev/sdd", 256_000_000_000);
    assert_eq!(
        availability(&big, Some(2_000_000)),
        Availability::NeedsConfirmation
    );
}

#[test]
fn selection_forgets_drives_that_left() {
    let mut selection = Selection::default();
    selection.add(Path::new("/dev/sdb"));
    selection.add(Path::new("/dev/sdc"));
    selection.add(Path::new("/dev/sdb"));
    assert_eq!(selection.targets().len(), 2);
    selection.retain_available(&[drive("/dev/sdc", 8_000_000_000)], None);
    assert_eq!(selection.targets(), [PathBuf::from("/dev/sdc")]);
}

#[test]
fn image_files_stay_selected_whatever_the_drives() {
    let mut selection = Selection::default();
    selection.add(Path::new("/dev/sdb"));
    selection.add_file(Path::new("/home/u/out.img"));
    assert_eq!(selection.counts(), (1, 1));
    selection.retain_available(&[], Some(u64::MAX));
    assert_eq!(selection.targets(), [PathBuf::from("/home/u/out.img")]);
    // Unticked, the file is still offered; removed, it is gone.
    selection.remove(Path::new("/home/u/out.img"));
    assert!(selection.is_empty());
    assert!(selection.is_file(Path::new("/home/u/out.img")));
    selection.add(Path::new("/home/u/out.img"));
    selection.remove_file(Path::new("/home/u/out.img"));
    assert!(selection.is_empty());
    assert!(selection.files().is_empty());
}

#[test]
fn a_failing_drive_fails_alone() {
    let now = Instant::now();
    let mut run = FlashRun::new(
        "a.img".into(),
        vec![
            ("/dev/sdb".into(), "b".into()),
            ("/dev/sdc".into(), "c".into()),
        ],
    );
    run.apply(
        RunEvent::Flash(FlashEvent::Started {
            targets: vec![],
            size_hint: Some(10),
        }),
        now,
    );
    run.apply(
        RunEvent::Flash(FlashEvent::Progress {
            target: 1,
            phase: Phase::Write,
            bytes: 5,
            total: Some(10),
        }),
        now,
    );
    run.apply(
        RunEvent::Flash(FlashEvent::TargetDone {
            target: 0,
            result: Err(TargetFailure {
                kind: FailureKind::Write,
                offset: Some(0),
                message: "gone".into(),
            }),
            sha256: None,
            written_bytes: 0,
            verified_bytes: 0,
            matched_bytes: 0,
        }),
        now,
    );
    run.apply(
        RunEvent::Flash(FlashEvent::TargetDone {
            target: 1,
            result: Ok(()),
            sha256: None,
            written_bytes: 0,
            verified_bytes: 0,
            matched_bytes: 0,
        }),
        now,
    );
    run.apply(
        RunEvent::Flash(FlashEvent::Done {
            image_sha256: Some("ab".into()),
            image_bytes: Some(10),
        }),
        now,
    );
    run.apply(RunEvent::Finished, now);
    assert_eq!(run.succeeded(), 1);
    assert_eq!(run.image_sha256.as_deref(), Some("ab"));
    assert_eq!(run.ended_before_start(), None);
}

#[test]
fn a_run_that_never_started_goes_back_with_its_reason() {
    let mut run = FlashRun::new("a.img".into(), vec![("/dev/sdb".into(), "b".into())]);
    run.apply(
        RunEvent::Failed("Authorisation was cancelled".into()),
        Instant::now(),
    );
    run.apply(RunEvent::Finished, Instant::now());
    assert_eq!(
        run.ended_before_start().map(|p| p.title).as_deref(),
        Some("Authorisation was cancelled")
    );
    assert!(matches!(run.targets[0].progress.result, Some(Err(_))));
}

#[test]
fn a_stop_by_the_user_is_cancelled_not_failed() {
    let cancelled = |message: &str| {
        Err(TargetFailure {
            kind: FailureKind::Cancelled,
            offset: None,
            message: message.into(),
        })
    };
    let mut run = FlashRun::new(
        "a.img".into(),
        vec![
            ("/dev/sdb".into(), "b".into()),
            ("/dev/sdc".into(), "c".into()),
        ],
    );
    run.targets[0].progress.result = Some(Ok(()));
    run.targets[1].progress.result = Some(cancelled("stopped"));
    assert_eq!(run.outcome(), Outcome::Partial, "no stop was asked for");
    run.cancel_requested = true;
    assert_eq!(run.outcome(), Outcome::Cancelled);
    assert_eq!(run.failed_targets(), [PathBuf::from("/dev/sdc")]);
    // A drive that failed on its own is a failure even after a stop.
    run.targets[0].progress.result = Some(Err(TargetFailure {
        kind: FailureKind::Write,
        offset: None,
        message: "gone".into(),
    }));
    assert_eq!(run.outcome(), Outcome::Failed);
    run.targets[0].progress.result = Some(Ok(()));
    run.targets[1].progress.result = Some(Ok(()));
    assert_eq!(run.outcome(), Outcome::Complete);
    assert!(run.failed_targets().is_empty());
}

//! Engine → wire → line → wire → engine gives back every engine event, and
//! the lines a flash run refuses with become the reader's refusals
//! (docs/architecture.md §5).

use super::*;
use crate::engine::{Ejected, FailureKind, FlashEvent, FlashReport, Phase, TargetFailure};
use crate::target::probe::Verdict;

const TARGETS: [&str; 2] = ["/dev/sdb", "/tmp/t.img"];

/// The number of `FlashEvent` variants: [`variant`] names each.
const VARIANTS: usize = 9;

/// A number per variant. No `_ =>` arm: a new variant does not compile
/// until it is named here, and fails [`every_flash_event_survives_the_wire`]
/// until [`every_flash_event`] has one.
fn variant(event: &FlashEvent) -> usize {
    match event {
        FlashEvent::Started { .. } => 0,
        FlashEvent::Progress { .. } => 1,
        FlashEvent::TargetDone { .. } => 2,
        FlashEvent::Ejected { .. } => 3,
        FlashEvent::Download { .. } => 4,
        FlashEvent::Retry { .. } => 5,
        FlashEvent::Done { .. } => 6,
        FlashEvent::Probed { .. } => 7,
        FlashEvent::Downloaded { .. } => 8,
    }
}

/// Every failure kind, also with no exhaustive list in the engine.
fn failure_kinds() -> Vec<FailureKind> {
    let kinds = vec![
        FailureKind::Write,
        FailureKind::Verify,
        FailureKind::Source,
        FailureKind::Download,
        FailureKind::TooSmall,
        FailureKind::Cancelled,
        FailureKind::Checksum,
        FailureKind::Fake,
    ];
    for kind in &kinds {
        // No `_ =>`: a new kind does not compile until it is listed above.
        match kind {
            FailureKind::Write
            | FailureKind::Verify
            | FailureKind::Source
            | FailureKind::Download
            | FailureKind::TooSmall
            | FailureKind::Cancelled
            | FailureKind::Checksum
            | FailureKind::Fake => {}
        }
    }
    kinds
}

fn every_flash_event() -> Vec<FlashEvent> {
    let mut events = vec![
        FlashEvent::Started {
            targets: TARGETS.iter().map(|t| t.to_string()).collect(),
            size_hint: Some(1 << 30),
        },
        FlashEvent::Started {
            targets: Vec::new(),
            size_hint: None,
        },
        FlashEvent::Progress {
            target: 1,
            phase: Phase::Write,
            bytes: 4096,
            total: Some(1 << 20),
        },
        FlashEvent::Progress {
            target: 0,
            phase: Phase::Verify,
            bytes: 0,
            total: None,
        },
        FlashEvent::TargetDone {
            target: 0,
            result: Ok(()),
            sha256: Some("ab".into()),
            written_bytes: 10,
            verified_bytes: 10,
            matched_bytes: 0,
        },
        FlashEvent::Ejected {
            target: 0,
            result: Ok(Ejected::PoweredOff),
        },
        FlashEvent::Probed {
            target: 0,
            verdict: Verdict::NoEvidence,
        },
        FlashEvent::Probed {
            target: 0,
            verdict: Verdict::WrapsAt(64 << 20),
        },
        FlashEvent::Probed {
            target: 1,
            verdict: Verdict::LosesWritesBeyond(96 << 20),
        },
        FlashEvent::Ejected {
            target: 1,
            result: Ok(Ejected::Flushed),
        },
        FlashEvent::Ejected {
            target: 1,
            result: Err("busy".into()),
        },
        FlashEvent::Download {
            bytes: 10,
            total: None,
        },
        FlashEvent::Downloaded {
            sha256: "cd".repeat(32),
        },
        FlashEvent::Download {
            bytes: 10,
            total: Some(20),
        },
        FlashEvent::Retry {
            attempt: 2,
            at: 10,
            reason: "no data for 30 s".into(),
        },
        FlashEvent::Done {
            image_sha256: Some("cd".into()),
            image_bytes: Some(5),
        },
        FlashEvent::Done {
            image_sha256: None,
            image_bytes: None,
        },
    ];
    // A failure of every kind; `cancelled` is the `cancelled` outcome, the
    // others `failed`.
    for (n, kind) in failure_kinds().into_iter().enumerate() {
        events.push(FlashEvent::TargetDone {
            target: n % 2,
            result: Err(TargetFailure {
                kind,
                offset: (n % 2 == 0).then_some(n as u64 * 512),
                message: format!("{kind:?} failed"),
            }),
            sha256: None,
            written_bytes: n as u64,
            verified_bytes: 0,
            matched_bytes: 0,
        });
    }
    events
}

/// The line a front end prints for `event`: [`WireEvent::from_flash`], or
/// for `started` and `done` the builders the front ends use instead.
fn wire_of(event: &FlashEvent) -> WireEvent {
    let name = |target: usize| TARGETS[target].to_string();
    match event {
        FlashEvent::Started { targets, size_hint } => {
            assert_eq!(WireEvent::from_flash(event, name), None);
            WireEvent::start(
                "os.img".into(),
                "raw".into(),
                *size_hint,
                targets.clone(),
                None,
            )
            .with_map("filesystems", None)
        }
        FlashEvent::Done {
            image_sha256,
            image_bytes,
        } => {
            assert_eq!(WireEvent::from_flash(event, name), None);
            WireEvent::done(&FlashReport {
                targets: Vec::new(),
                image_sha256: image_sha256.clone(),
                image_bytes: *image_bytes,
            })
        }
        FlashEvent::Progress { .. }
        | FlashEvent::TargetDone { .. }
        | FlashEvent::Ejected { .. }
        | FlashEvent::Probed { .. }
        | FlashEvent::Download { .. }
        | FlashEvent::Downloaded { .. }
        | FlashEvent::Retry { .. } => WireEvent::from_flash(event, name).expect("a line"),
    }
}

fn index(name: &str) -> Option<usize> {
    TARGETS.iter().position(|t| *t == name)
}

#[test]
fn every_flash_event_survives_the_wire() {
    let events = every_flash_event();
    let seen: std::collections::BTreeSet<usize> = events.iter().map(variant).collect();
    assert_eq!(seen, (0..VARIANTS).collect());
    for event in events {
        let wire = wire_of(&event);
        let line = wire.to_line();
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(WireEvent::parse(&line).as_ref(), Some(&wire), "{line}");
        assert_eq!(
            RunLine::parse(&line, index),
            Some(RunLine::Flash(event)),
            "{line}"
        );
    }
}

#[test]
fn outcomes_follow_the_failure_kind() {
    for event in every_flash_event() {
        let FlashEvent::TargetDone { result, .. } = &event else {
            continue;
        };
        let WireEvent::TargetDone { ok, outcome, .. } = wire_of(&event) else {
            panic!("a target_done");
        };
        let expected = match result {
            Ok(()) => Outcome::Ok,
            Err(f) if f.kind == FailureKind::Cancelled => Outcome::Cancelled,
            Err(_) => Outcome::Failed,
        };
        assert_eq!((ok, outcome), (result.is_ok(), expected));
    }
}

#[test]
fn refusals_and_errors_become_the_readers_refusals() {
    let refused = WireEvent::Refused {
        target: "/dev/sda".into(),
        error: "holds /".into(),
    };
    assert_eq!(
        RunLine::parse(&refused.to_line(), index),
        Some(RunLine::Refused("/dev/sda: holds /".into()))
    );
    let error = WireEvent::error(ErrorKind::Image, "os.img is not an image: it is empty");
    assert_eq!(
        RunLine::parse(&error.to_line(), index),
        Some(RunLine::Refused(
            "os.img is not an image: it is empty".into()
        ))
    );
}

#[test]
fn a_flash_reader_skips_what_is_not_its_own() {
    let station = WireEvent::Removed {
        drive: "loop:/tmp/a".into(),
        path: "/dev/loop3".into(),
    };
    assert_eq!(RunLine::parse(&station.to_line(), index), None);
    // A target the run does not have, an unknown event, not JSON.
    let other = WireEvent::from_flash(
        &FlashEvent::Progress {
            target: 0,
            phase: Phase::Write,
            bytes: 1,
            total: None,
        },
        |_| "/dev/sdz".into(),
    )
    .expect("a line");
    assert_eq!(RunLine::parse(&other.to_line(), index), None);
    assert_eq!(RunLine::parse(r#"{"event":"future"}"#, index), None);
    assert_eq!(RunLine::parse("not json", index), None);
    // A missing failure kind or message reads as a write failure.
    assert!(matches!(
        RunLine::parse(
            r#"{"event":"target_done","target":"/dev/sdb","ok":false,"outcome":"failed"}"#,
            index
        ),
        Some(RunLine::Flash(FlashEvent::TargetDone { result: Err(ref f), .. }))
            if f.kind == FailureKind::Write && f.message == "failed"
    ));
}

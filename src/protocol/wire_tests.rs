//! Every [`WireEvent`] variant serialises to one line and parses back to
//! itself; readers skip what they do not know (docs/architecture.md §5).

use super::*;
use crate::engine::{Ejected, FailureKind, Phase, TargetFailure};

/// The number of `WireEvent` variants: [`variant`] names each.
const VARIANTS: usize = 18;

/// A number per variant. No `_ =>` arm: a new variant does not compile
/// until it is named here, and fails [`every_variant_is_tested`] until
/// [`every_variant`] has one.
fn variant(event: &WireEvent) -> usize {
    match event {
        WireEvent::Start { .. } => 0,
        WireEvent::Progress { .. } => 1,
        WireEvent::TargetDone { .. } => 2,
        WireEvent::Done { .. } => 3,
        WireEvent::Download { .. } => 4,
        WireEvent::Retry { .. } => 5,
        WireEvent::Ejected { .. } => 6,
        WireEvent::Refused { .. } => 7,
        WireEvent::Error { .. } => 8,
        WireEvent::Inserted { .. } => 9,
        WireEvent::Skipped { .. } => 10,
        WireEvent::Flashing { .. } => 11,
        WireEvent::Removed { .. } => 12,
        WireEvent::DryRun { .. } => 13,
        WireEvent::Probe { .. } => 14,
        WireEvent::Range { .. } => 15,
        WireEvent::Verdict { .. } => 16,
        WireEvent::Downloaded { .. } => 17,
    }
}

#[test]
fn every_variant_is_tested() {
    let seen: std::collections::BTreeSet<usize> = every_variant().iter().map(variant).collect();
    assert_eq!(seen, (0..VARIANTS).collect());
}

fn every_variant() -> Vec<WireEvent> {
    let partition = WireBootPartition {
        number: 1,
        label: Some("resin-boot".into()),
        offset: 4 << 20,
        size: 40 << 20,
    };
    vec![
        WireEvent::Start {
            image: "os.img.xz".into(),
            format: "xz".into(),
            size: Some(1 << 30),
            targets: vec!["/dev/sdb".into()],
            boot_partition: Some(partition.clone()),
            config_sha256: Some("ab".into()),
            warnings: vec!["deviceType differs".into()],
            customisation: Some(Box::new(WireCustomisation {
                format: "systemd".into(),
                evidence: vec!["boot partition 1 has issue.txt".into()],
                files: vec!["firstrun.sh".into(), "cmdline.txt".into()],
            })),
            map: Some("filesystems".into()),
            mapped_bytes: None,
        },
        WireEvent::Start {
            image: "-".into(),
            format: "gzip".into(),
            size: None,
            targets: vec![],
            boot_partition: None,
            config_sha256: None,
            warnings: vec![],
            customisation: None,
            map: None,
            mapped_bytes: Some(5),
        },
        WireEvent::Progress {
            target: "/dev/sdb".into(),
            phase: Phase::Verify,
            bytes: 4096,
            total: None,
            drive: None,
        },
        WireEvent::Progress {
            target: "/dev/loop3".into(),
            phase: Phase::Write,
            bytes: 0,
            total: Some(5),
            drive: Some("loop:/tmp/a".into()),
        },
        WireEvent::target_done("/dev/loop3".into(), &Ok(()), None).with_drive("loop:/tmp/a"),
        WireEvent::Inserted {
            drive: "serial:AA12:8000000000".into(),
            path: "/dev/sdb".into(),
            size: 8_000_000_000,
            serial: Some("AA12".into()),
            model: None,
        },
        WireEvent::Skipped {
            drive: "loop:/tmp/a".into(),
            path: "/dev/loop3".into(),
            reason: "flashed already".into(),
        },
        WireEvent::Removed {
            drive: "loop:/tmp/a".into(),
            path: "/dev/loop3".into(),
        },
        WireEvent::Flashing {
            drive: "loop:/tmp/a".into(),
            path: "/dev/loop3".into(),
            n: Some(2),
            row: Some(5),
            uuid: Some("0123456789abcdef0123456789abcdef".into()),
            hostname: None,
        },
        WireEvent::target_done("/dev/sdb".into(), &Ok(()), Some("cd".into())),
        WireEvent::target_done(
            "/dev/sdc".into(),
            &Err(TargetFailure {
                kind: FailureKind::Cancelled,
                offset: Some(7),
                message: "cancelled".into(),
            }),
            None,
        ),
        WireEvent::target_done(
            "/dev/sdd".into(),
            &Err(TargetFailure {
                kind: FailureKind::Verify,
                offset: None,
                message: "differs".into(),
            }),
            None,
        ),
        WireEvent::Done {
            ok: 1,
            failed: 2,
            image_sha256: None,
            image_bytes: None,
            output: Some("out.img".into()),
            boot_partition: Some(partition),
            config_sha256: Some("ef".into()),
            warnings: vec!["w".into()],
            customisation: None,
        },
        WireEvent::Refused {
            target: "/dev/sda".into(),
            error: "holds /".into(),
        },
        WireEvent::ejected("/dev/sdb".into(), &Ok(Ejected::PoweredOff)),
        WireEvent::Probe {
            target: "/dev/sdb".into(),
            verdict: "wraps at 67108864".into(),
            real_bytes: Some(67108864),
            drive: Some("cid:1234".into()),
        },
        WireEvent::ejected("/dev/sdc".into(), &Err("busy".into())),
        WireEvent::Download {
            bytes: 10,
            total: None,
        },
        WireEvent::Downloaded {
            sha256: "ab".repeat(32),
        },
        WireEvent::Retry {
            attempt: 2,
            at: 10,
            reason: "no data for 30 s".into(),
        },
        WireEvent::error(ErrorKind::Usage, "no --target"),
        WireEvent::error(ErrorKind::Cancelled, "interrupted"),
        WireEvent::DryRun {
            image: "os.img".into(),
            format: "raw".into(),
            size: Some(5),
            targets: vec!["out.img".into()],
        },
        WireEvent::Range {
            target: "/dev/sdb".into(),
            start: 1 << 20,
            len: 16 << 20,
            result: "differs".into(),
        },
        WireEvent::Verdict {
            target: "/dev/sdb".into(),
            ok: false,
            ranges: 3,
            differing: 1,
            used_bytes: 40 << 20,
            signature_checked: true,
        },
    ]
}

#[test]
fn every_event_survives_a_round_trip() {
    for event in every_variant() {
        let line = event.to_line();
        assert!(!line.contains('\n'));
        assert_eq!(WireEvent::parse(&line), Some(event), "{line}");
    }
}

#[test]
fn the_event_name_comes_first_and_outcomes_are_words() {
    let line = WireEvent::target_done(
        "/dev/sdc".into(),
        &Err(TargetFailure {
            kind: FailureKind::Cancelled,
            offset: Some(7),
            message: "cancelled".into(),
        }),
        None,
    )
    .to_line();
    assert!(line.starts_with(r#"{"event":"target_done","#), "{line}");
    assert!(
        line.contains(r#""outcome":"cancelled","kind":"cancelled""#),
        "{line}"
    );
}

#[test]
fn unknown_events_and_fields_are_ignored() {
    assert_eq!(
        WireEvent::parse(r#"{"event":"unplugged","drive":"x"}"#),
        None
    );
    assert_eq!(WireEvent::parse("not json"), None);
    let event = WireEvent::parse(
        r#"{"event":"progress","target":"t","phase":"write","bytes":1,"total":2,"written":1}"#,
    );
    assert!(matches!(event, Some(WireEvent::Progress { bytes: 1, .. })));
}

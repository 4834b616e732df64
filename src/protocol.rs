//! The JSON-lines protocol of `--json`: one event per line on stdout.
//!
//! One serde type, [`WireEvent`], is both what the command line writes and
//! what the app's privileged helper reader parses, so the two cannot drift
//! apart. Readers ignore events and fields they do not know: the protocol
//! only grows. The fields listed in the README stay.

use serde::{Deserialize, Serialize};

use crate::engine::{Ejected, FailureKind, FlashReport, Phase, TargetFailure};

/// One line of `--json` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WireEvent {
    /// Every check passed; the run begins.
    Start {
        image: String,
        format: String,
        /// The decompressed image's size when known before the run.
        size: Option<u64>,
        targets: Vec<String>,
        /// With `--config`: the boot partition that receives it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        boot_partition: Option<WireBootPartition>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config_sha256: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
        /// What decides the bytes written: `"filesystems"` (the map of used
        /// bytes), `"bmap"` (that map and a bmap file's ranges, whose
        /// checksums are checked) or `"full"` (every byte).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        map: Option<String>,
        /// The bytes that will be written, when known before the run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mapped_bytes: Option<u64>,
    },
    /// A target's position in the image in its current phase.
    Progress {
        target: String,
        phase: Phase,
        bytes: u64,
        total: Option<u64>,
        /// `imprint station`: the drive's stable id (a path is reused).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drive: Option<String>,
    },
    /// A target is finished.
    TargetDone {
        target: String,
        ok: bool,
        outcome: Outcome,
        /// Why it failed; `None` when ok.
        kind: Option<FailureKind>,
        error: Option<String>,
        /// The byte of the image where it failed, when one applies.
        offset: Option<u64>,
        /// The target's bytes as written, when ok.
        sha256: Option<String>,
        /// Bytes written to the target: its used ranges, unless `--full`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        written_bytes: Option<u64>,
        /// Bytes read back and compared with the image.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        verified_bytes: Option<u64>,
        /// `imprint station`: the drive's stable id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drive: Option<String>,
    },
    /// The run is over.
    Done {
        ok: usize,
        failed: usize,
        /// `None` when the image could not be read to its end.
        image_sha256: Option<String>,
        image_bytes: Option<u64>,
        /// `configure`: the file written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        boot_partition: Option<WireBootPartition>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config_sha256: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// An image at a URL: bytes of the file downloaded so far, of `total`
    /// when the server said.
    Download {
        bytes: u64,
        total: Option<u64>,
    },
    /// An image at a URL: the connection dropped or stalled at byte `at` of
    /// the file; try number `attempt` resumes from there.
    Retry {
        attempt: u32,
        at: u64,
        reason: String,
    },
    /// A target refused before anything was written (exit code 2).
    /// A target that succeeded was left safe to remove (`--eject`).
    Ejected {
        target: String,
        /// `powered_off` or `flushed`; `failed` with `error` when neither.
        outcome: EjectOutcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    Refused {
        target: String,
        error: String,
    },
    /// The run as a whole could not start or was stopped before writing
    /// (exit code 2), or the image failed in a way that concerns every
    /// target; or (kind `report`) a line of `--report` could not be
    /// written: the run goes on and exits 1.
    Error {
        kind: ErrorKind,
        error: String,
    },
    /// `imprint station`: a drive appeared. `drive` is its stable id: the
    /// same card or stick keeps it when plugged in again.
    Inserted {
        drive: String,
        path: String,
        size: u64,
        #[serde(default)]
        serial: Option<String>,
        #[serde(default)]
        model: Option<String>,
    },
    /// `imprint station`: a drive that will not be flashed, and why
    /// (present at start, not eligible, flashed already, too small …).
    Skipped {
        drive: String,
        path: String,
        reason: String,
    },
    /// `imprint station`: a drive starts being flashed, with its own
    /// identity when it has one (`--each`, `--new-uuid`, placeholders).
    Flashing {
        drive: String,
        path: String,
        #[serde(default)]
        n: Option<u64>,
        #[serde(default)]
        row: Option<usize>,
        #[serde(default)]
        uuid: Option<String>,
        #[serde(default)]
        hostname: Option<String>,
    },
    /// `imprint station`: a drive went away.
    Removed {
        drive: String,
        path: String,
    },
    /// `--dry-run`: every check passed, nothing was written.
    DryRun {
        image: String,
        format: String,
        size: Option<u64>,
        targets: Vec<String>,
    },
}

/// How a target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    Cancelled,
}

/// What an `error` event is about.
/// How `--eject` left a drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EjectOutcome {
    PoweredOff,
    Flushed,
    Failed,
}

impl WireEvent {
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

    /// The engine's result of an `ejected` event.
    pub fn ejected_result(outcome: EjectOutcome, error: Option<String>) -> Result<Ejected, String> {
        match outcome {
            EjectOutcome::PoweredOff => Ok(Ejected::PoweredOff),
            EjectOutcome::Flushed => Ok(Ejected::Flushed),
            EjectOutcome::Failed => Err(error.unwrap_or_else(|| "could not be ejected".into())),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The command line itself is wrong.
    Usage,
    /// The image cannot be opened or read.
    Image,
    /// The balenaOS configuration is invalid or does not fit the image.
    Config,
    /// Refused for another reason (no confirmation, unsafe output).
    Refused,
    /// Interrupted before anything was written.
    Cancelled,
    /// Writing an output file failed (`configure`).
    Write,
    /// A `--report` line (a drive's record, or the claim of its row)
    /// could not be written: that drive is not recorded. The run goes on
    /// and exits 1 (a claim that fails keeps its drive from being written).
    Report,
}

/// The boot partition a configuration went into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireBootPartition {
    pub number: u32,
    pub label: Option<String>,
    pub offset: u64,
    pub size: u64,
}

impl WireEvent {
    /// The `target_done` of `target` with `result`.
    pub fn target_done(
        target: String,
        result: &Result<(), TargetFailure>,
        sha256: Option<String>,
    ) -> WireEvent {
        match result {
            Ok(()) => WireEvent::TargetDone {
                target,
                ok: true,
                outcome: Outcome::Ok,
                kind: None,
                error: None,
                offset: None,
                sha256,
                written_bytes: None,
                verified_bytes: None,
                drive: None,
            },
            Err(failure) => WireEvent::TargetDone {
                target,
                ok: false,
                outcome: if failure.kind == FailureKind::Cancelled {
                    Outcome::Cancelled
                } else {
                    Outcome::Failed
                },
                kind: Some(failure.kind),
                error: Some(failure.message.clone()),
                offset: failure.offset,
                sha256,
                written_bytes: None,
                verified_bytes: None,
                drive: None,
            },
        }
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
        if let WireEvent::Progress { drive, .. } | WireEvent::TargetDone { drive, .. } = &mut self {
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
        }
    }

    /// The `error` event of `kind`.
    pub fn error(kind: ErrorKind, message: impl Into<String>) -> WireEvent {
        WireEvent::Error {
            kind,
            error: message.into(),
        }
    }

    /// One line of JSON (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("wire events always serialise")
    }

    /// Parses one line; `None` for a line that is not a known event (the
    /// protocol may grow new ones).
    pub fn parse(line: &str) -> Option<WireEvent> {
        serde_json::from_str(line).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            },
            WireEvent::Refused {
                target: "/dev/sda".into(),
                error: "holds /".into(),
            },
            WireEvent::ejected("/dev/sdb".into(), &Ok(Ejected::PoweredOff)),
            WireEvent::ejected("/dev/sdc".into(), &Err("busy".into())),
            WireEvent::Download {
                bytes: 10,
                total: None,
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
}

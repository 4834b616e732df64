//! The exit status of a run, as both front ends report it.

use crate::engine::FlashReport;

/// How a run ended, as an exit code: the contract of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every target succeeded (0).
    Ok,
    /// At least one target failed while writing or verifying (1); the
    /// others may have succeeded.
    Failed,
    /// Refused before anything was written (2): usage, an unreadable image,
    /// an unsafe target, an invalid configuration.
    Refused,
}

impl Exit {
    /// The status of a run that reported `report`.
    pub fn of(report: &FlashReport) -> Exit {
        if report.failed() == 0 {
            Exit::Ok
        } else {
            Exit::Failed
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Refused => 2,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FailureKind, TargetFailure, TargetOutcome};

    fn outcome(ok: bool) -> TargetOutcome {
        TargetOutcome {
            written_bytes: 0,
            verified_bytes: 0,
            matched_bytes: 0,
            target: "t".into(),
            result: if ok {
                Ok(())
            } else {
                Err(TargetFailure {
                    kind: FailureKind::Write,
                    offset: None,
                    message: "failed".into(),
                })
            },
            bytes_written: 0,
            verified: ok,
        }
    }

    #[test]
    fn one_failed_target_fails_the_run() {
        let mut report = FlashReport {
            targets: vec![outcome(true), outcome(true)],
            image_sha256: None,
            image_bytes: None,
        };
        assert_eq!(Exit::of(&report), Exit::Ok);
        report.targets.push(outcome(false));
        assert_eq!(Exit::of(&report).code(), 1);
        assert_eq!(Exit::Refused.code(), 2);
    }
}

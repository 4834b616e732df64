//! The wire types: [`WireEvent`], one line of `--json`, and the small
//! types its fields use. Only serde lives here; the translations to and from
//! the engine's events are the sibling files (docs/architecture.md §5).

use serde::{Deserialize, Serialize};

use crate::engine::{FailureKind, Phase};

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
        /// A customisation: its format and the evidence that chose it
        /// (boxed: most runs have none, and every event is this size).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        customisation: Option<Box<WireCustomisation>>,
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
        /// Bytes the target already held, so compared and not written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matched_bytes: Option<u64>,
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
        /// `configure` with a customisation: its format and evidence.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        customisation: Option<Box<WireCustomisation>>,
    },
    /// An image at a URL: bytes of the file downloaded so far, of `total`
    /// when the server said.
    Download { bytes: u64, total: Option<u64> },
    /// An image at a URL: the whole file is received; `sha256` is the
    /// file's own (what publishers list), lower-case hex.
    Downloaded { sha256: String },
    /// An image at a URL: the connection dropped or stalled at byte `at` of
    /// the file; try number `attempt` resumes from there.
    Retry {
        attempt: u32,
        at: u64,
        reason: String,
    },
    /// A block device's counterfeit probe, before anything was written to
    /// it: `verdict` is `no evidence` (which does not prove a card
    /// genuine), `wraps at N` or `loses writes beyond N`; `real_bytes` what
    /// a fake really holds. A fake then fails with kind `fake`.
    Probe {
        target: String,
        verdict: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        real_bytes: Option<u64>,
        /// `imprint station`: the drive's stable id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drive: Option<String>,
    },
    /// A target that succeeded was left safe to remove (`--eject`).
    Ejected {
        target: String,
        /// `powered_off` or `flushed`; `failed` with `error` when neither.
        outcome: EjectOutcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A target refused before anything was written (exit code 2).
    Refused { target: String, error: String },
    /// The run as a whole could not start or was stopped before writing
    /// (exit code 2), or the image failed in a way that concerns every
    /// target; or (kind `report`) a line of `--report` could not be
    /// written: the run goes on and exits 1.
    Error { kind: ErrorKind, error: String },
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
    Removed { drive: String, path: String },
    /// `--dry-run`: every check passed, nothing was written.
    DryRun {
        image: String,
        format: String,
        size: Option<u64>,
        targets: Vec<String>,
    },
    /// `imprint verify-drive --json`: a range of the drive that no longer
    /// holds what its signed record says (bytes `start..start+len`).
    Range {
        target: String,
        start: u64,
        len: u64,
        result: String,
    },
    /// `imprint verify-drive --json`, the last line: whether the drive holds
    /// what its record says (`ok`), over how many ranges and used bytes,
    /// how many differ, and whether the record's signature was checked.
    Verdict {
        target: String,
        ok: bool,
        ranges: u64,
        differing: u64,
        used_bytes: u64,
        signature_checked: bool,
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

/// How `--eject` left a drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EjectOutcome {
    PoweredOff,
    Flushed,
    Failed,
}

/// What an `error` event is about.
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

/// A customisation (`--hostname`, `--user`, …): the format written, why
/// (what was found in the image, or `--format`), and the files written
/// into the boot partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCustomisation {
    pub format: String,
    pub evidence: Vec<String>,
    pub files: Vec<String>,
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
#[path = "wire_tests.rs"]
mod tests;

//! The events the engine sends while it runs: plain data, throttled to about
//! ten progress events per second and target.

use serde::{Deserialize, Serialize};

pub(crate) use crate::platform::Ejected;

/// What a target is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Write,
    Verify,
}

impl Phase {
    /// `"write"` or `"verify"`, as in the JSON-lines protocol.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Write => "write",
            Phase::Verify => "verify",
        }
    }
}

/// Why a target failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Opening, writing or syncing the target failed.
    Write,
    /// The read-back differs from the image (or could not be read).
    Verify,
    /// The image itself could not be read or decompressed.
    Source,
    /// The image at a URL could not be downloaded whole (it failed, or could
    /// not be resumed without joining two versions of the file): not a
    /// damaged image; trying again may work.
    Download,
    /// The image is larger than the target.
    TooSmall,
    /// The user cancelled before the target was complete.
    Cancelled,
    /// The decompressed image does not have the SHA-256 the user expected.
    Checksum,
    /// The counterfeit probe found the card holds less than it claims.
    Fake,
}

impl FailureKind {
    /// Whether the image, not the target, stopped the run: one reason for
    /// every drive, told once.
    pub fn is_source_fault(self) -> bool {
        matches!(self, FailureKind::Source | FailureKind::Download)
    }
}

/// A failed target: what went wrong, where, and what the user can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFailure {
    pub kind: FailureKind,
    /// The byte offset in the image where it happened, when one applies.
    pub offset: Option<u64>,
    /// A complete sentence for the user (device, operation, cause, advice).
    pub message: String,
}

impl std::fmt::Display for TargetFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One step of a flash run, sent on the job's event channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashEvent {
    /// Every target passed its checks; writing begins.
    Started {
        targets: Vec<String>,
        /// Size of the decompressed image, when known in advance.
        size_hint: Option<u64>,
    },
    /// `bytes` of `total` done in `phase` on target number `target`.
    Progress {
        target: usize,
        phase: Phase,
        bytes: u64,
        total: Option<u64>,
    },
    /// Target number `target` is finished, verified or failed.
    TargetDone {
        target: usize,
        result: Result<(), TargetFailure>,
        /// SHA-256 (hex) of the image now on the target, when it succeeded.
        sha256: Option<String>,
        /// Bytes written to the target: its used ranges, unless `--full`.
        written_bytes: u64,
        /// Bytes read back and compared with the image.
        verified_bytes: u64,
        /// Bytes of used ranges the target already held, so not written
        /// (compare-before-write, docs/architecture.md §2).
        matched_bytes: u64,
    },
    /// Target number `target` was left safe to remove after it succeeded
    /// (`--eject`); sent by `request`, which ejects, never by the engine.
    Ejected {
        target: usize,
        /// How it was left, or why it could not be (a sentence).
        result: Result<Ejected, String>,
    },
    /// Target number `target`'s counterfeit probe found `verdict`, before
    /// anything was written (docs/architecture.md §3).
    Probed {
        target: usize,
        verdict: crate::target::probe::Verdict,
    },
    /// For an image at a URL: `bytes` of the file downloaded, of `total`
    /// when the server said. Run-level, throttled like progress.
    Download { bytes: u64, total: Option<u64> },
    /// For an image at a URL: the connection dropped or stalled at byte `at`
    /// of the file, and try number `attempt` resumes from there.
    Retry {
        attempt: u32,
        at: u64,
        reason: String,
    },
    /// For an image at a URL: the whole file is received, and this is its
    /// own SHA-256 (of the file as published, compressed or not).
    Downloaded { sha256: String },
    /// Every target is finished.
    Done {
        /// SHA-256 of the image as written (after any patch), lower-case hex;
        /// `None` when the image could not be read to its end.
        image_sha256: Option<String>,
        /// The image's length; `None` when it could not be read to its end.
        image_bytes: Option<u64>,
    },
}

/// A download's event as an event of the run (the one translation: the
/// run's own thread and the app's URL feed both send it; the protocol reads
/// its `download`/`retry` lines back through it too).
impl From<crate::source::DownloadEvent> for FlashEvent {
    fn from(event: crate::source::DownloadEvent) -> FlashEvent {
        use crate::source::DownloadEvent;
        match event {
            DownloadEvent::Progress { bytes, total } => FlashEvent::Download { bytes, total },
            DownloadEvent::Retry {
                attempt,
                at,
                reason,
            } => FlashEvent::Retry {
                attempt,
                at,
                reason,
            },
            DownloadEvent::Finished { sha256 } => FlashEvent::Downloaded { sha256 },
        }
    }
}

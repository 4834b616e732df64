//! What the app says when something goes wrong, worded for a person at a
//! desktop rather than a shell: a plain title, one sentence on what to do,
//! and the technical text (paths, byte offsets, OS error codes) kept for a
//! "Details" toggle. The engine's and the CLI's messages are written for a
//! terminal; they are translated here, never shown raw in the main text.

use crate::bootcfg::BootConfigError;
use crate::disk::DiskError;
use crate::engine::{FailureKind, TargetFailure};
use crate::humanize;

/// A message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What happened, in a few words, as a sentence.
    pub title: String,
    /// What to do about it; may be empty when the title says it all.
    pub advice: String,
    /// The technical text, for a bug report or a search; behind "Details".
    pub details: Option<String>,
}

impl Problem {
    pub fn new(title: impl Into<String>, advice: impl Into<String>) -> Problem {
        Problem {
            title: title.into(),
            advice: advice.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Problem {
        let details = details.into();
        self.details = (!details.trim().is_empty()).then_some(details);
        self
    }

    /// A run's failure text as the helper and the engine thread build it:
    /// the plain part, then a blank line, then the technical part.
    pub fn from_failure(text: &str) -> Problem {
        match text.split_once("\n\n") {
            Some((plain, details)) => Problem::new(plain, "").with_details(details),
            None => Problem::new(text, ""),
        }
    }

    /// Title and advice on one line (tests, the flash bar's tooltip).
    pub fn summary(&self) -> String {
        if self.advice.is_empty() {
            self.title.clone()
        } else {
            format!("{} {}", self.title, self.advice)
        }
    }
}

/// An image that could not be opened (probe, or the configuration check
/// reading its start).
pub(super) fn image_unreadable(raw: &str) -> Problem {
    Problem::new(
        "This file cannot be used as an image.",
        "It may be incomplete or damaged: download it again, or choose another image.",
    )
    .with_details(raw)
}

/// An image file cut short (a download that did not finish): found before
/// anything was written.
pub(super) fn image_incomplete(raw: &str) -> Problem {
    Problem::new(
        "This file is incomplete: download it again.",
        "Its end is missing, so it cannot be written whole.",
    )
    .with_details(raw)
}

/// Whether `failure` is compressed data that ended too early.
fn is_truncated(failure: &TargetFailure) -> bool {
    failure.message.contains(crate::source::TRUNCATED)
}

/// A link that cannot be flashed (unreachable, refused, a web page): a
/// headline, the reason without the link (which stays in its field), and
/// the engine's whole message under Details (issue 17, item 10).
pub(super) fn link_unusable(link: &str, raw: &str) -> Problem {
    let reason = raw
        .strip_prefix(link)
        .unwrap_or(raw)
        .trim_start_matches([':', ' '])
        .trim_start_matches("is not an image: ");
    Problem::new("This link cannot be flashed.", sentence(reason)).with_details(raw)
}

/// Whether `failure` is a download that failed (the image at a URL could
/// not be received whole), not damaged data.
pub(super) fn is_download_failure(failure: &TargetFailure) -> bool {
    failure.kind == FailureKind::Download
        || failure.message.contains(crate::source::DOWNLOAD_FAILED_AT)
}

fn download_failed(failure: &TargetFailure, written: bool) -> Problem {
    let after = if written {
        " The drives were partly written and will not boot until they are flashed again."
    } else {
        ""
    };
    Problem::new(
        "The download failed.",
        format!("{}.{after}", failure.message.trim_end_matches('.')),
    )
}

/// The line a drive stopped by the image shows under the run's banner.
pub(super) fn source_stop_line(failure: &TargetFailure) -> &'static str {
    if is_download_failure(failure) {
        "Stopped: the download failed (see above)."
    } else if failure.message.contains(crate::source::IMAGE_CHANGED) {
        "Stopped: the image file was changed (see above)."
    } else if is_truncated(failure) {
        "Stopped: the image file is incomplete (see above)."
    } else {
        "Stopped: the image is damaged (see above)."
    }
}

/// An image whose data cannot be read to the end: found before anything
/// was written (opening it, or checking the configuration against it).
pub(super) fn image_damaged(raw: &str) -> Problem {
    // Reading the start of an image at a URL is downloading it.
    if raw.contains(crate::source::DOWNLOAD_FAILED_AT) {
        return Problem::new(
            "The download failed.",
            "Nothing was written. Check the network connection and try again, or download the \
             image first and choose the file.",
        )
        .with_details(raw);
    }
    if raw.contains(crate::source::TRUNCATED) {
        return image_incomplete(raw);
    }
    Problem::new(
        "The image is damaged.",
        "Nothing was written. Download it again, or choose another image.",
    )
    .with_details(raw)
}

/// A failure of the configuration check, and whether it is the image's
/// fault (then it belongs on the image card, not the configuration form).
pub(super) fn config_error(error: &BootConfigError) -> (Problem, bool) {
    let raw = error.to_string();
    let (title, advice, image_fault) = match error {
        BootConfigError::InImage { cause, .. } => {
            let (inner, image_fault) = config_error(cause);
            return (inner.with_details(raw), image_fault);
        }
        BootConfigError::Disk(DiskError::ReadImage { .. } | DiskError::ImageTooShort { .. })
        | BootConfigError::PartitionPastImageEnd { .. } => {
            return (image_damaged(&raw), true);
        }
        BootConfigError::DamagedFat { .. } => (
            "The image's boot partition is damaged.",
            "Download the image again, or choose another image.",
            true,
        ),
        BootConfigError::ReadConfig { .. } => (
            "The config.json cannot be read.",
            "Check that the file is still there, then choose it again.",
            false,
        ),
        BootConfigError::ParseConfig { .. } | BootConfigError::InvalidConfig { .. } => (
            "This file is not a balenaOS config.json.",
            "Download the config.json of your fleet from the balenaCloud dashboard and choose it.",
            false,
        ),
        BootConfigError::InvalidWifi { reason } => {
            return (Problem::new(sentence(reason), ""), false);
        }
        BootConfigError::WifiWithoutConfig => (
            "WiFi settings need a config.json.",
            "This image's boot partition holds none: choose the config.json of your fleet as \
             well, or clear the WiFi fields.",
            false,
        ),
        BootConfigError::Disk(
            DiskError::NoPartitionTable | DiskError::MalformedPartitionTable { .. },
        )
        | BootConfigError::NoBootPartition { .. }
        | BootConfigError::DeviceTypePartitionMissing { .. }
        | BootConfigError::NotFat { .. } => (
            "This image has no balenaOS boot partition to configure.",
            "Choose a balenaOS image, or remove the configuration to write this image as it is.",
            false,
        ),
        BootConfigError::PartitionTooLarge { .. } => (
            "The image's boot partition is too large to configure.",
            "Close other programs to free memory and try again.",
            false,
        ),
        BootConfigError::DoesNotFit { .. } => (
            "The configuration does not fit in the image's boot partition.",
            "Use a smaller config.json, or an image with a larger boot partition.",
            false,
        ),
        BootConfigError::EditFat { .. } => (
            "The configuration could not be written into the boot partition.",
            "Try again; if it keeps failing, use another image.",
            false,
        ),
    };
    (Problem::new(title, advice).with_details(raw), image_fault)
}

/// A drive's failure: a title from its kind (and from the OS error when it
/// says more, such as a full disk), the advice, and the engine's text.
/// `is_file` says what the target is: "no space left" means a full disk for
/// an image file, but a drive that stopped taking data for a block device.
pub(super) fn target_failure(failure: &TargetFailure, is_file: bool) -> Problem {
    let raw = &failure.message;
    let (title, advice) = match failure.kind {
        // A block device has a fixed size the engine checked before writing:
        // running out of room inside it is what a counterfeit card (or a
        // failing one) does, and no space can be freed on it.
        FailureKind::Write if os_error(raw) == Some(28) && !is_file => (
            match failure.offset {
                Some(at) => format!(
                    "The drive stopped taking data at {} — it may be fake or failing.",
                    humanize::bytes(at)
                ),
                None => "The drive stopped taking data — it may be fake or failing.".to_string(),
            },
            "Use another drive. A card that claims more room than it has loses whatever is \
             written past its real size."
                .to_string(),
        ),
        FailureKind::Write if os_error(raw) == Some(28) => (
            "There is not enough free space for the image.".to_string(),
            "Free some space on that disk, or choose another place or another drive.".to_string(),
        ),
        FailureKind::Write if os_error(raw) == Some(13) => (
            "Imprint was not allowed to write here.".to_string(),
            "Choose another place or drive, or start Imprint as administrator.".to_string(),
        ),
        _ if failure.message.contains(crate::source::IMAGE_CHANGED) => (
            "The image file was changed while it was being flashed.".to_string(),
            "Wait until whatever writes it has finished, then flash again.".to_string(),
        ),
        // However it reached here, a failed download is not a damaged image.
        _ if is_download_failure(failure) => (
            kind_title(FailureKind::Download).to_string(),
            advice(FailureKind::Download).to_string(),
        ),
        kind => (kind_title(kind).to_string(), advice(kind).to_string()),
    };
    Problem::new(title, advice).with_details(raw.clone())
}

/// The one banner of a run whose image turned out damaged while streaming:
/// every drive stopped at the same place for the same reason.
pub(super) fn source_fault(failure: &TargetFailure, written: bool) -> Problem {
    if is_download_failure(failure) {
        return download_failed(failure, written);
    }
    if failure.message.contains(crate::source::IMAGE_CHANGED) {
        return Problem::new(
            "The image file was changed while it was being flashed.",
            "Wait until whatever writes it has finished, then flash again.",
        )
        .with_details(failure.message.clone());
    }
    let what = if is_truncated(failure) {
        "The image file is incomplete: it ends"
    } else {
        "The image is damaged"
    };
    let title = match failure.offset {
        Some(offset) if offset > 0 => {
            format!("{what} {} into its data.", humanize::bytes(offset))
        }
        _ => format!("{what}."),
    };
    let advice = if written {
        "Download it again, then flash again: the drives were partly written and will not boot \
         until they are."
    } else {
        "Download it again, then flash again."
    };
    Problem::new(title, advice).with_details(failure.message.clone())
}

fn kind_title(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Write => "Writing to this drive failed.",
        FailureKind::Verify => "The drive did not read back what was written.",
        FailureKind::Source => "The image is damaged.",
        FailureKind::Download => "The download failed.",
        FailureKind::TooSmall => "The drive is too small for this image.",
        FailureKind::Cancelled => "Cancelled before this drive was finished.",
        FailureKind::Checksum => "The image is not the one expected.",
        FailureKind::Fake => "This card is fake: it holds less than it claims.",
    }
}

/// What the user can do about a failed drive.
pub(super) fn advice(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Write => {
            "Check that the drive is plugged in firmly and not write-protected, then flash it again or use another drive."
        }
        FailureKind::Verify => {
            "It may be worn out or counterfeit. Try again, or use another drive."
        }
        FailureKind::Source => "Download the image again, then flash again.",
        FailureKind::Download => {
            "Check the network connection and flash again; if it keeps failing, download the image first and flash the file."
        }
        FailureKind::TooSmall => "Use a drive at least as large as the image.",
        // The stop may have come while writing (the drive is incomplete) or
        // only while verifying (written, not proven): the advice holds for both.
        FailureKind::Cancelled => {
            "The flash was stopped before this drive was finished and verified: flash it again before using it."
        }
        FailureKind::Checksum => "Download it again from a source you trust.",
        FailureKind::Fake => {
            "Do not use it: data written past its real capacity is lost. It was left blank; return it to the seller."
        }
    }
}

/// The refusals of a run that wrote nothing, translated where the CLI's
/// wording would puzzle a desktop user.
pub(super) fn refused(reasons: &[String]) -> Problem {
    let plain: Vec<String> = reasons.iter().map(|r| plain_refusal(r)).collect();
    Problem::new("Nothing was written.", plain.join(" ")).with_details(reasons.join("\n"))
}

fn plain_refusal(reason: &str) -> String {
    let reason = reason.trim_start_matches("imprint: ").trim();
    if reason.contains("--wifi-ssid needs --config") {
        return "WiFi settings need a config.json: choose one under \"balenaOS configuration\"."
            .into();
    }
    if let Some(code) = os_error(reason) {
        return match code {
            28 => "There is not enough free space.".into(),
            13 => "Permission was denied.".into(),
            2 => "A file or drive was not found: it may have been removed.".into(),
            16 => "A drive is busy: close the programs using it, then try again.".into(),
            _ => "The system reported an error (see Details).".into(),
        };
    }
    if reason.contains("--") {
        // A command-line option means nothing here; the details keep it.
        return "The flash was refused (see Details).".into();
    }
    sentence(reason)
}

/// The code of an "(os error N)" in `text`.
pub(super) fn os_error(text: &str) -> Option<i32> {
    let start = text.find("os error ")? + "os error ".len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// `message` as a sentence: capitalised, with a full stop.
pub(super) fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;

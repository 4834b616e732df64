//! Questions the views and the commands ask of the [`AppState`]: what a
//! target is called, which drives may be chosen, why Flash! is disabled.
//! Pure functions of the state.

use std::path::{Path, PathBuf};

use super::app_state::{AppState, ImageSlot};
use super::checksum::{self, Verdict};
use super::config_check::ConfigStatus;
use super::state::{self, FlashRun};
use crate::drives::Drive;

impl AppState {
    /// The chosen targets (drives and image files), in the order chosen.
    pub(super) fn selected_targets(&self) -> &[PathBuf] {
        self.selection.targets()
    }

    /// What a target is called: the drive's name, an image file's name, or
    /// the path.
    pub(super) fn target_name(&self, path: &Path) -> String {
        if self.selection.is_file(path)
            && let Some(name) = path.file_name()
        {
            return name.to_string_lossy().into_owned();
        }
        self.drives
            .iter()
            .find(|d| d.path == path)
            .map(Drive::display_name)
            .unwrap_or_else(|| path.display().to_string())
    }

    /// The targets of `run` that failed and can be flashed again: image
    /// files, and drives still plugged in and selectable.
    /// A drive the image stopped (damaged, or not the expected checksum) is
    /// not offered: flashing the same file again would fail the same way.
    pub(super) fn retryable(&self, run: &FlashRun) -> Vec<PathBuf> {
        run.failed_targets()
            .into_iter()
            .filter(|t| !run.failed_by_image(t))
            .filter(|t| {
                self.selection.is_file(t)
                    || self.drives.iter().any(|d| {
                        &d.path == t
                            && !matches!(
                                self.drive_availability(d),
                                state::Availability::Blocked(_)
                            )
                    })
            })
            .collect()
    }

    /// The drive being cloned: the image is one of the listed drives. It is
    /// read, so it must never be a target.
    pub(super) fn clone_source(&self) -> Option<&Path> {
        let path = match &self.image {
            ImageSlot::Empty => return None,
            ImageSlot::Opening { path } | ImageSlot::Failed { path, .. } => path.as_path(),
            ImageSlot::Ready(info) => info.source.path(),
        };
        self.drives.iter().any(|d| d.path == path).then_some(path)
    }

    /// Whether `drive` may be chosen now: the rules of
    /// [`state::availability`], and never the drive being cloned.
    pub(super) fn drive_availability(&self, drive: &Drive) -> state::Availability {
        if self.clone_source() == Some(drive.path.as_path()) {
            return state::Availability::Blocked(
                "Being cloned: it is the source of the image".into(),
            );
        }
        state::availability(drive, self.image_bytes())
    }

    /// The size the selected image has at least, which a drive must hold:
    /// exact when the format records it; else the larger of a lower bound
    /// the format gives (gzip's ISIZE) and the size an earlier flash of the
    /// same file learned.
    pub(super) fn image_bytes(&self) -> Option<u64> {
        let min = self.image.info()?.source.min_size();
        match (min, self.learned_size) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Why Flash! is disabled, or `None` when it may be pressed.
    pub(super) fn flash_blocker(&self) -> Option<&'static str> {
        match &self.image {
            ImageSlot::Ready(_) => {}
            ImageSlot::Opening { .. } => return Some("Opening the image…"),
            ImageSlot::Failed { .. } => return Some("This image cannot be used: choose another"),
            ImageSlot::Empty => return Some("Select an image first"),
        }
        match self.checksum_verdict() {
            Verdict::Mismatch => {
                return Some("The image does not match its checksum: download it again");
            }
            Verdict::Waiting => return Some("Checking the image against its checksum…"),
            Verdict::Malformed => {
                return Some("The expected SHA-256 must be 64 hexadecimal digits");
            }
            Verdict::NotGiven | Verdict::Matches | Verdict::Unknown => {}
        }
        if self.selection.is_empty() {
            return Some("Select at least one drive");
        }
        if self.config.local_error().is_some() {
            return Some("Fix the balenaOS configuration first");
        }
        if let Some(reason) = self.config.wifi_blocker() {
            return Some(reason);
        }
        match self.config_status {
            ConfigStatus::Invalid(_) => Some("Fix the balenaOS configuration first"),
            ConfigStatus::Checking => Some("Checking the configuration…"),
            _ => None,
        }
    }

    /// Why the Station view cannot be opened now, or `None`: it takes the
    /// image and configuration as Flash! does, but no drives.
    pub(super) fn station_blocker(&self) -> Option<&'static str> {
        match &self.image {
            ImageSlot::Ready(_) => {}
            _ => return Some("Select an image first"),
        }
        if self.config.local_error().is_some()
            || matches!(self.config_status, ConfigStatus::Invalid(_))
        {
            return Some("Fix the balenaOS configuration first");
        }
        if let Some(reason) = self.config.wifi_blocker() {
            return Some(reason);
        }
        if matches!(self.config_status, ConfigStatus::Checking) {
            return Some("Checking the configuration…");
        }
        None
    }

    /// How the image file compares with its expected checksum.
    pub(super) fn checksum_verdict(&self) -> Verdict {
        checksum::verdict(
            &self.expected_sha256,
            self.found_sha256.as_ref(),
            &self.file_hash,
        )
    }
}

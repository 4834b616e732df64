//! What the views show, as plain data: the image, the drives and the
//! selection, the configuration form, the dialog and the current screen.
//! No channel, worker or running handle lives here — those are the
//! shell's (`app`) — so every view is a function of this state
//! (docs/architecture.md §6).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::checksum::Found;
use super::config_check::{ConfigForm, ConfigStatus};
use super::drive_holds::Holds;
use super::file_dialog::Purpose;
use super::image_probe::ImageInfo;
use super::message::Problem;
use super::run_options::RunOptions;
use super::state::{FlashRun, Selection};
use super::views;
use crate::drives::Drive;

/// The image step's state.
pub(super) enum ImageSlot {
    Empty,
    /// Being opened in the background (the shell holds the channel).
    Opening {
        path: PathBuf,
    },
    Ready(Box<ImageInfo>),
    /// The image cannot be used: it could not be opened, or a fault was
    /// found in it before anything was written.
    Failed {
        path: PathBuf,
        problem: Problem,
    },
}

impl ImageSlot {
    pub(super) fn info(&self) -> Option<&ImageInfo> {
        match self {
            ImageSlot::Ready(info) => Some(info),
            _ => None,
        }
    }
}

/// A path typed instead of chosen in a file dialog (always offered, and
/// opened by itself when no dialog could be shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PathEntry {
    pub purpose: Purpose,
    pub text: String,
    /// The file dialog could not be shown: say so above the field.
    pub no_dialog: bool,
    /// Just opened: take the keyboard focus and scroll into view (once).
    pub focus: bool,
    /// Select the whole text as it takes the focus: a link that failed
    /// is back in the field, ready to be corrected or replaced.
    pub select: bool,
    /// Why the typed path was not taken ("No file at this path.").
    pub error: Option<String>,
}

/// The image file's own SHA-256, computed in the background after opening
/// (the shell holds the channel while it is `Computing`).
pub(super) enum FileHash {
    None,
    Computing,
    Done(String),
    Failed(String),
}

/// A modal question: each asks the user to confirm something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Dialog {
    /// Select a drive over 128 GB?
    LargeDrive(PathBuf),
    /// Erase the selected drives?
    Flash,
    /// The window was asked to close while drives are being written.
    Quit,
    /// Cancel was pressed while drives are being written.
    Cancel,
    /// Which drive to clone?
    CloneSource,
}

/// Which screen is shown. Data only: the running flash or station is the
/// shell's.
pub(super) enum Screen {
    Select,
    /// A flash run, as the progress screen shows it.
    Flashing(FlashRun),
    Result(FlashRun),
    /// The Station view (`super::station_mode`).
    Station(Box<views::station::StationScreen>),
}

/// Everything the views read.
pub(super) struct AppState {
    pub drives: Vec<Drive>,
    pub drive_error: Option<String>,
    pub image: ImageSlot,
    pub selection: Selection,
    pub show_all: bool,
    pub config: ConfigForm,
    pub config_status: ConfigStatus,
    /// Verification and every-byte writing, from the "Options" section.
    pub run_options: RunOptions,
    pub path_entry: Option<PathEntry>,
    /// Unfold the configuration section this frame: a config.json just
    /// arrived (dropped, typed) and its check result must be seen.
    pub reveal_config: bool,
    pub file_hash: FileHash,
    /// The publisher's SHA-256 of the image file: pasted by the user, or
    /// found beside the image.
    pub expected_sha256: String,
    pub found_sha256: Option<Found>,
    /// What "Copy" last put on the clipboard, and when: the button says
    /// "Copied" for a moment.
    pub copied: Option<(String, Instant)>,
    pub dialog: Option<Dialog>,
    /// An error for the selection screen (refused flash, no elevation).
    pub notice: Option<Problem>,
    pub screen: Screen,
    /// Where the focus just moved (Tab): the scroll area brings it into
    /// view, so keyboard users never work below the fold.
    pub scroll_to_focus: Option<egui::Rect>,
    /// The decompressed size of the open image learned by an earlier
    /// flash, when its format records none.
    pub learned_size: Option<u64>,
    /// The WiFi network of an earlier session, offered ("Use HomeNet
    /// again?") while the field is empty; `None` once answered.
    pub remembered_ssid: Option<String>,
    /// The WiFi password field shows its text.
    pub show_password: bool,
    /// What each listed drive holds (backing file, partition names), by
    /// path, read after each change of the drive list.
    pub drive_holds: HashMap<PathBuf, Holds>,
}

impl AppState {
    /// The state at start-up, with the remembered choices.
    pub(super) fn new(show_all: bool, run_options: RunOptions) -> AppState {
        AppState {
            drives: Vec::new(),
            drive_error: None,
            image: ImageSlot::Empty,
            selection: Selection::default(),
            show_all,
            config: ConfigForm::default(),
            config_status: ConfigStatus::Unused,
            run_options,
            path_entry: None,
            reveal_config: false,
            file_hash: FileHash::None,
            expected_sha256: String::new(),
            found_sha256: None,
            copied: None,
            dialog: None,
            notice: None,
            screen: Screen::Select,
            scroll_to_focus: None,
            learned_size: None,
            remembered_ssid: None,
            show_password: false,
            drive_holds: HashMap::new(),
        }
    }
}

/// Whether `path` names a JSON file (a config.json), by its extension.
pub(super) fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

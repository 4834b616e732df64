//! The eframe app: owns the state, drains the channels of the background
//! work once per frame (`logic`), draws the current screen (`ui`), then
//! hands the actions the views reported to `commands`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crossbeam_channel::{Receiver, TryRecvError};

use super::checksum::{self, Found, Verdict};
use super::config_check::{ConfigCheck, ConfigForm, ConfigStatus};
use super::drive_feed::DriveUpdate;
use super::file_dialog::{FileChooser, FileDialog, Outcome, Purpose};
use super::image_probe::{self, ImageInfo, ProbeResult};
use super::message::{self, Problem};
use super::notify::{self, Notifier};
use super::options::{AppOptions, HelperOptions};
use super::run_event::Running;
use super::run_options::RunOptions;
use super::run_time;
use super::settings::Settings;
use super::state::{self, FlashRun, Selection};
use super::{theme, views};
use crate::drives::Drive;

/// The image step's state.
pub enum ImageSlot {
    Empty,
    Opening {
        path: PathBuf,
        rx: Receiver<ProbeResult>,
    },
    Ready(Box<ImageInfo>),
    /// The image cannot be used: it could not be opened, or a fault was
    /// found in it before anything was written.
    Failed {
        path: PathBuf,
        problem: Problem,
    },
}

/// A path typed instead of chosen in a file dialog (always offered, and
/// opened by itself when no dialog could be shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathEntry {
    pub purpose: Purpose,
    pub text: String,
    /// The file dialog could not be shown: say so above the field.
    pub no_dialog: bool,
    /// Just opened: take the keyboard focus and scroll into view (once).
    pub focus: bool,
    /// Why the typed path was not taken ("No file at this path.").
    pub error: Option<String>,
}

/// The image file's own SHA-256, computed in the background after opening.
pub enum FileHash {
    None,
    Computing(Receiver<Result<String, String>>),
    Done(String),
    Failed(String),
}

impl ImageSlot {
    pub fn info(&self) -> Option<&ImageInfo> {
        match self {
            ImageSlot::Ready(info) => Some(info),
            _ => None,
        }
    }
}

/// A modal question: each asks the user to confirm something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// Select a drive over 128 GB?
    LargeDrive(PathBuf),
    /// Erase the selected drives?
    Flash,
    /// The window was asked to close while drives are being written.
    Quit,
    /// Which drive to clone?
    CloneSource,
}

/// Which screen is shown.
pub enum Screen {
    Select,
    Flashing {
        run: FlashRun,
        running: Running,
    },
    Result(FlashRun),
    /// The Station view (`super::station_mode`).
    Station(Box<views::station::StationScreen>),
}

/// The whole app.
pub struct ImprintApp {
    pub(super) helper: HelperOptions,
    drive_rx: Receiver<DriveUpdate>,
    pub(super) drives: Vec<Drive>,
    pub(super) drive_error: Option<String>,
    pub(super) image: ImageSlot,
    pub(super) selection: Selection,
    pub(super) show_all: bool,
    pub(super) config: ConfigForm,
    pub(super) config_status: ConfigStatus,
    pub(super) config_check: Option<ConfigCheck>,
    /// Verification and every-byte writing, from the "Options" section.
    pub(super) run_options: RunOptions,
    /// A native file dialog is open; its answer arrives here.
    pub(super) file_dialog: Option<FileDialog>,
    pub(super) file_chooser: FileChooser,
    pub(super) path_entry: Option<PathEntry>,
    /// Unfold the configuration section this frame: a config.json just
    /// arrived (dropped, typed) and its check result must be seen.
    pub(super) reveal_config: bool,
    pub(super) file_hash: FileHash,
    /// The publisher's SHA-256 of the image file: pasted by the user, or
    /// found beside the image.
    pub(super) expected_sha256: String,
    pub(super) found_sha256: Option<Found>,
    /// What "Copy" last put on the clipboard, and when: the button says
    /// "Copied" for a moment.
    pub(super) copied: Option<(String, Instant)>,
    pub(super) dialog: Option<Dialog>,
    /// An error for the selection screen (refused flash, no elevation).
    pub(super) notice: Option<Problem>,
    pub(super) screen: Screen,
    /// The user chose to quit during a flash; let the close through.
    pub(super) quit_confirmed: bool,
    /// The widget that had the keyboard focus last frame.
    last_focus: Option<egui::Id>,
    /// Where the focus just moved (Tab): the scroll area brings it into
    /// view, so keyboard users never work below the fold.
    pub(super) scroll_to_focus: Option<egui::Rect>,
    notifier: Notifier,
    /// The remembered choices, where they are kept, and whether they
    /// changed this frame (saved once, after the frame's actions).
    pub(super) settings: Settings,
    config_dir: Option<PathBuf>,
    pub(super) settings_changed: bool,
    /// The decompressed size of the open image learned by an earlier
    /// flash, when its format records none.
    pub(super) learned_size: Option<u64>,
    /// The window title last set, so it is sent only when it changes.
    title: String,
}

impl ImprintApp {
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> ImprintApp {
        theme::apply(&cc.egui_ctx);
        let settings = Settings::load(options.config_dir.as_deref());
        let mut app = ImprintApp {
            helper: options.helper,
            drive_rx: options.drives.start(&cc.egui_ctx),
            drives: Vec::new(),
            drive_error: None,
            image: ImageSlot::Empty,
            selection: Selection::default(),
            show_all: settings.show_all_drives,
            config: ConfigForm::default(),
            config_status: ConfigStatus::Unused,
            config_check: None,
            run_options: settings.options,
            file_dialog: None,
            file_chooser: options.file_chooser,
            path_entry: None,
            reveal_config: false,
            file_hash: FileHash::None,
            expected_sha256: String::new(),
            found_sha256: None,
            copied: None,
            dialog: None,
            notice: None,
            screen: Screen::Select,
            quit_confirmed: false,
            last_focus: None,
            scroll_to_focus: None,
            notifier: options.notifier,
            settings,
            config_dir: options.config_dir,
            settings_changed: false,
            learned_size: None,
            title: "Imprint".into(),
        };
        if let Some(path) = options.image {
            app.open_image(path, &cc.egui_ctx);
        }
        app
    }

    /// Chooses a balenaOS config.json as the file dialog would (`None`
    /// removes it); it is validated against the image on the next frame.
    pub fn set_config_file(&mut self, path: Option<PathBuf>) {
        self.config.config_path = path;
        self.config_status = ConfigStatus::Unused;
        self.config_check = None;
    }

    /// Offers `path` as a target and ticks it, as "Write to an image
    /// file…" does with the file chosen in its save dialog.
    pub fn add_file_target(&mut self, path: PathBuf) {
        self.selection.add_file(&path);
    }

    /// The chosen targets (drives and image files), in the order chosen.
    pub fn selected_targets(&self) -> &[PathBuf] {
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
    pub(super) fn retryable(&self, run: &FlashRun) -> Vec<PathBuf> {
        run.failed_targets()
            .into_iter()
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
            ImageSlot::Opening { path, .. } | ImageSlot::Failed { path, .. } => path.as_path(),
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

    /// Changes the remembered choices; they are saved after this frame.
    pub(super) fn remember(&mut self, change: impl FnOnce(&mut Settings)) {
        let before = self.settings.clone();
        change(&mut self.settings);
        self.settings_changed |= self.settings != before;
    }

    fn save_settings(&mut self) {
        if !std::mem::take(&mut self.settings_changed) {
            return;
        }
        if let Some(dir) = &self.config_dir {
            // Remembering is a convenience: a read-only home is no error.
            let _ = self.settings.save(dir);
        }
    }

    /// What a typed-path field starts with: the last image folder, so
    /// only the file name is left to type.
    pub(super) fn path_entry_start(&self, purpose: Purpose) -> String {
        match (&self.settings.image_folder, purpose) {
            (Some(folder), Purpose::Image) => format!("{}/", folder.display()),
            _ => String::new(),
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
        match self.config_status {
            ConfigStatus::Invalid(_) => Some("Fix the balenaOS configuration first"),
            ConfigStatus::Checking => Some("Checking the configuration…"),
            _ => None,
        }
    }

    /// How the image file compares with its expected checksum.
    pub(super) fn checksum_verdict(&self) -> Verdict {
        checksum::verdict(
            &self.expected_sha256,
            self.found_sha256.as_ref(),
            &self.file_hash,
        )
    }

    pub(super) fn open_image(&mut self, path: PathBuf, ctx: &egui::Context) {
        self.notice = None;
        // A checksum belongs to one file.
        self.expected_sha256.clear();
        self.found_sha256 = checksum::find_beside(&path);
        self.learned_size = None;
        // A drive being cloned lives in /dev: no folder to start a dialog in.
        if let Some(folder) = std::fs::canonicalize(&path)
            .ok()
            .filter(|p| !image_probe::is_drive(p))
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            self.remember(|s| s.image_folder = Some(folder));
        }
        let rx = image_probe::start(path.clone(), ctx);
        // A link's file is not here to hash: it is downloaded as it is
        // written. A drive being cloned is no download with a published
        // checksum, and hashing it would read it all once more.
        self.file_hash = if crate::source::is_url(&path) || image_probe::is_drive(&path) {
            FileHash::None
        } else {
            FileHash::Computing(image_probe::hash_file(path.clone(), ctx))
        };
        self.image = ImageSlot::Opening { path, rx };
    }

    fn poll_file_hash(&mut self) {
        let FileHash::Computing(rx) = &self.file_hash else {
            return;
        };
        self.file_hash = match rx.try_recv() {
            Ok(Ok(hash)) => FileHash::Done(hash),
            Ok(Err(message)) => FileHash::Failed(message),
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => FileHash::Failed("internal error".into()),
        };
    }

    /// The image cannot be used after all: a fault found in it before
    /// anything was written.
    fn image_fault(&mut self, problem: Problem) {
        let path = match &self.image {
            ImageSlot::Ready(info) => info.source.path().to_path_buf(),
            ImageSlot::Opening { path, .. } | ImageSlot::Failed { path, .. } => path.clone(),
            ImageSlot::Empty => return,
        };
        self.image = ImageSlot::Failed { path, problem };
        self.config_status = ConfigStatus::Unused;
        self.config_check = None;
    }

    fn poll_image(&mut self) {
        let ImageSlot::Opening { path, rx } = &self.image else {
            return;
        };
        let next = match rx.try_recv() {
            Ok(Ok(info)) => ImageSlot::Ready(Box::new(info)),
            Ok(Err(problem)) => ImageSlot::Failed {
                path: path.clone(),
                problem,
            },
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => ImageSlot::Failed {
                path: path.clone(),
                problem: message::image_unreadable("the image probe stopped (internal error)"),
            },
        };
        if let ImageSlot::Ready(info) = &next
            && info.source.size_hint().is_none()
        {
            self.learned_size = self.settings.learned_size(info.source.path());
        }
        self.image = next;
        self.selection
            .retain_available(&self.drives, self.image_bytes());
        if let Some(source) = self.clone_source().map(Path::to_path_buf) {
            self.selection.remove(&source);
        }
        self.config_status = ConfigStatus::Unused;
        self.config_check = None;
    }

    fn poll_drives(&mut self) {
        // Only the newest list matters.
        while let Ok(update) = self.drive_rx.try_recv() {
            match update {
                Ok(drives) => {
                    self.drives = drives;
                    self.drive_error = None;
                }
                Err(message) => self.drive_error = Some(message),
            }
            let image_bytes = self.image_bytes();
            self.selection.retain_available(&self.drives, image_bytes);
        }
    }

    fn poll_file_dialog(&mut self, ctx: &egui::Context) {
        let Some((purpose, outcome)) = self.file_dialog.as_ref().and_then(FileDialog::poll) else {
            return;
        };
        self.file_dialog = None;
        match outcome {
            Outcome::Chosen(path) => self.use_path(purpose, path, ctx),
            Outcome::Cancelled => {}
            Outcome::Unavailable => {
                self.reveal_config |= purpose == Purpose::Config;
                self.path_entry = Some(PathEntry {
                    purpose,
                    text: self.path_entry_start(purpose),
                    no_dialog: true,
                    focus: true,
                    error: None,
                });
            }
        }
    }

    /// A file chosen for `purpose`, from a dialog, a typed path or a drop.
    pub(super) fn use_path(&mut self, purpose: Purpose, path: PathBuf, ctx: &egui::Context) {
        if self
            .path_entry
            .as_ref()
            .is_some_and(|e| e.purpose == purpose)
        {
            self.path_entry = None;
        }
        match purpose {
            Purpose::Image | Purpose::Url => self.open_image(path, ctx),
            Purpose::Config => {
                self.config.config_path = Some(path);
                if self.config.wifi_ssid.is_empty() {
                    // The network of last time; its password is never kept.
                    self.config.wifi_ssid = self.settings.wifi_ssid.clone();
                }
                self.reveal_config = true;
                self.revalidate_config(ctx);
            }
            Purpose::FileTarget => self.add_file_target(path),
        }
    }

    fn poll_config(&mut self, ctx: &egui::Context) {
        // A new image means the configuration must be checked against it.
        if matches!(self.config_status, ConfigStatus::Unused)
            && self.config_check.is_none()
            && !self.config.is_empty()
            && self.image.info().is_some()
        {
            self.revalidate_config(ctx);
        }
        match self.config_check.as_ref().and_then(ConfigCheck::poll) {
            Some(Ok(status)) => {
                self.config_status = status;
                self.config_check = None;
            }
            Some(Err(image_fault)) => self.image_fault(image_fault),
            None => {}
        }
    }

    pub(super) fn revalidate_config(&mut self, ctx: &egui::Context) {
        self.config_check = None;
        if self.config.is_empty() {
            self.config_status = ConfigStatus::Unused;
            return;
        }
        if let Some(message) = self.config.local_error() {
            self.config_status = ConfigStatus::Invalid(Problem::new(message, ""));
            return;
        }
        match self.image.info() {
            Some(info) => {
                self.config_check = Some(ConfigCheck::start(&self.config, &info.source, ctx));
                self.config_status = ConfigStatus::Checking;
            }
            None => self.config_status = ConfigStatus::Unused,
        }
    }

    fn poll_run(&mut self, ctx: &egui::Context) {
        let Screen::Flashing { run, running } = &mut self.screen else {
            return;
        };
        let now = Instant::now();
        loop {
            match running.events.try_recv() {
                Ok(event) => run.apply(event, now),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    if !run.finished() {
                        if run.failure.is_none() {
                            run.failure = Some(
                                "The flash stopped unexpectedly. Flash again.\n\n\
                                 The engine's event channel closed before it finished."
                                    .into(),
                            );
                        }
                        run.finish();
                    }
                    break;
                }
            }
            if run.finished() {
                break;
            }
        }
        let Screen::Flashing { run, .. } = std::mem::replace(&mut self.screen, Screen::Select)
        else {
            return;
        };
        // "Stop flashing and quit?" no longer applies: nothing is running.
        if self.dialog == Some(Dialog::Quit) {
            self.dialog = None;
        }
        self.learn_size(&run);
        // Minutes may have passed with the user in another window.
        if !ctx.input(|i| i.focused) {
            self.notifier.send(notify::for_run(&run));
        }
        // A link is downloaded once per run: open it afresh for the next.
        if let Some(url) = self
            .image
            .info()
            .filter(|info| info.source.download().is_some())
            .map(|info| info.source.path().to_path_buf())
        {
            self.open_image(url, ctx);
        }
        match run.ended_before_start() {
            Some(problem) => self.notice = Some(problem),
            None => self.screen = Screen::Result(run),
        }
    }

    /// A run that read the image to its end learned its decompressed size:
    /// remembered when the format does not record it.
    fn learn_size(&mut self, run: &FlashRun) {
        let (Some(bytes), Some(info)) = (run.image_bytes, self.image.info()) else {
            return;
        };
        if info.source.size_hint().is_some() || info.source.file_size().is_none() {
            return;
        }
        let path = info.source.path().to_path_buf();
        self.learned_size = Some(bytes);
        self.remember(|s| s.learn_size(&path, bytes));
    }

    /// The progress in the window's title, for the taskbar.
    fn update_title(&mut self, ctx: &egui::Context) {
        let title = match &self.screen {
            Screen::Flashing { run, .. } => run_time::window_title(Some(run), None),
            Screen::Result(run) => run_time::window_title(None, Some(run)),
            Screen::Select => run_time::window_title(None, None),
            Screen::Station(_) => "Station — Imprint".to_string(),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    /// Closing the window mid-flash would leave half-written drives: ask
    /// first (the close is cancelled until the user confirms).
    fn guard_close(&mut self, ctx: &egui::Context) {
        let flashing = matches!(self.screen, Screen::Flashing { .. });
        if flashing && !self.quit_confirmed && ctx.input(|i| i.viewport().close_requested()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.dialog = Some(Dialog::Quit);
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        if !matches!(self.screen, Screen::Select) {
            return;
        }
        // A config.json is never a disk image: dropped anywhere (the
        // configuration section included), it becomes the configuration.
        if let Some(path) = dropped.first().map(|f| f.path().to_path_buf()) {
            let purpose = if is_json(&path) {
                Purpose::Config
            } else {
                Purpose::Image
            };
            self.use_path(purpose, path, ctx);
        }
    }
}

impl ImprintApp {
    /// Notes where the keyboard focus moved since last frame (its rect is
    /// last frame's), for the scroll area to show it.
    fn follow_focus(&mut self, ctx: &egui::Context) {
        let focused = ctx.memory(|m| m.focused());
        self.scroll_to_focus = None;
        if focused != self.last_focus {
            self.last_focus = focused;
            self.scroll_to_focus = focused.and_then(|id| ctx.read_response(id)).map(|r| r.rect);
        }
    }
}

/// Whether `path` names a JSON file (a config.json), by its extension.
pub fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

impl eframe::App for ImprintApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_drives();
        self.poll_image();
        self.poll_file_hash();
        self.poll_file_dialog(ctx);
        self.poll_config(ctx);
        self.poll_run(ctx);
        self.poll_station();
        self.update_title(ctx);
        self.handle_dropped_files(ctx);
        self.guard_close(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut actions = Vec::new();
        self.follow_focus(ui.ctx());
        // Ctrl+O (Cmd+O on macOS) opens an image, as in every other app.
        let open = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::O);
        if matches!(self.screen, Screen::Select)
            && self.dialog.is_none()
            && ui.ctx().input_mut(|i| i.consume_shortcut(&open))
        {
            actions.push(super::action::Action::PickImage);
        }
        views::app_ui(ui, self, &mut actions);
        self.reveal_config = false;
        if let Some(entry) = &mut self.path_entry {
            entry.focus = false;
        }
        let ctx = ui.ctx().clone();
        for action in actions {
            self.handle(action, &ctx);
        }
        self.save_settings();
    }
}

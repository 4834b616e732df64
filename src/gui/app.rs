//! The eframe app — the shell: it owns the [`AppState`] the views read and
//! everything they must not see (the channels of the background work, the
//! running flash or station, the helper, the remembered settings). Once per
//! frame it drains the channels (`logic`, in `app_poll`), draws the current
//! screen from the state (`ui`), then hands the actions the views reported
//! to `commands` (docs/architecture.md §6).

use std::collections::HashMap;
use std::path::PathBuf;

use crossbeam_channel::Receiver;

use super::app_state::{AppState, Dialog, Screen};
use super::config_check::{ConfigCheck, ConfigStatus};
use super::drive_feed::DriveUpdate;
use super::drive_holds::Holds;
use super::file_dialog::{FileChooser, FileDialog, Purpose};
use super::image_probe::ProbeResult;
use super::notify::Notifier;
use super::options::{AppOptions, HelperOptions};
use super::run_event::Running;
use super::run_time;
use super::settings::Settings;
use super::station_board::StationRun;
use super::{theme, views};

use super::app_state::is_json;

/// The whole app: the state the views show, and the shell around it.
pub struct ImprintApp {
    /// What the views read (plain data).
    pub(super) state: AppState,
    pub(super) helper: HelperOptions,
    pub(super) drive_rx: Receiver<DriveUpdate>,
    /// The image being opened (`ImageSlot::Opening`) reports here.
    pub(super) image_rx: Option<Receiver<ProbeResult>>,
    /// The image file's SHA-256 (`FileHash::Computing`) arrives here.
    pub(super) hash_rx: Option<Receiver<Result<String, String>>>,
    /// The flash shown by `Screen::Flashing`: its events and its cancel.
    pub(super) running: Option<Running>,
    /// The station shown by `Screen::Station`, once started.
    pub(super) station_run: Option<StationRun>,
    pub(super) config_check: Option<ConfigCheck>,
    /// A native file dialog is open; its answer arrives here.
    pub(super) file_dialog: Option<FileDialog>,
    pub(super) file_chooser: FileChooser,
    /// The user chose to quit during a flash; let the close through.
    pub(super) quit_confirmed: bool,
    /// The widget that had the keyboard focus last frame.
    last_focus: Option<egui::Id>,
    pub(super) notifier: Notifier,
    /// The remembered choices, where they are kept, and whether they
    /// changed this frame (saved once, after the frame's actions).
    pub(super) settings: Settings,
    config_dir: Option<PathBuf>,
    pub(super) settings_changed: bool,
    /// The window title last set, so it is sent only when it changes.
    title: String,
    /// What the listed drives hold, being read (`drive_holds`).
    pub(super) holds_rx: Option<Receiver<HashMap<PathBuf, Holds>>>,
    /// The image files the current run creates (removed if unfinished).
    pub(super) created_files: Vec<PathBuf>,
}

impl ImprintApp {
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> ImprintApp {
        theme::apply(&cc.egui_ctx);
        let settings = Settings::load(options.config_dir.as_deref());
        let mut app = ImprintApp {
            state: AppState::new(settings.show_all_drives, settings.options),
            helper: options.helper,
            drive_rx: options.drives.start(&cc.egui_ctx),
            image_rx: None,
            hash_rx: None,
            running: None,
            station_run: None,
            config_check: None,
            file_dialog: None,
            file_chooser: options.file_chooser,
            quit_confirmed: false,
            last_focus: None,
            notifier: options.notifier,
            settings,
            config_dir: options.config_dir,
            settings_changed: false,
            title: "Imprint".into(),
            holds_rx: None,
            created_files: Vec::new(),
        };
        let ssid = app.settings.wifi_ssid.trim();
        app.state.remembered_ssid = (!ssid.is_empty()).then(|| ssid.to_string());
        if let Some(path) = options.image {
            app.open_image(path, &cc.egui_ctx);
        }
        app
    }

    /// Chooses a balenaOS config.json as the file dialog would (`None`
    /// removes it); it is validated against the image on the next frame.
    pub fn set_config_file(&mut self, path: Option<PathBuf>) {
        self.state.config.config_path = path;
        self.state.config_status = ConfigStatus::Unused;
        self.config_check = None;
    }

    /// Offers `path` as a target and ticks it, as "Write to an image
    /// file…" does with the file chosen in its save dialog.
    pub fn add_file_target(&mut self, path: PathBuf) {
        self.state.selection.add_file(&path);
    }

    /// The chosen targets (drives and image files), in the order chosen.
    pub fn selected_targets(&self) -> &[PathBuf] {
        self.state.selected_targets()
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

    /// The progress in the window's title, for the taskbar.
    fn update_title(&mut self, ctx: &egui::Context) {
        let title = match &self.state.screen {
            Screen::Flashing(run) => run_time::window_title(Some(run), None),
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
        let flashing = matches!(self.state.screen, Screen::Flashing(_));
        if flashing && !self.quit_confirmed && ctx.input(|i| i.viewport().close_requested()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.state.dialog = Some(Dialog::Quit);
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        if !matches!(self.state.screen, Screen::Select) {
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

    /// Notes where the keyboard focus moved since last frame (its rect is
    /// last frame's), for the scroll area to show it.
    fn follow_focus(&mut self, ctx: &egui::Context) {
        let focused = ctx.memory(|m| m.focused());
        self.state.scroll_to_focus = None;
        if focused != self.last_focus {
            self.last_focus = focused;
            self.state.scroll_to_focus =
                focused.and_then(|id| ctx.read_response(id)).map(|r| r.rect);
        }
    }
}

impl eframe::App for ImprintApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_drives(ctx);
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
        if matches!(self.state.screen, Screen::Select)
            && self.state.dialog.is_none()
            && ui.ctx().input_mut(|i| i.consume_shortcut(&open))
        {
            actions.push(super::action::Action::PickImage);
        }
        views::app_ui(ui, &self.state, &mut actions);
        self.state.reveal_config = false;
        if let Some(entry) = &mut self.state.path_entry {
            entry.focus = false;
        }
        let ctx = ui.ctx().clone();
        for action in actions {
            self.handle(action, &ctx);
        }
        self.save_settings();
    }
}

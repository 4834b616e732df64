//! The selection screen's commands: choosing the image, the drives, the
//! configuration and the options (docs/architecture.md §6).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::app::ImprintApp;
use super::app_state::Dialog;
use super::config_check::ConfigForm;
use super::demo_image;
use super::file_dialog::{FileDialog, Purpose};
use super::message::Problem;
use super::run_options::RunOptions;
use super::state::Availability;
use crate::source::ImageFormat;

impl ImprintApp {
    pub(super) fn pick_image(&mut self, ctx: &egui::Context) {
        self.start_file_dialog(Purpose::Image, ctx);
    }

    pub(super) fn use_demo_image(&mut self, ctx: &egui::Context) {
        match demo_image::write() {
            Ok(path) => self.open_image(path, ctx),
            Err(message) => {
                self.state.notice = Some(
                    Problem::new(
                        "The demo image could not be prepared.",
                        "Check that the temporary folder has a few MB free, then try again.",
                    )
                    .with_details(message),
                );
            }
        }
    }

    pub(super) fn pick_clone_source(&mut self) {
        self.state.dialog = Some(Dialog::CloneSource);
    }

    pub(super) fn clone_from(&mut self, path: PathBuf, ctx: &egui::Context) {
        self.state.dialog = None;
        // Never read and written at once.
        self.state.selection.remove(&path);
        self.open_image(path, ctx);
    }

    pub(super) fn pick_file_target(&mut self, ctx: &egui::Context) {
        self.start_file_dialog(Purpose::FileTarget, ctx);
    }

    pub(super) fn remove_file_target(&mut self, path: &Path) {
        self.state.selection.remove_file(path);
    }

    pub(super) fn toggle_drive(&mut self, path: PathBuf) {
        let state = &mut self.state;
        if state.selection.contains(&path) {
            state.selection.remove(&path);
            return;
        }
        if state.selection.is_file(&path) {
            state.selection.add(&path);
            return;
        }
        let Some(drive) = state.drives.iter().find(|d| d.path == path) else {
            return;
        };
        match state.drive_availability(drive) {
            Availability::Selectable => state.selection.add(&path),
            Availability::NeedsConfirmation => state.dialog = Some(Dialog::LargeDrive(path)),
            Availability::Blocked(_) => {}
        }
    }

    pub(super) fn confirm_large_drive(&mut self, path: &Path) {
        self.state.selection.add(path);
        self.state.dialog = None;
    }

    pub(super) fn set_show_all(&mut self, show_all: bool) {
        self.state.show_all = show_all;
        self.remember(|s| s.show_all_drives = show_all);
        if !show_all {
            // Never flash a drive the list no longer shows.
            let hidden: Vec<PathBuf> = self
                .state
                .drives
                .iter()
                .filter(|d| !d.is_flashable_by_default())
                .map(|d| d.path.clone())
                .collect();
            for path in hidden {
                self.state.selection.remove(&path);
            }
        }
    }

    pub(super) fn pick_config(&mut self, ctx: &egui::Context) {
        self.start_file_dialog(Purpose::Config, ctx);
    }

    pub(super) fn clear_config(&mut self, ctx: &egui::Context) {
        self.state.config = ConfigForm::default();
        self.revalidate_config(ctx);
    }

    pub(super) fn set_wifi(&mut self, ssid: String, psk: String, open: bool, ctx: &egui::Context) {
        if !ssid.trim().is_empty() {
            let name = ssid.trim().to_string();
            self.remember(|s| s.wifi_ssid = name);
            // Answered: the field holds a network now.
            self.state.remembered_ssid = None;
        }
        self.state.config.wifi_ssid = ssid;
        // The tick clears the password: what is written is what is shown.
        self.state.config.wifi_psk = if open { String::new() } else { psk };
        self.state.config.open_network = open;
        self.revalidate_config(ctx);
    }

    pub(super) fn set_run_options(&mut self, options: RunOptions) {
        self.state.run_options = options;
        self.remember(|s| s.options = options);
    }

    pub(super) fn set_expected_sha256(&mut self, text: String) {
        self.state.expected_sha256 = text;
    }

    pub(super) fn copy(&mut self, text: String, ctx: &egui::Context) {
        ctx.copy_text(text.clone());
        self.state.copied = Some((text, Instant::now()));
    }

    pub(super) fn dismiss_notice(&mut self) {
        self.state.notice = None;
    }

    fn start_file_dialog(&mut self, purpose: Purpose, ctx: &egui::Context) {
        if self.file_dialog.is_some() {
            return;
        }
        self.file_dialog = Some(FileDialog::open(
            purpose,
            &self.suggested_file_name(),
            self.settings.image_folder.as_deref(),
            self.file_chooser,
            ctx,
        ));
    }

    /// The name the save dialog suggests: the image's, without the
    /// compression ("demo.img.xz" → "demo.img").
    fn suggested_file_name(&self) -> String {
        let Some(info) = self.state.image.info() else {
            return "image.img".into();
        };
        let name = info.name.as_str();
        let stem = ImageFormat::ALL
            .iter()
            .flat_map(|format| format.file_extensions())
            .find_map(|ext| name.strip_suffix(ext).and_then(|s| s.strip_suffix('.')))
            .unwrap_or(name);
        if stem.ends_with(".img") {
            stem.to_string()
        } else {
            format!("{stem}.img")
        }
    }
}

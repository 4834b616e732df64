//! Command handling: carries out the [`Action`]s the views reported this
//! frame — selection changes, dialogs, and starting or cancelling a run.

use std::path::PathBuf;
use std::time::Instant;

use super::action::Action;
use super::app::{Dialog, ImprintApp, PathEntry, Screen};
use super::config_check::{ConfigForm, ConfigStatus};
use super::file_dialog::{FileDialog, Purpose};
use super::message::Problem;
use super::state::{Availability, FlashRun, Outcome};
use super::{demo_image, engine_run, helper};
use crate::request;
use crate::source::ImageFormat;

impl ImprintApp {
    pub(super) fn handle(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::PickImage => self.start_file_dialog(Purpose::Image, ctx),
            Action::UseDemoImage => match demo_image::write() {
                Ok(path) => self.open_image(path, ctx),
                Err(message) => {
                    self.notice = Some(
                        Problem::new(
                            "The demo image could not be prepared.",
                            "Check that the temporary folder has a few MB free, then try again.",
                        )
                        .with_details(message),
                    );
                }
            },
            Action::PickCloneSource => self.dialog = Some(Dialog::CloneSource),
            Action::CloneFrom(path) => {
                self.dialog = None;
                // Never read and written at once.
                self.selection.remove(&path);
                self.open_image(path, ctx);
            }
            Action::PickFileTarget => self.start_file_dialog(Purpose::FileTarget, ctx),
            Action::RemoveFileTarget(path) => self.selection.remove_file(&path),
            Action::ToggleDrive(path) => self.toggle_drive(path),
            Action::ConfirmLargeDrive(path) => {
                self.selection.add(&path);
                self.dialog = None;
            }
            Action::SetShowAll(show_all) => {
                self.show_all = show_all;
                self.remember(|s| s.show_all_drives = show_all);
                if !show_all {
                    // Never flash a drive the list no longer shows.
                    let hidden: Vec<PathBuf> = self
                        .drives
                        .iter()
                        .filter(|d| !d.is_flashable_by_default())
                        .map(|d| d.path.clone())
                        .collect();
                    for path in hidden {
                        self.selection.remove(&path);
                    }
                }
            }
            Action::PickConfig => self.start_file_dialog(Purpose::Config, ctx),
            Action::ClearConfig => {
                self.config = ConfigForm::default();
                self.revalidate_config(ctx);
            }
            Action::SetWifi { ssid, psk } => {
                if !ssid.trim().is_empty() {
                    let name = ssid.trim().to_string();
                    self.remember(|s| s.wifi_ssid = name);
                }
                self.config.wifi_ssid = ssid;
                self.config.wifi_psk = psk;
                self.revalidate_config(ctx);
            }
            Action::SetRunOptions(options) => {
                self.run_options = options;
                self.remember(|s| s.options = options);
            }
            Action::SetExpectedSha256(text) => self.expected_sha256 = text,
            Action::RequestFlash => {
                if self.flash_blocker().is_some() {
                    return;
                }
                // Ask for elevation only if it can be had: a missing pkexec
                // is said before the user confirms erasing anything.
                if self.helper.needed_for(self.selection.targets())
                    && let Err(problem) = self.helper.check_elevation()
                {
                    self.notice = Some(problem);
                    return;
                }
                self.dialog = Some(Dialog::Flash);
            }
            Action::StartFlash => {
                self.dialog = None;
                self.start_flash(ctx);
            }
            Action::CloseDialog => self.dialog = None,
            Action::CancelAndQuit => {
                self.dialog = None;
                if let Screen::Flashing { run, running } = &mut self.screen {
                    run.cancel_requested = true;
                    running.cancel.cancel();
                }
                self.quit_confirmed = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Action::Cancel => {
                if let Screen::Flashing { run, running } = &mut self.screen {
                    run.cancel_requested = true;
                    running.cancel.cancel();
                }
            }
            Action::FlashAnother => {
                // Drives that were just written successfully are done:
                // flashing them again by accident would be a waste at best.
                if let Screen::Result(run) = &self.screen
                    && run.outcome() == Outcome::Complete
                {
                    for target in run.targets.iter().map(|t| t.path.clone()) {
                        self.selection.remove(&target);
                    }
                }
                self.screen = Screen::Select;
            }
            Action::OpenStation
            | Action::EditStationMatch(_)
            | Action::EditStationReport(_)
            | Action::StartStation
            | Action::StopStation
            | Action::LeaveStation => self.handle_station(action, ctx),
            Action::RetryFailed(targets) => {
                self.screen = Screen::Select;
                for target in self.selection.targets().to_vec() {
                    self.selection.remove(&target);
                }
                for target in &targets {
                    self.selection.add(target);
                }
                // Through the same confirmation as Flash!: it erases.
                self.handle(Action::RequestFlash, ctx);
            }
            Action::Copy(text) => {
                ctx.copy_text(text.clone());
                self.copied = Some((text, Instant::now()));
            }
            Action::DismissNotice => self.notice = None,
            Action::TypePath(purpose) => {
                self.reveal_config |= purpose == Purpose::Config;
                self.path_entry = Some(PathEntry {
                    purpose,
                    text: self.path_entry_start(purpose),
                    no_dialog: false,
                    focus: true,
                    error: None,
                });
            }
            Action::EditPath(text) => {
                if let Some(entry) = &mut self.path_entry {
                    entry.text = text;
                    entry.error = None;
                }
            }
            Action::SubmitPath => {
                let Some(entry) = &mut self.path_entry else {
                    return;
                };
                let Some(path) = typed_path(&entry.text) else {
                    return;
                };
                // Said at once, beside the field, rather than after Flash!.
                if let Some(error) = path_problem(entry.purpose, &path) {
                    entry.error = Some(error.to_string());
                    return;
                }
                let purpose = entry.purpose;
                self.use_path(purpose, path, ctx);
            }
            Action::ClosePathEntry => self.path_entry = None,
        }
    }

    fn toggle_drive(&mut self, path: PathBuf) {
        if self.selection.contains(&path) {
            self.selection.remove(&path);
            return;
        }
        if self.selection.is_file(&path) {
            self.selection.add(&path);
            return;
        }
        let Some(drive) = self.drives.iter().find(|d| d.path == path) else {
            return;
        };
        match self.drive_availability(drive) {
            Availability::Selectable => self.selection.add(&path),
            Availability::NeedsConfirmation => self.dialog = Some(Dialog::LargeDrive(path)),
            Availability::Blocked(_) => {}
        }
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
        let Some(info) = self.image.info() else {
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

    fn start_flash(&mut self, ctx: &egui::Context) {
        let Some(info) = self.image.info() else {
            return;
        };
        let targets = self.selection.targets().to_vec();
        let names = targets
            .iter()
            .map(|t| (t.clone(), self.target_name(t)))
            .collect();
        let mut run = FlashRun::new(info.name.clone(), names);
        run.configured = !self.config.is_empty();
        run.verify = self.run_options.verify;
        run.eject = self.run_options.eject;
        for target in &mut run.targets {
            target.is_file = self.selection.is_file(&target.path);
        }
        let running = if self.helper.needed_for(&targets) {
            let job = helper::HelperJob {
                image: info.source.path().to_path_buf(),
                targets,
                config: self.config.to_options(),
                options: self.run_options,
            };
            // The helper gets a download of its own: this one would only
            // hold a connection open (the link is opened again afterwards).
            info.source.close();
            helper::start(job, &self.helper, ctx)
        } else {
            let configured = match &self.config_status {
                ConfigStatus::Valid(configured) => Some(configured.as_ref().clone()),
                _ => None,
            };
            // The image and its configuration are already open and checked;
            // the rest (a bmap beside the image, --full) as for the command
            // line (docs/architecture.md §1).
            let options = request::FlashOptions {
                image: info.source.path().to_path_buf(),
                targets,
                config: self.config.to_options(),
                verify: self.run_options.verify,
                expected_sha256: None,
                full: self.run_options.full,
                eject: self.run_options.eject,
                bmap: request::BmapChoice::Beside,
            };
            match request::prepare_opened(info.source.clone(), configured, &options) {
                Ok(prepared) => engine_run::start(prepared.job, self.run_options.eject, ctx),
                Err(e) => {
                    self.notice = Some(super::message::image_unreadable(&e.to_string()));
                    return;
                }
            }
        };
        self.notice = None;
        self.screen = Screen::Flashing { run, running };
    }
}

/// A typed path as the user means it: trimmed, quotes a file manager's
/// "copy path" adds removed, `~/` in the home folder; `None` when empty.
fn typed_path(text: &str) -> Option<PathBuf> {
    let text = text.trim().trim_matches(['"', '\'']);
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return Some(PathBuf::from(home).join(rest));
    }
    Some(PathBuf::from(text))
}

/// Why a typed path cannot be used for `purpose`, if it cannot.
fn path_problem(purpose: Purpose, path: &std::path::Path) -> Option<&'static str> {
    match purpose {
        Purpose::Url if !crate::source::is_url(path) => {
            Some("Enter a link that starts with http:// or https://.")
        }
        Purpose::Url => None,
        Purpose::Image | Purpose::Config if !path.exists() => Some("No file at this path."),
        Purpose::Image | Purpose::Config if path.is_dir() => {
            Some("This is a folder: type the path of a file in it.")
        }
        Purpose::FileTarget if path.is_dir() => {
            Some("This is a folder: add the name of the image file to write.")
        }
        Purpose::FileTarget
            if !path
                .parent()
                .is_some_and(|p| p.as_os_str().is_empty() || p.is_dir()) =>
        {
            Some("This folder does not exist.")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_paths_are_taken_as_meant() {
        assert_eq!(typed_path("  "), None);
        assert_eq!(
            typed_path(" '/tmp/a b.img' "),
            Some(PathBuf::from("/tmp/a b.img"))
        );
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(
                typed_path("~/x.img"),
                Some(PathBuf::from(home).join("x.img"))
            );
        }
    }
}

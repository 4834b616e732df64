//! Command handling: carries out the [`Action`]s the views reported this
//! frame, one method per action. Starting, stopping and leaving a run are
//! here; the selection screen's commands are in `select_commands`, the
//! typed paths' in `path_commands`, the Station's in `station_mode`.

use std::path::PathBuf;

use super::action::Action;
use super::app::ImprintApp;
use super::app_state::{Dialog, Screen};
use super::config_check::ConfigStatus;
use super::state::{FlashRun, Outcome};
use super::{engine_run, file_target, helper};
use crate::request;

impl ImprintApp {
    pub(super) fn handle(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::PickImage => self.pick_image(ctx),
            Action::UseDemoImage => self.use_demo_image(ctx),
            Action::PickCloneSource => self.pick_clone_source(),
            Action::CloneFrom(path) => self.clone_from(path, ctx),
            Action::PickFileTarget => self.pick_file_target(ctx),
            Action::RemoveFileTarget(path) => self.remove_file_target(&path),
            Action::ToggleDrive(path) => self.toggle_drive(path),
            Action::ConfirmLargeDrive(path) => self.confirm_large_drive(&path),
            Action::SetShowAll(show_all) => self.set_show_all(show_all),
            Action::PickConfig => self.pick_config(ctx),
            Action::ClearConfig => self.clear_config(ctx),
            Action::Customise => self.state.reveal_config = true,
            Action::SetWifi { ssid, psk, open } => self.set_wifi(ssid, psk, open, ctx),
            Action::DismissWifiOffer => self.state.remembered_ssid = None,
            Action::ShowPassword(show) => self.state.show_password = show,
            Action::SetRunOptions(options) => self.set_run_options(options),
            Action::SetExpectedSha256(text) => self.set_expected_sha256(text),
            Action::RequestFlash => self.request_flash(),
            Action::StartFlash => self.confirm_flash(ctx),
            Action::CloseDialog => self.close_dialog(),
            Action::CancelAndQuit => self.cancel_and_quit(ctx),
            Action::RequestCancel => self.request_cancel(),
            Action::Cancel => self.cancel(),
            Action::FlashAnother => self.flash_another(),
            Action::RetryFailed(targets) => self.retry_failed(&targets),
            Action::Copy(text) => self.copy(text, ctx),
            Action::DismissNotice => self.dismiss_notice(),
            Action::TypePath(purpose) => self.type_path(purpose),
            Action::EditPath(text) => self.edit_path(text),
            Action::SubmitPath => self.submit_path(ctx),
            Action::ClosePathEntry => self.close_path_entry(),
            Action::CancelOpening => self.cancel_opening(),
            Action::OpenStation => self.open_station(),
            Action::EditStationMatch(text) => self.edit_station_match(text),
            Action::EditStationReport(text) => self.edit_station_report(text),
            Action::StartStation => self.start_station(ctx),
            Action::SetStationAgain(on) => self.set_station_again(on),
            Action::SetStationAllowLarge(on) => self.set_station_allow_large(on),
            Action::StopStation => self.stop_station(),
            Action::LeaveStation => self.leave_station(),
        }
    }

    fn request_flash(&mut self) {
        if self.state.flash_blocker().is_some() {
            return;
        }
        // Ask for elevation only if it can be had: a missing pkexec
        // is said before the user confirms erasing anything.
        if self.helper.needed_for(self.state.selection.targets())
            && let Err(problem) = self.helper.check_elevation()
        {
            self.state.notice = Some(problem);
            return;
        }
        // An image file must fit where it goes: said before erasing.
        if let Some(bytes) = self.state.image_bytes() {
            let state = &self.state;
            let short = state.selection.targets().iter().find_map(|t| {
                state
                    .selection
                    .is_file(t)
                    .then(|| file_target::space_problem(t, bytes))
                    .flatten()
            });
            if let Some(problem) = short {
                self.state.notice = Some(problem);
                return;
            }
        }
        self.state.dialog = Some(Dialog::Flash);
    }

    /// "Erase and flash" in the confirmation.
    fn confirm_flash(&mut self, ctx: &egui::Context) {
        self.state.dialog = None;
        self.start_flash(ctx);
    }

    fn close_dialog(&mut self) {
        self.state.dialog = None;
    }

    fn cancel_and_quit(&mut self, ctx: &egui::Context) {
        self.state.dialog = None;
        self.cancel();
        self.quit_confirmed = true;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// Cancel during a run leaves half-written drives: asked first, as
    /// closing the window is (a second press while asking does nothing).
    fn request_cancel(&mut self) {
        if matches!(self.state.screen, Screen::Flashing(_)) {
            self.state.dialog = Some(Dialog::Cancel);
        }
    }

    fn cancel(&mut self) {
        self.state.dialog = None;
        if let (Screen::Flashing(run), Some(running)) = (&mut self.state.screen, &self.running) {
            run.cancel_requested = true;
            running.cancel.cancel();
        }
    }

    fn flash_another(&mut self) {
        let state = &mut self.state;
        // Drives that were just written successfully are done:
        // flashing them again by accident would be a waste at best.
        if let Screen::Result(run) = &state.screen
            && run.outcome() == Outcome::Complete
        {
            for target in run.targets.iter().map(|t| t.path.clone()) {
                state.selection.remove(&target);
            }
        }
        state.screen = Screen::Select;
    }

    fn retry_failed(&mut self, targets: &[PathBuf]) {
        let state = &mut self.state;
        state.screen = Screen::Select;
        for target in state.selection.targets().to_vec() {
            state.selection.remove(&target);
        }
        for target in targets {
            state.selection.add(target);
        }
        // Through the same confirmation as Flash!: it erases.
        self.request_flash();
    }

    fn start_flash(&mut self, ctx: &egui::Context) {
        let Some(info) = self.state.image.info() else {
            return;
        };
        let targets = self.state.selection.targets().to_vec();
        self.created_files = file_target::new_files(&targets, |t| self.state.selection.is_file(t));
        let names = targets
            .iter()
            .map(|t| (t.clone(), self.state.target_name(t)))
            .collect();
        let mut run = FlashRun::new(info.name.clone(), names);
        run.configured = !self.state.config.is_empty();
        run.configuration = self.state.config.summary();
        run.cloned = self.state.clone_source().is_some();
        run.verify = self.state.run_options.verify;
        run.eject = self.state.run_options.eject;
        for target in &mut run.targets {
            target.is_file = self.state.selection.is_file(&target.path);
        }
        let running = if self.helper.needed_for(&targets) {
            let job = helper::HelperJob {
                image: info.source.path().to_path_buf(),
                targets,
                config: self.state.config.to_options(),
                options: self.state.run_options,
            };
            // The helper gets a download of its own: this one would only
            // hold a connection open (the link is opened again afterwards).
            info.source.close();
            helper::start(job, &self.helper, ctx)
        } else {
            let configured = match &self.state.config_status {
                ConfigStatus::Valid(configured) => Some(configured.as_ref().clone()),
                _ => None,
            };
            // The image and its configuration are already open and checked;
            // the rest (a bmap beside the image, --full) as for the command
            // line (docs/architecture.md §1).
            let options = request::FlashOptions {
                image: info.source.path().to_path_buf(),
                targets,
                config: self.state.config.to_options(),
                customise: Default::default(),
                verify: self.state.run_options.verify,
                expected_sha256: None,
                full: self.state.run_options.full,
                eject: self.state.run_options.eject,
                bmap: request::BmapChoice::Beside,
            };
            match request::prepare_opened(info.source.clone(), configured, &options) {
                Ok(prepared) => engine_run::start(prepared.job, self.state.run_options.eject, ctx),
                Err(e) => {
                    self.state.notice = Some(super::message::image_unreadable(&e.to_string()));
                    return;
                }
            }
        };
        self.state.notice = None;
        self.state.screen = Screen::Flashing(run);
        self.running = Some(running);
    }
}

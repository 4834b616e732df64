//! The shell's per-frame logic: drains the channels of the background work
//! (drive list, image probe, file hash, file dialog, configuration check,
//! the flash run) into the [`AppState`], and
//! opens images and files chosen by any means.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crossbeam_channel::TryRecvError;

use super::app::ImprintApp;
use super::app_state::{AppState, Dialog, FileHash, ImageSlot, PathEntry, Screen};
use super::checksum;
use super::config_check::{ConfigCheck, ConfigStatus};
use super::drive_holds;
use super::file_dialog::{FileDialog, Outcome, Purpose};
use super::file_target;
use super::image_probe;
use super::message::{self, Problem};
use super::notify;
use super::state::FlashRun;
use crate::drives::Drive;

impl ImprintApp {
    pub(super) fn open_image(&mut self, path: PathBuf, ctx: &egui::Context) {
        let state = &mut self.state;
        state.notice = None;
        // A checksum belongs to one file.
        state.expected_sha256.clear();
        state.found_sha256 = checksum::find_beside(&path);
        state.learned_size = None;
        // A drive being cloned lives in /dev: no folder to start a dialog in.
        if let Some(folder) = std::fs::canonicalize(&path)
            .ok()
            .filter(|p| !image_probe::is_drive(p))
            .and_then(|p| p.parent().map(Path::to_path_buf))
        {
            self.remember(|s| s.image_folder = Some(folder));
        }
        self.image_rx = Some(image_probe::start(path.clone(), ctx));
        // A link's file is not here to hash: it is downloaded as it is
        // written. A drive being cloned is no download with a published
        // checksum, and hashing it would read it all once more.
        if crate::source::is_url(&path) || image_probe::is_drive(&path) {
            self.hash_rx = None;
            self.state.file_hash = FileHash::None;
        } else {
            self.hash_rx = Some(image_probe::hash_file(path.clone(), ctx));
            self.state.file_hash = FileHash::Computing;
        }
        self.state.image = ImageSlot::Opening { path };
    }

    pub(super) fn poll_file_hash(&mut self) {
        let Some(rx) = &self.hash_rx else {
            return;
        };
        self.state.file_hash = match rx.try_recv() {
            Ok(Ok(hash)) => FileHash::Done(hash),
            Ok(Err(message)) => FileHash::Failed(message),
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => FileHash::Failed("internal error".into()),
        };
        self.hash_rx = None;
    }

    /// The image cannot be used after all: a fault found in it before
    /// anything was written.
    fn image_fault(&mut self, problem: Problem) {
        let path = match &self.state.image {
            ImageSlot::Ready(info) => info.source.path().to_path_buf(),
            ImageSlot::Opening { path } | ImageSlot::Failed { path, .. } => path.clone(),
            ImageSlot::Empty => return,
        };
        self.image_rx = None;
        self.state.image = ImageSlot::Failed { path, problem };
        self.state.config_status = ConfigStatus::Unused;
        self.config_check = None;
    }

    pub(super) fn poll_image(&mut self) {
        let (ImageSlot::Opening { path }, Some(rx)) = (&self.state.image, &self.image_rx) else {
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
        self.image_rx = None;
        let state = &mut self.state;
        if let ImageSlot::Ready(info) = &next
            && info.source.size_hint().is_none()
        {
            state.learned_size = self.settings.learned_size(info.source.path());
        }
        state.image = next;
        let image_bytes = state.image_bytes();
        state.selection.retain_available(&state.drives, image_bytes);
        if let Some(source) = state.clone_source().map(Path::to_path_buf) {
            state.selection.remove(&source);
        }
        state.config_status = ConfigStatus::Unused;
        self.config_check = None;
        // A link that failed stays in its field, selected, to be corrected;
        // why it failed is the card's headline and Details.
        if let ImageSlot::Failed { path, .. } = &self.state.image
            && crate::source::is_url(path)
        {
            let link = path.clone();
            self.link_back_in_field(&link, None);
        }
    }

    pub(super) fn poll_drives(&mut self, ctx: &egui::Context) {
        if let Some(holds) = self.holds_rx.as_ref().and_then(|rx| rx.try_recv().ok()) {
            self.state.drive_holds = holds;
            self.holds_rx = None;
        }
        let state = &mut self.state;
        // Only the newest list matters.
        while let Ok(update) = self.drive_rx.try_recv() {
            match update {
                Ok(drives) => {
                    if drives != state.drives {
                        self.holds_rx = Some(drive_holds::start(&drives, ctx));
                    }
                    let gone = unplugged(state, &drives);
                    state.drives = drives;
                    state.drive_error = None;
                    if let Some(notice) = gone {
                        state.notice = Some(notice);
                    }
                }
                Err(message) => state.drive_error = Some(message),
            }
            let image_bytes = state.image_bytes();
            state.selection.retain_available(&state.drives, image_bytes);
        }
    }

    pub(super) fn poll_file_dialog(&mut self, ctx: &egui::Context) {
        let Some((purpose, outcome)) = self.file_dialog.as_ref().and_then(FileDialog::poll) else {
            return;
        };
        self.file_dialog = None;
        match outcome {
            Outcome::Chosen(path) => self.use_path(purpose, path, ctx),
            Outcome::Cancelled => {}
            Outcome::Unavailable => {
                self.state.reveal_config |= purpose == Purpose::Config;
                self.state.path_entry = Some(PathEntry {
                    purpose,
                    text: self.path_entry_start(purpose),
                    no_dialog: true,
                    focus: true,
                    select: false,
                    error: None,
                });
            }
        }
    }

    /// A file chosen for `purpose`, from a dialog, a typed path or a drop.
    pub(super) fn use_path(&mut self, purpose: Purpose, path: PathBuf, ctx: &egui::Context) {
        if self
            .state
            .path_entry
            .as_ref()
            .is_some_and(|e| e.purpose == purpose)
        {
            self.state.path_entry = None;
        }
        match purpose {
            Purpose::Image | Purpose::Url => self.open_image(path, ctx),
            Purpose::Config => {
                // The network of last time is offered by the form ("Use
                // HomeNet again?"), never filled in: nothing is written
                // that the user did not choose in this run.
                self.state.config.config_path = Some(path);
                self.state.reveal_config = true;
                self.revalidate_config(ctx);
            }
            Purpose::FileTarget => match file_target::name_problem(&path) {
                Some(problem) => self.state.notice = Some(problem),
                None => self.add_file_target(path),
            },
        }
    }

    pub(super) fn poll_config(&mut self, ctx: &egui::Context) {
        // A new image means the configuration must be checked against it.
        if matches!(self.state.config_status, ConfigStatus::Unused)
            && self.config_check.is_none()
            && !self.state.config.is_empty()
            && self.state.image.info().is_some()
        {
            self.revalidate_config(ctx);
        }
        match self.config_check.as_ref().and_then(ConfigCheck::poll) {
            Some(Ok(status)) => {
                self.state.config_status = status;
                self.config_check = None;
            }
            Some(Err(image_fault)) => self.image_fault(image_fault),
            None => {}
        }
    }

    pub(super) fn revalidate_config(&mut self, ctx: &egui::Context) {
        self.config_check = None;
        let state = &mut self.state;
        if state.config.is_empty() {
            state.config_status = ConfigStatus::Unused;
            return;
        }
        if let Some(message) = state.config.local_error() {
            state.config_status = ConfigStatus::Invalid(Problem::new(message, ""));
            return;
        }
        match state.image.info() {
            Some(info) => {
                self.config_check = Some(ConfigCheck::start(&state.config, &info.source, ctx));
                state.config_status = ConfigStatus::Checking;
            }
            None => state.config_status = ConfigStatus::Unused,
        }
    }

    /// Folds the running flash's events into the progress screen's run;
    /// once it is over, shows its result (or its refusal on the selection
    /// screen).
    pub(super) fn poll_run(&mut self, ctx: &egui::Context) {
        let (Screen::Flashing(run), Some(running)) = (&mut self.state.screen, &self.running) else {
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
        let Screen::Flashing(run) = std::mem::replace(&mut self.state.screen, Screen::Select)
        else {
            return;
        };
        self.running = None;
        self.run_ended(run, ctx);
    }

    /// A flash is over: tell the user, and make ready for the next.
    fn run_ended(&mut self, run: FlashRun, ctx: &egui::Context) {
        // "Stop flashing (and quit)?" no longer applies: nothing is running.
        if matches!(self.state.dialog, Some(Dialog::Quit | Dialog::Cancel)) {
            self.state.dialog = None;
        }
        self.learn_size(&run);
        file_target::remove_unfinished(&run, &std::mem::take(&mut self.created_files));
        // Minutes may have passed with the user in another window.
        if !ctx.input(|i| i.focused) {
            self.notifier.send(notify::for_run(&run));
        }
        // A link is downloaded once per run: open it afresh for the next.
        if let Some(url) = self
            .state
            .image
            .info()
            .filter(|info| info.source.download().is_some())
            .map(|info| info.source.path().to_path_buf())
        {
            self.open_image(url, ctx);
        }
        match run.ended_before_start() {
            Some(problem) => self.state.notice = Some(problem),
            None => self.state.screen = Screen::Result(run),
        }
    }

    /// A run that read the image to its end learned its decompressed size;
    /// a drive too small for it, a lower bound (which then blocks that
    /// drive and any smaller): remembered when the format does not record
    /// the size, for this file as it is (path, size, mtime).
    fn learn_size(&mut self, run: &FlashRun) {
        let Some(info) = self.state.image.info() else {
            return;
        };
        if info.source.size_hint().is_some() || info.source.file_size().is_none() {
            return;
        }
        let bytes = match (run.image_bytes, run.too_small_bound()) {
            (Some(exact), _) => exact,
            // Never lower what is known already.
            (None, Some(bound)) if self.state.image_bytes() < Some(bound) => bound,
            _ => return,
        };
        let path = info.source.path().to_path_buf();
        self.state.learned_size = Some(bytes);
        self.remember(|s| s.learn_size(&path, bytes));
    }
}

/// The notice for ticked drives that are not in the new list `drives`:
/// unplugged, so no longer chosen, which the user must hear rather than
/// find out from the confirmation.
fn unplugged(state: &AppState, drives: &[Drive]) -> Option<Problem> {
    let gone: Vec<String> = state
        .selected_targets()
        .iter()
        .filter(|t| !state.selection.is_file(t) && !drives.iter().any(|d| &d.path == *t))
        .map(|t| state.target_name(t))
        .collect();
    let (title, advice) = match gone.as_slice() {
        [] => return None,
        [one] => (
            format!("{one} was unplugged."),
            "It is no longer chosen: plug it in again and tick it to flash it.",
        ),
        many => (
            format!("{} were unplugged.", many.join(", ")),
            "They are no longer chosen: plug them in again and tick them to flash them.",
        ),
    };
    Some(Problem::new(title, advice))
}

//! Drawing. Each screen and each part of a screen has its own file; every
//! function takes the state it shows and pushes [`Action`]s, never changing
//! the app directly.

mod checksum_row;
mod clone_dialog;
mod config_section;
mod dialogs;
mod download_row;
mod drive_list;
mod drop_overlay;
mod flash_bar;
mod header;
mod image_card;
mod options_section;
mod overall_bar;
mod progress_screen;
mod result_screen;
pub(super) mod station;
mod widgets;

use super::action::Action;
use super::app_state::{AppState, Screen};

/// The whole window for this frame.
pub(super) fn app_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    match &state.screen {
        Screen::Select => select_screen_ui(ui, state, actions),
        Screen::Flashing(run) => progress_screen::progress_screen_ui(ui, run, actions),
        Screen::Station(screen) => station::station_screen_ui(ui, screen, actions),
        Screen::Result(run) => {
            let retry = state.retryable(run);
            let extras = result_screen::Extras {
                file_hash: &state.file_hash,
                copied: state.copied.as_ref(),
                retry: &retry,
            };
            result_screen::result_screen_ui(ui, run, &extras, actions);
        }
    }
    dialogs::dialog_ui(ui.ctx(), state, actions);
    if matches!(state.screen, Screen::Select) {
        drop_overlay::drop_overlay_ui(ui.ctx());
    }
}

/// The three steps: image, drives, flash.
fn select_screen_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let bar = widgets::bar_frame(ui);
    egui::Panel::top("header")
        .frame(bar)
        .show(ui, |ui| header::header_ui(ui, state, actions));
    egui::Panel::bottom("flash_bar")
        .frame(bar)
        .show(ui, |ui| flash_bar::flash_bar_ui(ui, state, actions));
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if let Some(rect) = state.scroll_to_focus {
                    // At once: after a wrap from the last control to the
                    // first, an animation would show the wrong place.
                    ui.scroll_to_rect_animation(
                        rect.expand(8.0),
                        None,
                        egui::style::ScrollAnimation::none(),
                    );
                }
                widgets::centered_column_ui(ui, |ui| {
                    ui.add_space(12.0);
                    if let Some(notice) = &state.notice {
                        widgets::error_banner_ui(ui, notice, actions);
                    }
                    image_card::image_step_ui(ui, state, actions);
                    ui.add_space(12.0);
                    drive_list::drive_step_ui(ui, state, actions);
                    ui.add_space(12.0);
                    config_section::config_step_ui(ui, state, actions);
                    ui.add_space(8.0);
                });
            });
    });
}

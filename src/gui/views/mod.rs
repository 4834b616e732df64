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

/// The action bar's height before it was measured: the 40 px Flash!
/// button and the bar's margins.
const BAR_HEIGHT: f32 = 61.0;

/// The three steps: image, drives, flash. The action bar with Flash! is
/// laid out at the bottom, always on screen whatever the window's height
/// (800×480 included), with the steps scrolling above it; it is drawn
/// after the steps, so Tab reaches Flash! right after the last step's
/// controls instead of before all of them (issue 17, items 3 and 8).
fn select_screen_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let bar = widgets::bar_frame(ui);
    egui::Panel::top("header")
        .frame(bar)
        .show(ui, |ui| header::header_ui(ui, state, actions));
    egui::CentralPanel::default()
        .frame(egui::Frame::NONE)
        .show(ui, |ui| {
            let full = ui.max_rect();
            let id = egui::Id::unique("flash_bar_height");
            let height = ui.data(|d| d.get_temp(id)).unwrap_or(BAR_HEIGHT);
            let split = (full.bottom() - height).max(full.top());
            let steps = egui::Rect::from_min_max(full.min, egui::pos2(full.right(), split));
            let mut steps_ui = ui.new_child(egui::UiBuilder::new().max_rect(steps));
            egui::Frame::central_panel(steps_ui.style())
                .show(&mut steps_ui, |ui| steps_ui_scrolled(ui, state, actions));
            let bar_rect = egui::Rect::from_min_max(egui::pos2(full.left(), split), full.max);
            let mut bar_ui = ui.new_child(egui::UiBuilder::new().max_rect(bar_rect));
            let drawn = bar.show(&mut bar_ui, |ui| {
                ui.set_width(ui.available_width());
                flash_bar::flash_bar_ui(ui, state, actions);
            });
            let stroke = ui.visuals().widgets.noninteractive.bg_stroke;
            ui.painter().hline(full.x_range(), split, stroke);
            let measured = drawn.response.rect.height();
            if (measured - height).abs() > 0.5 {
                ui.data_mut(|d| d.insert_temp(id, measured));
                ui.ctx().request_repaint();
            }
        });
}

/// The steps in a scroll area that keeps the focused control in view.
fn steps_ui_scrolled(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
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
            if ui.available_width() >= TWO_COLUMNS_WIDTH {
                two_columns_ui(ui, state, actions);
                return;
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
}

/// From this width (a 1280-pixel window) the steps sit side by side: image
/// and drives on the left, the flash step with its options and
/// configuration on the right, so nothing is two screens down.
const TWO_COLUMNS_WIDTH: f32 = 1180.0;

fn two_columns_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.add_space(12.0);
    if let Some(notice) = &state.notice {
        widgets::error_banner_ui(ui, notice, actions);
    }
    ui.columns(2, |columns| {
        let [left, right] = columns else {
            return;
        };
        image_card::image_step_ui(left, state, actions);
        left.add_space(12.0);
        drive_list::drive_step_ui(left, state, actions);
        config_section::config_step_ui(right, state, actions);
    });
    ui.add_space(8.0);
}

//! The bar at the bottom of the selection screen: what will happen, and the
//! Flash! button, always in view whatever the window's height.

use egui::RichText;

use super::super::action::Action;
use super::super::app_state::AppState;
use super::widgets;

pub(super) fn flash_bar_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        let blocker = state.flash_blocker();
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let response = ui
                .add_enabled(
                    blocker.is_none(),
                    widgets::primary_button_enabled("Flash!", blocker.is_none()),
                )
                .on_disabled_hover_text(blocker.unwrap_or_default());
            if response.clicked() {
                actions.push(Action::RequestFlash);
            }
            let summary = match (blocker, state.image.info()) {
                // The count first: a long image name is cut, not the count.
                (None, Some(info)) => RichText::new(format!(
                    "To {}: {}",
                    targets_summary(state.selection.counts()),
                    info.name
                )),
                (Some(blocker), _) => widgets::secondary(ui, blocker),
                (None, None) => RichText::new(""),
            };
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                let full = summary.text().to_string();
                widgets::truncated_ui(ui, summary, &full);
            });
        });
    });
}

/// "2 drives", "1 image file", "1 drive and 1 image file".
pub(super) fn targets_summary((drives, files): (usize, usize)) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    match (drives, files) {
        (_, 0) => plural(drives, "drive"),
        (0, _) => plural(files, "image file"),
        _ => format!(
            "{} and {}",
            plural(drives, "drive"),
            plural(files, "image file")
        ),
    }
}

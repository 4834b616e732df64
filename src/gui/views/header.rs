//! The header of the selection screen: the app's name and where the user
//! is in the three steps.

use egui::RichText;

use super::super::action::Action;
use super::super::app_state::{AppState, ImageSlot};
use super::super::theme;

pub(super) fn header_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.label(
            RichText::new("Imprint")
                .size(20.0)
                .strong()
                .color(theme::accent_text(ui.visuals())),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let image_done = matches!(state.image, ImageSlot::Ready(_));
            let drives_done = !state.selection.is_empty();
            // Laid out right to left: the last step first.
            let blocker = state.station_blocker();
            if ui
                .add_enabled(blocker.is_none(), egui::Button::new("Station mode"))
                .on_hover_text("Flash every drive plugged in from now on, each on its own")
                .on_disabled_hover_text(blocker.unwrap_or_default())
                .clicked()
            {
                actions.push(Action::OpenStation);
            }
            ui.add_space(12.0);
            step_mark_ui(ui, "3 Flash", image_done && drives_done);
            separator_ui(ui);
            step_mark_ui(ui, "2 Drives", drives_done);
            separator_ui(ui);
            step_mark_ui(ui, "1 Image", image_done);
        });
    });
}

fn step_mark_ui(ui: &mut egui::Ui, text: &str, done: bool) {
    let text = if done {
        RichText::new(text)
            .color(theme::accent_text(ui.visuals()))
            .strong()
    } else {
        RichText::new(text).color(ui.visuals().weak_text_color())
    };
    ui.label(text);
}

fn separator_ui(ui: &mut egui::Ui) {
    ui.label(RichText::new("›").color(ui.visuals().weak_text_color()));
}

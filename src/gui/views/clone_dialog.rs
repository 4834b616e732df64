//! "Clone a drive…": choose a drive to read as the image (as Etcher's
//! "Clone drive"). The drive is only read; it is sized up front like any
//! raw image, and while it is the source it is never offered as a target.

use egui::RichText;

use super::super::action::Action;
use super::super::app_state::AppState;
use super::super::theme;
use super::widgets;
use crate::humanize;

pub(super) fn clone_dialog_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.add(
        egui::Label::new(
            RichText::new("Clone which drive?")
                .size(theme::STEP_TITLE_SIZE)
                .strong(),
        )
        .wrap(),
    );
    ui.add_space(4.0);
    ui.add(
        egui::Label::new(
            "Its whole contents become the image, written to the drives you select next. \
             It is only read, never changed.",
        )
        .wrap(),
    );
    ui.add_space(8.0);
    if state.drives.is_empty() {
        ui.label(widgets::secondary(ui, "No drives are connected."));
    }
    egui::ScrollArea::vertical()
        .max_height(260.0)
        .show(ui, |ui| {
            for drive in &state.drives {
                let name = drive.display_name();
                let path = drive.path.display().to_string();
                let mut detail = humanize::bytes(drive.size_bytes);
                if path != name {
                    detail += &format!("  {path}");
                }
                if drive.system.is_some() {
                    // In use while it is read: the copy may not be consistent.
                    detail += "  ·  system drive, in use";
                }
                let button = egui::Button::new(format!("{name}  ·  {detail}"))
                    .min_size(egui::vec2(ui.available_width(), 32.0))
                    .truncate();
                if ui
                    .add(button)
                    .on_hover_text(format!("{name}  {detail}"))
                    .clicked()
                {
                    actions.push(Action::CloneFrom(drive.path.clone()));
                }
            }
        });
    ui.add_space(12.0);
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        let cancel = ui.button("Cancel");
        if !ui.memory(|m| m.focused().is_some()) {
            cancel.request_focus();
        }
        if cancel.clicked() {
            actions.push(Action::CloseDialog);
        }
    });
}

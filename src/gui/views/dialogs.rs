//! The questions the app asks: "erase these drives?" before flashing, "are
//! you sure?" for a drive larger than an SD card usually is, and "stop
//! flashing?" when the window is closed mid-run. Escape dismisses; Enter
//! takes the focused button. The erase confirmation focuses its confirming
//! button, the screen's main action (it names every drive and what will be
//! written, and Flash! was pressed to get here); the questions that warn
//! (a large drive, quitting mid-run) focus the safe answer.

use egui::RichText;

use super::super::action::Action;
use super::super::app_state::{AppState, Dialog};
use super::super::state::LARGE_DRIVE_BYTES;
use super::super::theme;
use super::widgets;
use crate::humanize;

pub(super) fn dialog_ui(ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
    let Some(dialog) = &state.dialog else {
        return;
    };
    let frame = egui::Frame::popup(&ctx.global_style()).inner_margin(egui::Margin::same(24));
    let modal = egui::Modal::new(egui::Id::unique("imprint_dialog")).frame(frame);
    // Narrower than the window whatever its size: long names are cut
    // with "…" inside, never pushing the dialog past the window's edges.
    let width = (ctx.content_rect().width() - 96.0).clamp(200.0, 480.0);
    let response = modal.show(ctx, |ui| {
        ui.set_width(width);
        match dialog {
            Dialog::Flash => confirm_flash_ui(ui, state, actions),
            Dialog::LargeDrive(path) => confirm_large_ui(ui, state, path, actions),
            Dialog::Quit => confirm_quit_ui(ui, actions),
            Dialog::Cancel => confirm_cancel_ui(ui, actions),
            Dialog::CloneSource => super::clone_dialog::clone_dialog_ui(ui, state, actions),
        }
    });
    if response.should_close() {
        actions.push(Action::CloseDialog);
    }
}

fn confirm_flash_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let targets = state.selection.targets();
    let count = targets.len();
    let title = match state.selection.counts() {
        (1, 0) => "Erase this drive?".to_string(),
        (_, 0) => format!("Erase these {count} drives?"),
        (0, 1) => "Write the image to this file?".to_string(),
        (0, _) => format!("Write the image to these {count} files?"),
        _ => format!("Write the image to these {count} targets?"),
    };
    ui.add(egui::Label::new(RichText::new(title).size(theme::STEP_TITLE_SIZE).strong()).wrap());
    ui.add_space(4.0);
    ui.add(
        egui::Label::new(if count == 1 {
            "Everything on it will be replaced by the image:"
        } else {
            "Everything on them will be replaced by the image:"
        })
        .wrap(),
    );
    image_and_config_ui(ui, state);
    for path in targets {
        let drive = state.drives.iter().find(|d| &d.path == path);
        let name = state.target_name(path);
        let size = match drive {
            _ if state.selection.is_file(path) => "image file".to_string(),
            Some(d) => humanize::bytes(d.size_bytes),
            None => String::new(),
        };
        let path_text = path.display().to_string();
        let detail = if path_text == name {
            size
        } else {
            format!("{size}  {path_text}")
        };
        let full = format!("{name}  {detail}");
        ui.scope(|ui| {
            // The detail line belongs to the name above it: keep them close.
            ui.spacing_mut().item_spacing.y = 0.0;
            widgets::truncated_ui(ui, RichText::new(format!("•  {name}")).strong(), &full);
            ui.horizontal(|ui| {
                ui.add_space(14.0);
                widgets::truncated_ui(ui, widgets::secondary(ui, detail.as_str()), &full);
            });
            // What will be lost: the partitions' names, a loop device's file.
            if let Some(holds) = state.drive_holds.get(path).and_then(|h| h.describe()) {
                let holds = super::super::message::sentence(&holds);
                ui.horizontal(|ui| {
                    ui.add_space(14.0);
                    // Wrapped, not cut: the labels are what tells drives apart.
                    ui.add(egui::Label::new(widgets::secondary(ui, holds.as_str())).wrap());
                });
            }
        });
    }
    buttons_ui(
        ui,
        ("Erase and flash", Action::StartFlash),
        "Cancel",
        Confirm::Erase,
        actions,
    );
}

fn confirm_large_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    path: &std::path::Path,
    actions: &mut Vec<Action>,
) {
    let drive = state.drives.iter().find(|d| d.path == path);
    let name = drive.map_or_else(|| path.display().to_string(), |d| d.display_name());
    let size = drive
        .map(|d| humanize::bytes(d.size_bytes))
        .unwrap_or_default();
    ui.add(
        egui::Label::new(
            RichText::new(format!("{name} is a large drive ({size})"))
                .size(theme::STEP_TITLE_SIZE)
                .strong(),
        )
        .wrap(),
    );
    ui.add_space(4.0);
    ui.add(
        egui::Label::new(format!(
            "Drives over {} are rarely SD cards or USB sticks. Make sure {} is not a disk \
             that holds data you want to keep.",
            humanize::bytes(LARGE_DRIVE_BYTES),
            path.display()
        ))
        .wrap(),
    );
    buttons_ui(
        ui,
        (
            "Select this drive",
            Action::ConfirmLargeDrive(path.to_path_buf()),
        ),
        "Cancel",
        Confirm::Safe,
        actions,
    );
}

fn confirm_cancel_ui(ui: &mut egui::Ui, actions: &mut Vec<Action>) {
    ui.label(
        RichText::new("Stop flashing?")
            .size(theme::STEP_TITLE_SIZE)
            .strong(),
    );
    ui.add_space(4.0);
    ui.add(
        egui::Label::new(
            "The drives being written will be incomplete and will not boot until they are \
             flashed again.",
        )
        .wrap(),
    );
    buttons_ui(
        ui,
        ("Stop flashing", Action::Cancel),
        "Keep flashing",
        Confirm::Destructive,
        actions,
    );
}

fn confirm_quit_ui(ui: &mut egui::Ui, actions: &mut Vec<Action>) {
    ui.label(
        RichText::new("Stop flashing and quit?")
            .size(theme::STEP_TITLE_SIZE)
            .strong(),
    );
    ui.add_space(4.0);
    ui.add(
        egui::Label::new(
            "The drives being written will be incomplete and will not boot until they are \
             flashed again.",
        )
        .wrap(),
    );
    buttons_ui(
        ui,
        ("Stop and quit", Action::CancelAndQuit),
        "Keep flashing",
        Confirm::Destructive,
        actions,
    );
}

/// What the confirming button does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Confirm {
    /// It leads on, erasing nothing by itself (select a large drive).
    Safe,
    /// It abandons drives: coloured as such, the focus on staying.
    Destructive,
    /// It erases the drives the user chose and confirms here: coloured as
    /// such, and focused — the dialog's main action (issue 17, item 3).
    Erase,
}

/// The image, and the configuration when one is set, that will be written:
/// the user confirms everything, not only the drives.
fn image_and_config_ui(ui: &mut egui::Ui, state: &AppState) {
    if let Some(info) = state.image.info() {
        let text = format!("Image: {}", info.name);
        widgets::truncated_ui(ui, RichText::new(&text).strong(), &text);
    }
    if let Some(summary) = state.config.summary() {
        // Wrapped, never cut: whether the network is open is at its end.
        let text = format!("Configuration: {summary}");
        ui.add(egui::Label::new(RichText::new(text).strong()).wrap());
    }
    ui.add_space(4.0);
}

/// The dialog's two buttons, right-aligned. The keyboard focus starts on
/// the erase confirmation's main action, and on the dismissing button of
/// the questions that warn.
fn buttons_ui(
    ui: &mut egui::Ui,
    (confirm, action): (&str, Action),
    dismiss: &str,
    kind: Confirm,
    actions: &mut Vec<Action>,
) {
    ui.add_space(12.0);
    ui.horizontal(|ui| {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let confirm = ui.add(match kind {
                Confirm::Safe => widgets::primary_button(confirm),
                Confirm::Destructive | Confirm::Erase => widgets::destructive_button(confirm),
            });
            let dismiss = ui.button(dismiss);
            // Keep the focus in the dialog (the button behind it had it)
            // unless Tab already moved it between the two buttons.
            if !ui.memory(|m| m.has_focus(confirm.id) || m.has_focus(dismiss.id)) {
                if kind == Confirm::Erase {
                    confirm.request_focus();
                } else {
                    dismiss.request_focus();
                }
            }
            if confirm.clicked() {
                actions.push(action);
            }
            if dismiss.clicked() {
                actions.push(Action::CloseDialog);
            }
        });
    });
}

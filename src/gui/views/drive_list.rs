//! Step 2: the live drive list. Every drive is a row with a checkbox; the
//! ones that cannot take the image are shown greyed with the reason. Image
//! files chosen with "Write to an image file…" are rows too.

use egui::RichText;

use super::super::action::Action;
use super::super::app_state::AppState;
use super::super::drive_holds::Holds;
use super::super::file_dialog::Purpose;
use super::super::message::Problem;
use super::super::state::{Availability, LARGE_DRIVE_BYTES};
use super::super::theme;
use super::widgets;
use crate::drives::Drive;
use crate::humanize;

/// The list keeps at least this much room (two drive rows, 86 px each with
/// their spacing), so the first drives to appear take the place of
/// "Insert an SD card…" without moving anything.
const MIN_LIST_HEIGHT: f32 = 176.0;

pub(super) fn drive_step_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    widgets::card_ui(ui, |ui| {
        drive_header_ui(ui, state, actions);
        stable_height_ui(ui, |ui| drive_rows_ui(ui, state, actions));
        file_targets_ui(ui, state, actions);
    });
}

/// Lays `add` out in room that never shrinks this session: a drive
/// unplugged, or one plugged in where there is room, moves nothing below
/// the list — a click aimed at "Write to an image file…" or at the options
/// lands where the pointer was (issue 17, item 7). The room grows only
/// when more drives are listed than ever before.
fn stable_height_ui(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) {
    let id = egui::Id::unique("drive_list_room");
    let reserved: f32 = ui.data(|d| d.get_temp(id)).unwrap_or(MIN_LIST_HEIGHT);
    let top = ui.cursor().top();
    ui.vertical(|ui| add(ui));
    let used = ui.cursor().top() - top;
    if used < reserved {
        ui.add_space(reserved - used);
    }
    let room = reserved.max(used);
    ui.data_mut(|d| d.insert_temp(id, room));
}

/// The step's title, "Show all drives", and why the list is missing.
fn drive_header_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        widgets::step_title_ui(ui, 2, "Select drives", !state.selection.is_empty());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let mut show_all = state.show_all;
            if ui
                .checkbox(&mut show_all, "Show all drives")
                .on_hover_text("Also list fixed, virtual and system drives")
                .changed()
            {
                actions.push(Action::SetShowAll(show_all));
            }
        });
    });
    if let Some(error) = &state.drive_error {
        let problem = Problem::new(
            "The drives cannot be listed.",
            "Writing to an image file still works; restart Imprint to try again.",
        )
        .with_details(error.as_str());
        widgets::problem_ui(ui, &problem, theme::ERROR);
    }
}

/// The drives: usable ones first, the blocked ones folded away, and how
/// many "Show all drives" would add.
fn drive_rows_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let shown: Vec<&Drive> = state
        .drives
        .iter()
        .filter(|d| state.show_all || d.is_flashable_by_default())
        .collect();
    if shown.is_empty() {
        empty_ui(ui);
    }
    // Usable drives first; the blocked ones (with their reasons) are
    // folded away so they do not push the usable ones below the fold.
    let (usable, blocked): (Vec<&Drive>, Vec<&Drive>) = shown
        .into_iter()
        .partition(|d| !matches!(state.drive_availability(d), Availability::Blocked(_)));
    for drive in usable {
        let selected = state.selection.contains(&drive.path);
        drive_row_ui(
            ui,
            drive,
            (
                state.drive_availability(drive),
                state.drive_holds.get(&drive.path),
            ),
            selected,
            actions,
        );
    }
    if !blocked.is_empty() {
        let title = match blocked.len() {
            1 => "1 drive cannot be used".to_string(),
            n => format!("{n} drives cannot be used"),
        };
        egui::CollapsingHeader::new(title)
            .id_salt("blocked_drives")
            .show(ui, |ui| {
                for drive in blocked {
                    let holds = state.drive_holds.get(&drive.path);
                    drive_row_ui(
                        ui,
                        drive,
                        (state.drive_availability(drive), holds),
                        false,
                        actions,
                    );
                }
            });
    }
    let hidden = state.drives.len()
        - state
            .drives
            .iter()
            .filter(|d| state.show_all || d.is_flashable_by_default())
            .count();
    if hidden > 0 {
        ui.add(egui::Label::new(widgets::secondary(
                ui,
                format!(
                    "{hidden} more drive{} hidden (fixed, virtual or system): \"Show all drives\" lists them",
                    if hidden == 1 { "" } else { "s" }
                ),
            ))
            .wrap());
    }
}

/// The image files offered as targets, and the way to add one.
fn file_targets_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    for path in state.selection.files() {
        let selected = state.selection.contains(path);
        file_row_ui(ui, path, selected, actions);
    }
    ui.add_space(6.0);
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Write to an image file…")
            .on_hover_text("No spare drive? Write the image to a new file instead")
            .clicked()
        {
            actions.push(Action::PickFileTarget);
        }
        widgets::type_path_link_ui(ui, Purpose::FileTarget, actions);
        ui.label(widgets::secondary(ui, "to flash later, or to try Imprint"));
    });
    widgets::path_entry_ui(ui, state.path_entry.as_ref(), Purpose::FileTarget, actions);
}

fn empty_ui(ui: &mut egui::Ui) {
    ui.add_space(4.0);
    ui.label("Insert an SD card or a USB drive.");
    ui.add_space(4.0);
}

/// An image file as a target: ticked like a drive, and removable. The
/// name is cut with "…" when long; the full path shows on hover.
fn file_row_ui(
    ui: &mut egui::Ui,
    path: &std::path::Path,
    selected: bool,
    actions: &mut Vec<Action>,
) {
    let border = selected.then_some(theme::ACCENT);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let full = path.display().to_string();
    widgets::card_frame(ui, border)
        .inner_margin(egui::Margin::symmetric(12, 4))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.spacing_mut().item_spacing.y = 0.0;
            ui.horizontal(|ui| {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .small_button("Remove")
                        .on_hover_text(format!("Take {name} off the list"))
                        .clicked()
                    {
                        actions.push(Action::RemoveFileTarget(path.to_path_buf()));
                    }
                    // A file grows to the image's size: never too small.
                    let size = if path.exists() {
                        "replaced"
                    } else {
                        "new file"
                    };
                    ui.label(RichText::new(size).strong());
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                        let mut checked = selected;
                        if ui
                            .checkbox(&mut checked, RichText::new(&name).strong())
                            .on_hover_text(&full)
                            .changed()
                        {
                            actions.push(Action::ToggleDrive(path.to_path_buf()));
                        }
                    });
                });
            });
            ui.horizontal(|ui| {
                ui.add_space(28.0);
                widgets::badge_ui(ui, "image file", theme::ACCENT);
                widgets::truncated_ui(ui, widgets::secondary(ui, full.as_str()), &full);
            });
        });
    ui.add_space(4.0);
}

/// A drive: the checkbox with its name (cut with "…" when long) and its
/// size on the first line; badges and details below, the reason it cannot
/// be chosen under them.
fn drive_row_ui(
    ui: &mut egui::Ui,
    drive: &Drive,
    (availability, holds): (Availability, Option<&Holds>),
    selected: bool,
    actions: &mut Vec<Action>,
) {
    let border = selected.then_some(theme::ACCENT);
    let enabled = !matches!(availability, Availability::Blocked(_));
    let mut toggled = false;
    let mut focused = false;
    let card = widgets::card_frame(ui, border)
        .inner_margin(egui::Margin::symmetric(12, 4))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            // The detail lines belong to the name above them: keep them close.
            ui.spacing_mut().item_spacing.y = 0.0;
            let name = drive.display_name();
            let path = drive.path.display().to_string();
            ui.horizontal(|ui| {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(RichText::new(humanize::bytes(drive.size_bytes)).strong());
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
                        let mut checked = selected;
                        let response = ui
                            .add_enabled(
                                enabled,
                                egui::Checkbox::new(&mut checked, RichText::new(&name).strong()),
                            )
                            .on_hover_text(format!("{name} ({path})"));
                        toggled = response.changed();
                        focused = response.has_focus();
                    });
                });
            });
            ui.horizontal(|ui| {
                ui.add_space(28.0);
                badges_ui(ui, drive, &availability);
                let details = details(drive, holds);
                widgets::truncated_ui(ui, widgets::secondary(ui, details.as_str()), &details);
            });
            if let Availability::Blocked(reason) = &availability {
                ui.horizontal_wrapped(|ui| {
                    ui.add_space(28.0);
                    ui.label(
                        RichText::new(reason)
                            .small()
                            .color(theme::error_text(ui.visuals())),
                    );
                });
            }
        });
    // The row's one Tab stop is its checkbox: the focus ring goes round
    // the whole row, where the eye looks (issue 17, item 3).
    if focused {
        widgets::focus_ring_ui(ui, card.response.rect);
    }
    // The whole row is the target, not only the 14 px box and the name: a
    // click anywhere else on it toggles the drive too. Registered after the
    // row's contents, so it covers them for the pointer; it senses clicks
    // only — not focusable, so Tab does not stop on it a second time with
    // no ring — and the checkbox keeps the keyboard focus and the
    // accessibility tree.
    if enabled && !toggled {
        let row = ui.interact(
            card.response.rect,
            egui::Id::unique(("drive_row", &drive.path)),
            egui::Sense::CLICK,
        );
        toggled = row
            .on_hover_cursor(egui::CursorIcon::PointingHand)
            .clicked();
    }
    if toggled {
        actions.push(Action::ToggleDrive(drive.path.clone()));
    }
    ui.add_space(4.0);
}

fn badges_ui(ui: &mut egui::Ui, drive: &Drive, availability: &Availability) {
    if drive.system.is_some() {
        widgets::badge_ui(ui, "system drive", theme::ERROR);
    }
    if drive.read_only {
        widgets::badge_ui(ui, "read-only", theme::ERROR);
    }
    if *availability == Availability::NeedsConfirmation {
        widgets::badge_ui(
            ui,
            &format!("over {}", humanize::bytes(LARGE_DRIVE_BYTES)),
            theme::WARNING,
        );
    }
}

/// "USB · removable · /dev/sdb · holds bootfs, rootfs · mounted at
/// /media/card"; a loop device names its backing file.
fn details(drive: &Drive, holds: Option<&Holds>) -> String {
    let mut parts = vec![drive.bus.label().to_string()];
    if drive.removable {
        parts.push("removable".into());
    }
    // The path is the name of a drive without vendor and model: say it once.
    if drive.display_name() != drive.path.display().to_string() {
        parts.push(drive.path.display().to_string());
    }
    if let Some(holds) = holds.and_then(Holds::describe) {
        parts.push(holds);
    }
    let mounts: Vec<String> = drive
        .mount_points
        .iter()
        .chain(drive.partitions.iter().flat_map(|p| p.mount_points.iter()))
        .map(|m| m.display().to_string())
        .collect();
    if !mounts.is_empty() {
        parts.push(format!("mounted at {}", mounts.join(", ")));
    }
    parts.join(" · ")
}

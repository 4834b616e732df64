//! The screen while flashing: a row per drive with its phase, a progress
//! bar, percent, speed and time left; a failed drive turns red with its
//! error while the others go on. One Cancel button for the run.

use egui::RichText;

use super::super::action::Action;
use super::super::message;
use super::super::state::{FlashRun, RunTarget};
use super::super::theme;
use super::flash_bar::targets_summary;
use super::result_screen;
use super::widgets;
use crate::engine::Phase;
use crate::humanize;

pub(super) fn progress_screen_ui(ui: &mut egui::Ui, run: &FlashRun, actions: &mut Vec<Action>) {
    egui::Panel::bottom("cancel_bar")
        .frame(widgets::bar_frame(ui))
        .show(ui, |ui| cancel_bar_ui(ui, run, actions));
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                widgets::centered_column_ui(ui, |ui| {
                    ui.add_space(8.0);
                    ui.label(
                        RichText::new("Flashing")
                            .size(theme::SCREEN_TITLE_SIZE)
                            .strong(),
                    );
                    ui.label(widgets::secondary(ui, subtitle(run)));
                    ui.add_space(12.0);
                    if let Some(fault) = run.source_fault() {
                        widgets::banner_frame().show(ui, |ui| {
                            ui.set_width(ui.available_width());
                            widgets::problem_ui(
                                ui,
                                &message::source_fault(fault, run.started()),
                                theme::ERROR,
                            );
                        });
                        ui.add_space(12.0);
                    }
                    super::download_row::download_row_ui(ui, &run.download);
                    super::overall_bar::overall_bar_ui(ui, run);
                    for target in &run.targets {
                        target_row_ui(ui, target);
                    }
                });
            });
    });
}

/// What is written where, and (for drives) to keep them plugged in.
fn subtitle(run: &FlashRun) -> String {
    let files = run.targets.iter().filter(|t| t.is_file).count();
    let drives = run.targets.len() - files;
    let image = &run.image_name;
    match (drives, files) {
        (0, 1) => format!("{image} to an image file."),
        (0, n) => format!("{image} to {n} image files."),
        (1, 0) => format!("{image} to one drive. Keep it plugged in until it is done."),
        (n, 0) => format!("{image} to {n} drives. Keep them plugged in until every row is done."),
        (1, _) => format!(
            "{image} to one drive and {}. Keep the drive plugged in until it is done.",
            targets_summary((0, files))
        ),
        _ => format!(
            "{image} to {}. Keep the drives plugged in until every row is done.",
            targets_summary((drives, files))
        ),
    }
}

fn target_row_ui(ui: &mut egui::Ui, target: &RunTarget) {
    let p = &target.progress;
    let failed = matches!(p.result, Some(Err(_)));
    let border = failed.then_some(theme::ERROR);
    widgets::card_frame(ui, border).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                phase_label_ui(ui, target);
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    result_screen::target_name_ui(ui, target);
                });
            });
        });
        match &p.result {
            // Told once for the run, in the banner above.
            Some(Err(failure)) if failure.kind.is_source_fault() => {
                ui.label(
                    RichText::new(message::source_stop_line(failure))
                        .color(theme::error_text(ui.visuals())),
                );
            }
            Some(Err(failure)) => {
                widgets::problem_ui(
                    ui,
                    &message::target_failure(failure, target.is_file),
                    theme::ERROR,
                );
            }
            Some(Ok(())) => {
                ui.add(egui::ProgressBar::new(1.0).fill(theme::SUCCESS));
            }
            None => {
                let fraction = p.fraction().unwrap_or(0.0);
                ui.add(egui::ProgressBar::new(fraction).fill(theme::ACCENT));
                ui.label(widgets::secondary(ui, stats_line(target)));
            }
        }
    });
    ui.add_space(8.0);
}

fn phase_label_ui(ui: &mut egui::Ui, target: &RunTarget) {
    let text = match (&target.progress.result, target.progress.phase) {
        (Some(Ok(())), _) => RichText::new("Done")
            .color(theme::success_text(ui.visuals()))
            .strong(),
        (Some(Err(_)), _) => RichText::new("Failed")
            .color(theme::error_text(ui.visuals()))
            .strong(),
        (None, Phase::Write) => RichText::new("Writing"),
        (None, Phase::Verify) => RichText::new("Verifying"),
    };
    ui.label(text);
}

/// "45% · 12 MB of 32 MB · 85 MB/s · about 2 min left".
fn stats_line(target: &RunTarget) -> String {
    let p = &target.progress;
    let mut parts = Vec::new();
    if let Some(fraction) = p.fraction() {
        parts.push(format!("{:.0}%", fraction * 100.0));
    }
    parts.push(match p.total {
        Some(total) => format!("{} of {}", humanize::bytes(p.bytes), humanize::bytes(total)),
        None => humanize::bytes(p.bytes),
    });
    if let Some(rate) = p.rate {
        parts.push(humanize::rate(rate));
    }
    // Under a second left, a countdown says nothing useful.
    if let Some(seconds) = p.seconds_left().filter(|&s| s >= 1.0) {
        parts.push(humanize::eta(seconds));
    }
    if p.bytes == 0 && p.rate.is_none() {
        return "Starting…".into();
    }
    parts.join(" · ")
}

fn cancel_bar_ui(ui: &mut egui::Ui, run: &FlashRun, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let text = if run.cancel_requested {
                "Cancelling…"
            } else {
                "Cancel"
            };
            let response = ui.add_enabled(
                !run.cancel_requested,
                egui::Button::new(text).min_size(egui::vec2(110.0, 36.0)),
            );
            if response.clicked() {
                actions.push(Action::RequestCancel);
            }
            if !run.started() {
                ui.spinner();
                ui.label(widgets::secondary(ui, "Preparing the drives…"));
            }
        });
    });
}

//! The result of a run: per drive success, or the error and what to do;
//! the image's SHA-256 to copy; "Flash another" with the same image and
//! drives.

use egui::RichText;

use super::super::action::Action;
use super::super::state::{FlashRun, RunTarget, advice};
use super::super::theme;
use super::widgets;

pub fn result_screen_ui(ui: &mut egui::Ui, run: &FlashRun, actions: &mut Vec<Action>) {
    egui::Panel::bottom("result_bar")
        .frame(widgets::bar_frame(ui))
        .show(ui, |ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.add(widgets::primary_button("Flash another")).clicked() {
                    actions.push(Action::FlashAnother);
                }
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                widgets::centered_column_ui(ui, |ui| {
                    ui.add_space(8.0);
                    title_ui(ui, run);
                    ui.add_space(12.0);
                    for target in &run.targets {
                        target_result_ui(ui, target);
                    }
                    ui.add_space(8.0);
                    hash_ui(ui, run, actions);
                });
            });
    });
}

fn title_ui(ui: &mut egui::Ui, run: &FlashRun) {
    let total = run.targets.len();
    let ok = run.succeeded();
    let (title, color) = if ok == total {
        ("Flash complete".to_string(), theme::SUCCESS)
    } else if ok == 0 {
        ("Flash failed".to_string(), theme::ERROR)
    } else {
        (format!("{ok} of {total} drives flashed"), theme::WARNING)
    };
    ui.label(
        RichText::new(title)
            .size(theme::SCREEN_TITLE_SIZE)
            .strong()
            .color(color),
    );
    let detail = if ok == total {
        format!(
            "{} was written to {} and verified. The drive{} can be removed.",
            run.image_name,
            match total {
                1 => "the drive".to_string(),
                2 => "both drives".to_string(),
                _ => format!("all {total} drives"),
            },
            if total == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "{} — see below what went wrong and what to do.",
            run.image_name
        )
    };
    ui.label(widgets::secondary(ui, detail));
}

fn target_result_ui(ui: &mut egui::Ui, target: &RunTarget) {
    let result = target.progress.result.as_ref();
    let failed = !matches!(result, Some(Ok(())));
    let border = Some(if failed { theme::ERROR } else { theme::SUCCESS });
    widgets::card_frame(ui, border).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            widgets::status_mark_ui(ui, !failed);
            ui.label(RichText::new(&target.name).strong());
            if let Some(path) = target.path_detail() {
                ui.label(widgets::secondary(ui, path));
            }
        });
        match result {
            Some(Ok(())) => {
                ui.label("Written and verified");
            }
            Some(Err(failure)) => {
                ui.add(
                    egui::Label::new(RichText::new(&failure.message).color(theme::ERROR)).wrap(),
                );
                ui.add(egui::Label::new(widgets::secondary(ui, advice(failure.kind))).wrap());
            }
            None => {
                ui.label("Not finished");
            }
        }
    });
    ui.add_space(8.0);
}

fn hash_ui(ui: &mut egui::Ui, run: &FlashRun, actions: &mut Vec<Action>) {
    let Some(hash) = &run.image_sha256 else {
        return;
    };
    widgets::card_ui(ui, |ui| {
        ui.label(RichText::new("Image SHA-256").strong());
        ui.label(widgets::secondary(
            ui,
            "Of the image as written (with its configuration, if any).",
        ));
        ui.horizontal_wrapped(|ui| {
            ui.add(egui::Label::new(RichText::new(hash).monospace()).selectable(true));
            if ui
                .button("Copy")
                .on_hover_text("Copy the SHA-256")
                .clicked()
            {
                actions.push(Action::Copy(hash.clone()));
            }
        });
    });
}

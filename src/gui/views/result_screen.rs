//! The result of a run: per drive success, or the error and what to do;
//! the image's SHA-256 to copy; "Flash another" with the same image and
//! drives.

use egui::RichText;

use super::super::action::Action;
use std::time::Instant;

use super::super::app_state::FileHash;
use super::super::message;
use super::super::run_time;
use super::super::state::{FlashRun, Outcome, RunTarget};
use super::super::theme;
use super::widgets;
use crate::engine::{Ejected, FailureKind};
use crate::humanize;

/// What the result screen shows besides the run: the image file's own
/// checksum, and what "Copy" last copied.
pub(super) struct Extras<'a> {
    pub file_hash: &'a FileHash,
    pub copied: Option<&'a (String, Instant)>,
    /// The failed targets that are still there to flash again.
    pub retry: &'a [std::path::PathBuf],
}

pub(super) fn result_screen_ui(
    ui: &mut egui::Ui,
    run: &FlashRun,
    extras: &Extras<'_>,
    actions: &mut Vec<Action>,
) {
    egui::Panel::bottom("result_bar")
        .frame(widgets::bar_frame(ui))
        .show(ui, |ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.add(widgets::primary_button("Flash another")).clicked() {
                    actions.push(Action::FlashAnother);
                }
                if !extras.retry.is_empty()
                    && ui
                        .button(retry_label(run, extras.retry))
                        .on_hover_text("Flash the same image again to only these drives")
                        .clicked()
                {
                    actions.push(Action::RetryFailed(extras.retry.to_vec()));
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
                    if let Some(summary) = &run.configuration {
                        let text = format!("Configuration: {summary}");
                        widgets::truncated_ui(ui, widgets::secondary(ui, &text), &text);
                    }
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
                    for target in &run.targets {
                        target_result_ui(ui, target, run);
                    }
                    ui.add_space(8.0);
                    hash_ui(ui, run, extras, actions);
                });
            });
    });
}

/// "Flash them again" for drives a stop cut short (the user's plan, not a
/// failure), "Retry" for drives that failed on their own.
fn retry_label(run: &FlashRun, retry: &[std::path::PathBuf]) -> String {
    match (run.only_cancelled(retry), retry.len()) {
        (true, 1) => "Flash it again".to_string(),
        (true, _) => "Flash them again".to_string(),
        (false, 1) => "Retry the failed drive".to_string(),
        (false, n) => format!("Retry the {n} failed drives"),
    }
}

fn title_ui(ui: &mut egui::Ui, run: &FlashRun) {
    let total = run.targets.len();
    let ok = run.succeeded();
    let files = run.targets.iter().filter(|t| t.is_file).count();
    let drives = total - files;
    let (title, color) = match run.outcome() {
        // A drive's backup is not "flashed": it is saved.
        Outcome::Complete if run.cloned && drives == 0 => {
            ("Saved a copy of the drive".to_string(), theme::SUCCESS)
        }
        Outcome::Complete => ("Flash complete".to_string(), theme::SUCCESS),
        // The user's own choice: neither an error nor a success.
        Outcome::Cancelled => ("Flash cancelled".to_string(), ui.visuals().text_color()),
        Outcome::Failed => ("Flash failed".to_string(), theme::ERROR),
        Outcome::Partial => {
            let what = match (drives, files) {
                (_, 0) => "drives flashed",
                (0, _) => "image files written",
                _ => "targets written",
            };
            (format!("{ok} of {total} {what}"), theme::WARNING)
        }
    };
    ui.label(
        RichText::new(title)
            .size(theme::SCREEN_TITLE_SIZE)
            .strong()
            .color(theme::text_color(ui.visuals(), color)),
    );
    let detail = if ok == total {
        let what = match (drives, files) {
            (1, 0) => "the drive".to_string(),
            (2, 0) => "both drives".to_string(),
            (_, 0) => format!("all {total} drives"),
            (0, 1) => "the image file".to_string(),
            (0, _) => format!("all {files} image files"),
            _ => format!("all {total} targets"),
        };
        let removable = removable(run, drives);
        let verified = if run.verify { " and verified" } else { "" };
        format!(
            "{} was written to {what}{verified}.{removable}",
            run.image_name
        )
    } else if run.outcome() == Outcome::Cancelled {
        format!(
            "You stopped writing {}. A drive that was not finished will not boot until it is \
             flashed again.",
            run.image_name
        )
    } else {
        format!(
            "{} — see below what went wrong and what to do.",
            run.image_name
        )
    };
    ui.add(egui::Label::new(widgets::secondary(ui, detail)).wrap());
}

/// What the title says about pulling the drives out: only when they were
/// ejected; else how to make them safe.
fn removable(run: &FlashRun, drives: usize) -> &'static str {
    let ejected = run
        .targets
        .iter()
        .filter(|t| !t.is_file)
        .all(|t| matches!(t.progress.ejected, Some(Ok(_))));
    match (drives, run.eject && ejected) {
        (0, _) => "",
        (1, true) => " The drive can be removed.",
        (_, true) => " The drives can be removed.",
        (_, false) if run.eject => " See below before removing the drives.",
        (1, false) => " Eject it from the desktop before removing it.",
        (_, false) => " Eject them from the desktop before removing them.",
    }
}

/// How a drive was left after it succeeded, when the run ejects.
fn eject_ui(ui: &mut egui::Ui, target: &RunTarget) {
    let (text, color) = match &target.progress.ejected {
        None => return,
        Some(Ok(Ejected::PoweredOff)) => (
            "Powered off: it can be removed.".to_string(),
            theme::SUCCESS,
        ),
        Some(Ok(Ejected::Flushed)) => {
            ("Flushed: it is safe to remove.".to_string(), theme::SUCCESS)
        }
        Some(Err(reason)) => (message::sentence(reason), theme::error_text(ui.visuals())),
    };
    ui.add(
        egui::Label::new(RichText::new(text).color(theme::text_color(ui.visuals(), color))).wrap(),
    );
}

fn target_result_ui(ui: &mut egui::Ui, target: &RunTarget, run: &FlashRun) {
    let result = target.progress.result.as_ref();
    let failed = !matches!(result, Some(Ok(())));
    // A drive the user's stop cut short did not fail: neutral, not red.
    let cancelled = matches!(result, Some(Err(f)) if f.kind == FailureKind::Cancelled)
        || (failed && run.outcome() == Outcome::Cancelled);
    let border = Some(match (failed, cancelled) {
        (false, _) => theme::SUCCESS,
        (true, true) => ui.visuals().weak_text_color(),
        (true, false) => theme::ERROR,
    });
    widgets::card_frame(ui, border).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            if cancelled {
                widgets::neutral_mark_ui(ui);
            } else {
                widgets::status_mark_ui(ui, !failed);
            }
            target_name_ui(ui, target);
        });
        match result {
            Some(Ok(())) => {
                // What the engine reports, not what was asked for.
                ui.label(if target.progress.verified_bytes > 0 {
                    "Written and verified"
                } else {
                    "Written, not verified (verification was skipped)"
                });
                timing_ui(ui, target, run);
                eject_ui(ui, target);
            }
            // Told once for the run, in the banner above.
            Some(Err(failure)) if failure.kind.is_source_fault() => {
                ui.label(
                    RichText::new(message::source_stop_line(failure))
                        .color(theme::error_text(ui.visuals())),
                );
            }
            // The title above already says the user stopped it: one line,
            // not the same sentence again.
            Some(Err(failure)) if failure.kind == FailureKind::Cancelled => {
                ui.add(egui::Label::new("Not finished: flash it again before using it.").wrap());
            }
            Some(Err(failure)) => {
                widgets::problem_ui(
                    ui,
                    &message::target_failure(failure, target.is_file),
                    theme::ERROR,
                );
            }
            None => {
                ui.label("Not finished");
            }
        }
    });
    ui.add_space(8.0);
}

/// "Took 1 min 12 s · wrote 5.2 GB at 85 MB/s".
fn timing_ui(ui: &mut egui::Ui, target: &RunTarget, run: &FlashRun) {
    let Some((elapsed, speed)) = run_time::target_timing(run, &target.progress) else {
        return;
    };
    let mut line = format!("Took {}", run_time::duration(elapsed));
    if let Some(speed) = speed {
        line += &format!(
            " · wrote {} at {} on average",
            humanize::bytes(target.progress.written_bytes),
            humanize::rate(speed)
        );
    }
    ui.add(egui::Label::new(widgets::secondary(ui, line)).wrap());
}

/// A drive's name and, when the name does not say it, its path; cut with
/// "…" when long, in full on hover.
pub(super) fn target_name_ui(ui: &mut egui::Ui, target: &RunTarget) {
    let full = match target.path_detail() {
        Some(path) => format!("{}  {path}", target.name),
        None => target.name.clone(),
    };
    let mut job = egui::text::LayoutJob::default();
    RichText::new(&target.name).strong().append_to(
        &mut job,
        ui.style(),
        egui::FontSelection::Default,
        egui::Align::Center,
    );
    if let Some(path) = target.path_detail() {
        widgets::secondary(ui, format!("  {path}")).append_to(
            &mut job,
            ui.style(),
            egui::FontSelection::Default,
            egui::Align::Center,
        );
    }
    widgets::truncated_ui(ui, job, &full);
}

/// The checksums, each saying what it is of: the image file's own (what a
/// publisher lists) and the image as written (with the configuration, if
/// any, which therefore matches no published checksum).
fn hash_ui(ui: &mut egui::Ui, run: &FlashRun, extras: &Extras<'_>, actions: &mut Vec<Action>) {
    // A file on disk is hashed as it is opened; a link's file as it is
    // received (`source/http_resume.rs`), in process or for the helper.
    let file_hash = match extras.file_hash {
        FileHash::Done(hash) => Some(hash),
        _ => run.download_sha256.as_ref(),
    };
    if file_hash.is_none() && run.image_sha256.is_none() && run.written_sha256.is_none() {
        return;
    }
    widgets::card_ui(ui, |ui| {
        ui.label(RichText::new("Checksums (SHA-256)").strong());
        if let Some(hash) = file_hash {
            hash_row_ui(
                ui,
                "The image file, as downloaded: compare it with the publisher's checksum.",
                hash,
                extras.copied,
                actions,
            );
        }
        if let Some(hash) = &run.image_sha256
            && Some(hash) != file_hash
        {
            let what =
                "The image, decompressed: what a publisher may list for the uncompressed image.";
            hash_row_ui(ui, what, hash, extras.copied, actions);
        }
        if let Some(hash) = &run.written_sha256
            && run.configured
            && Some(hash) != run.image_sha256.as_ref()
        {
            let what = "The image as written, with your configuration: it differs from any published checksum.";
            hash_row_ui(ui, what, hash, extras.copied, actions);
        }
    });
}

fn hash_row_ui(
    ui: &mut egui::Ui,
    what: &str,
    hash: &str,
    copied: Option<&(String, Instant)>,
    actions: &mut Vec<Action>,
) {
    ui.add_space(4.0);
    ui.add(egui::Label::new(widgets::secondary(ui, what)).wrap());
    ui.horizontal_wrapped(|ui| {
        ui.add(egui::Label::new(RichText::new(hash).monospace()).selectable(true));
        widgets::copy_button_ui(ui, hash, copied, actions);
    });
}

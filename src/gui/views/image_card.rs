//! Step 1: the image card — a button, a drop target and the built-in demo
//! image when nothing is chosen; the image's name, format, sizes and
//! partitions once it is open.

use egui::RichText;

use super::super::action::Action;
use std::path::Path;

use super::super::app_state::{AppState, FileHash, ImageSlot};
use super::super::config_check::ConfigStatus;
use super::super::file_dialog::Purpose;
use super::super::image_probe::ImageInfo;
use super::super::theme;
use super::widgets;
use crate::humanize;

/// The one name of the action that opens an image from a link, wherever
/// it is offered (issue 17, item 10).
const FROM_URL: &str = "Flash from URL…";

pub(super) fn image_step_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    widgets::card_ui(ui, |ui| {
        widgets::step_title_ui(ui, 1, "Select image", state.image.info().is_some());
        match &state.image {
            ImageSlot::Empty => empty_ui(ui, actions),
            ImageSlot::Opening { path, .. } => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    // A server that never answers must not hold the app:
                    // Cancel stops waiting at once.
                    if ui.button("Cancel").clicked() {
                        actions.push(Action::CancelOpening);
                    }
                    widgets::truncated_ui(
                        ui,
                        format!("Opening {}…", file_name(path)),
                        &path.display().to_string(),
                    );
                });
            }
            ImageSlot::Ready(info) => image_info_ui(ui, state, info, actions),
            ImageSlot::Failed { path, problem } => {
                name_row_ui(ui, path, "Select another image…", actions);
                widgets::problem_ui(ui, problem, theme::ERROR);
            }
        }
        widgets::path_entry_ui(ui, state.path_entry.as_ref(), Purpose::Image, actions);
        widgets::path_entry_ui(ui, state.path_entry.as_ref(), Purpose::Url, actions);
    });
}

fn empty_ui(ui: &mut egui::Ui, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        if ui
            .add(widgets::primary_button("Select image…"))
            .on_hover_text("Open a disk image file")
            .clicked()
        {
            actions.push(Action::PickImage);
        }
        if ui
            .button(FROM_URL)
            .on_hover_text("Flash an image straight from an http:// or https:// link")
            .clicked()
        {
            actions.push(Action::TypePath(Purpose::Url));
        }
        ui.vertical(|ui| {
            ui.add(egui::Label::new("or drop an image file anywhere on this window").wrap());
            ui.add(
                egui::Label::new(widgets::secondary(
                    ui,
                    "Raw images, or compressed with xz, gzip, zstd, bzip2, or zip",
                ))
                .wrap(),
            );
        });
    });
    ui.add_space(8.0);
    ui.horizontal_wrapped(|ui| {
        widgets::type_path_link_ui(ui, Purpose::Image, actions);
        ui.label(widgets::secondary(ui, "·"));
        if ui
            .link("Clone a drive…")
            .on_hover_text("Use a drive's whole contents as the image")
            .clicked()
        {
            actions.push(Action::PickCloneSource);
        }
        ui.label(widgets::secondary(ui, "·  No image at hand?"));
        if ui
            .link("Try the demo image")
            .on_hover_text("A small balenaOS-shaped image (8 MB) built into Imprint")
            .clicked()
        {
            actions.push(Action::UseDemoImage);
        }
    });
}

/// The image's name, cut with "…" when long (the full path on hover),
/// and the button to choose another, always in view on the right.
fn name_row_ui(ui: &mut egui::Ui, path: &Path, button: &str, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .link(FROM_URL)
                .on_hover_text("Flash an image from an http:// or https:// link instead")
                .clicked()
            {
                actions.push(Action::TypePath(Purpose::Url));
            }
            widgets::type_path_link_ui(ui, Purpose::Image, actions);
            choose_button_ui(ui, button, actions);
            ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                widgets::truncated_ui(
                    ui,
                    RichText::new(file_name(path)).size(18.0).strong(),
                    &path.display().to_string(),
                );
            });
        });
    });
}

fn image_info_ui(ui: &mut egui::Ui, state: &AppState, info: &ImageInfo, actions: &mut Vec<Action>) {
    name_row_ui(ui, info.source.path(), "Change…", actions);
    if let Some(drive) = state
        .clone_source()
        .and_then(|source| state.drives.iter().find(|d| d.path == source))
    {
        let text = format!(
            "Cloning the drive {}: it is only read",
            drive.display_name()
        );
        widgets::truncated_ui(ui, widgets::secondary(ui, text.as_str()), &text);
    }
    if let Some(entry) = info.source.entry_name() {
        widgets::truncated_ui(
            ui,
            widgets::secondary(ui, format!("Disk image in the archive: {entry}")),
            entry,
        );
    }
    if info.source.download().is_some() {
        widgets::truncated_ui(
            ui,
            widgets::secondary(
                ui,
                format!("From the web: {}", info.source.path().display()),
            ),
            &info.source.path().display().to_string(),
        );
    }
    ui.add(egui::Label::new(size_line(info, state.learned_size)).wrap());
    ui.add(
        egui::Label::new(widgets::secondary(
            ui,
            partitions_line(info, &state.config_status),
        ))
        .wrap(),
    );
    if !matches!(state.file_hash, FileHash::None) {
        file_hash_ui(ui, state, actions);
        super::checksum_row::checksum_row_ui(ui, state, actions);
    }
    customise_row_ui(ui, state, actions);
}

/// "Customise…": the balenaOS configuration (config.json, WiFi) one click
/// from the image, as Raspberry Pi Imager offers it, instead of two
/// steps down; what is set so far is named beside it.
fn customise_row_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        if ui
            .button("Customise…")
            .on_hover_text("Embed a balenaOS config.json and WiFi settings while writing")
            .clicked()
        {
            actions.push(Action::Customise);
        }
        let summary = state
            .config
            .summary()
            .unwrap_or_else(|| "config.json and WiFi: none".to_string());
        widgets::truncated_ui(ui, widgets::secondary(ui, summary.as_str()), &summary);
    });
}

/// The file's own SHA-256: what a publisher lists beside the download.
fn file_hash_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    ui.add_space(4.0);
    ui.horizontal_wrapped(|ui| {
        ui.label(widgets::secondary(ui, "SHA-256 of the file:"));
        match &state.file_hash {
            FileHash::None => {}
            FileHash::Computing => {
                ui.spinner();
                ui.label(widgets::secondary(ui, "computing…"));
            }
            FileHash::Done(hash) => {
                ui.add(egui::Label::new(RichText::new(hash).monospace().small()).selectable(true))
                    .on_hover_text("Compare it with the checksum published beside the download");
                widgets::copy_button_ui(ui, hash, state.copied.as_ref(), actions);
            }
            FileHash::Failed(message) => {
                ui.label(widgets::secondary(ui, "could not be computed"))
                    .on_hover_text(message);
            }
        }
    });
}

/// "xz · 3.1 MB compressed · 32 MB decompressed"; a size the format does
/// not record but an earlier flash of this file learned says so.
fn size_line(info: &ImageInfo, learned: Option<u64>) -> String {
    let source = &info.source;
    let format = source.format();
    let file = match source.file_size() {
        Some(size) if source.download().is_some() => format!("{} download", humanize::bytes(size)),
        Some(size) => humanize::bytes(size),
        None if source.download().is_some() => "download size unknown".to_string(),
        None => "a stream".to_string(),
    };
    match (format, source.size_hint()) {
        (crate::source::ImageFormat::Raw, _) => format!("Raw image · {file}"),
        (_, Some(size)) => format!(
            "{} · {file} compressed · {} decompressed",
            format.name(),
            humanize::bytes(size)
        ),
        (_, None) => match (learned, source.min_size()) {
            (Some(size), _) => format!(
                "{} · {file} compressed · {} decompressed (learned when it was last flashed)",
                format.name(),
                humanize::bytes(size)
            ),
            (None, Some(at_least)) => format!(
                "{} · {file} compressed · at least {} decompressed",
                format.name(),
                humanize::bytes(at_least)
            ),
            (None, None) => format!(
                "{} · {file} compressed · decompressed size known after flashing",
                format.name()
            ),
        },
    }
}

/// "MBR partition table · balenaOS boot partition: 1 (resin-boot)"; the
/// boot partition only once a configuration found it.
fn partitions_line(info: &ImageInfo, config: &ConfigStatus) -> String {
    let table = info.partition_table.describe();
    let mut line = table[..1].to_uppercase() + &table[1..];
    if let ConfigStatus::Valid(configured) = config {
        let part = &configured.partition;
        line += &match &part.label {
            Some(label) => format!(" · balenaOS boot partition: {} ({label})", part.number),
            None => format!(" · balenaOS boot partition: {}", part.number),
        };
    }
    line
}

fn choose_button_ui(ui: &mut egui::Ui, text: &str, actions: &mut Vec<Action>) {
    if ui.button(text).clicked() {
        actions.push(Action::PickImage);
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

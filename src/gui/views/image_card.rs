//! Step 1: the image card — a button, a drop target and the built-in demo
//! image when nothing is chosen; the image's name, format, sizes and
//! partitions once it is open.

use egui::RichText;

use super::super::action::Action;
use super::super::app::{ImageSlot, ImprintApp};
use super::super::config_check::ConfigStatus;
use super::super::image_probe::ImageInfo;
use super::super::theme;
use super::widgets;
use crate::humanize;

pub fn image_step_ui(ui: &mut egui::Ui, app: &ImprintApp, actions: &mut Vec<Action>) {
    widgets::card_ui(ui, |ui| {
        widgets::step_title_ui(ui, 1, "Select image", app.image.info().is_some());
        match &app.image {
            ImageSlot::Empty => empty_ui(ui, actions),
            ImageSlot::Opening { path, .. } => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Opening {}…", file_name(path)));
                });
            }
            ImageSlot::Ready(info) => image_info_ui(ui, info, &app.config_status, actions),
            ImageSlot::Failed { path, message } => {
                ui.label(RichText::new(file_name(path)).size(17.0).strong());
                ui.add(egui::Label::new(RichText::new(message).color(theme::ERROR)).wrap());
                ui.label(widgets::secondary(
                    ui,
                    "Choose another image, or check that this file is complete.",
                ));
                choose_button_ui(ui, "Select another image…", actions);
            }
        }
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
        ui.vertical(|ui| {
            ui.label("or drop an image file anywhere on this window");
            ui.label(widgets::secondary(
                ui,
                "Raw images, or compressed with xz, gzip, zstd, bzip2, or zip",
            ));
        });
    });
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        ui.label(widgets::secondary(ui, "No image at hand?"));
        if ui
            .link("Try the demo image")
            .on_hover_text("A small balenaOS-shaped image (8 MB) built into Imprint")
            .clicked()
        {
            actions.push(Action::UseDemoImage);
        }
    });
}

fn image_info_ui(
    ui: &mut egui::Ui,
    info: &ImageInfo,
    config: &ConfigStatus,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(&info.name).size(18.0).strong());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            choose_button_ui(ui, "Change…", actions);
        });
    });
    if let Some(entry) = info.source.entry_name() {
        ui.label(widgets::secondary(
            ui,
            format!("Disk image in the archive: {entry}"),
        ));
    }
    ui.label(size_line(info));
    ui.label(widgets::secondary(ui, partitions_line(info, config)));
}

/// "xz · 3.1 MB compressed · 32 MB decompressed".
fn size_line(info: &ImageInfo) -> String {
    let source = &info.source;
    let format = source.format();
    let file = source
        .file_size()
        .map_or_else(|| "a stream".to_string(), humanize::bytes);
    match (format, source.size_hint()) {
        (crate::source::ImageFormat::Raw, _) => format!("Raw image · {file}"),
        (_, Some(size)) => format!(
            "{} · {file} compressed · {} decompressed",
            format.name(),
            humanize::bytes(size)
        ),
        (_, None) => format!(
            "{} · {file} compressed · decompressed size known after flashing",
            format.name()
        ),
    }
}

/// "MBR partition table · balenaOS boot partition: 1 (resin-boot)".
fn partitions_line(info: &ImageInfo, config: &ConfigStatus) -> String {
    let boot = match config {
        ConfigStatus::Valid(configured) => {
            let part = &configured.partition;
            match &part.label {
                Some(label) => format!("balenaOS boot partition: {} ({label})", part.number),
                None => format!("balenaOS boot partition: {}", part.number),
            }
        }
        _ => "balenaOS boot partition: found when a configuration is added".to_string(),
    };
    format!("{} · {boot}", info.partition_table.describe())
}

fn choose_button_ui(ui: &mut egui::Ui, text: &str, actions: &mut Vec<Action>) {
    if ui.button(text).clicked() {
        actions.push(Action::PickImage);
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

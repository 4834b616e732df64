//! Small pieces shared by the screens: cards, step titles, the primary
//! button, badges and the error banner.

use egui::{Color32, CornerRadius, Margin, RichText, Stroke};

use super::super::action::Action;
use super::super::theme;

/// Content never grows wider than this: long lines are hard to read on a
/// maximised window.
const MAX_CONTENT_WIDTH: f32 = 760.0;

/// Lays `add` out in a column centred in the available width.
pub fn centered_column_ui(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) {
    let available = ui.available_width();
    let width = available.min(MAX_CONTENT_WIDTH);
    let margin = ((available - width) / 2.0).max(0.0);
    ui.horizontal(|ui| {
        ui.add_space(margin);
        ui.vertical(|ui| {
            ui.set_width(width);
            add(ui);
        });
    });
}

/// A card: the frame of one step or one drive.
pub fn card_ui<R>(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    card_frame(ui, None).show(ui, |ui| {
        ui.set_width(ui.available_width());
        add(ui)
    })
    .inner
}

/// A card with a coloured border (selected drive, failed drive).
pub fn card_frame(ui: &egui::Ui, border: Option<Color32>) -> egui::Frame {
    let visuals = ui.visuals();
    let stroke = match border {
        Some(color) => Stroke::new(1.5, color),
        None => visuals.widgets.noninteractive.bg_stroke,
    };
    egui::Frame::new()
        .fill(visuals.faint_bg_color)
        .stroke(stroke)
        .corner_radius(CornerRadius::same(10))
        .inner_margin(Margin::same(16))
}

/// "①  Select image", dimmed until the step can be taken.
pub fn step_title_ui(ui: &mut egui::Ui, number: u8, title: &str, done: bool) {
    ui.horizontal(|ui| {
        let circled = ['①', '②', '③'].get(usize::from(number.saturating_sub(1)));
        let mark = circled.map(|c| c.to_string()).unwrap_or_default();
        let color = if done {
            theme::ACCENT
        } else {
            ui.visuals().weak_text_color()
        };
        ui.label(RichText::new(mark).size(theme::STEP_TITLE_SIZE).color(color));
        ui.label(RichText::new(title).size(theme::STEP_TITLE_SIZE).strong());
    });
    ui.add_space(4.0);
}

/// The one primary action of a screen: filled with the accent.
pub fn primary_button(text: &str) -> egui::Button<'static> {
    egui::Button::new(RichText::new(text).size(17.0).strong().color(theme::ON_ACCENT))
        .fill(theme::ACCENT)
        .min_size(egui::vec2(150.0, 40.0))
        .corner_radius(CornerRadius::same(8))
}

/// Secondary details: smaller and weaker than the text they explain.
pub fn secondary(ui: &egui::Ui, text: impl Into<String>) -> RichText {
    RichText::new(text.into()).color(ui.visuals().weak_text_color())
}

/// A short coloured tag ("system drive", "too small").
pub fn badge_ui(ui: &mut egui::Ui, text: &str, color: Color32) {
    egui::Frame::new()
        .stroke(Stroke::new(1.0, color))
        .corner_radius(CornerRadius::same(6))
        .inner_margin(Margin::symmetric(6, 1))
        .show(ui, |ui| {
            ui.label(RichText::new(text).small().color(color));
        });
}

/// An error the user should read before going on, with a close button.
pub fn error_banner_ui(ui: &mut egui::Ui, message: &str, actions: &mut Vec<Action>) {
    egui::Frame::new()
        .fill(theme::ERROR.gamma_multiply(0.15))
        .stroke(Stroke::new(1.0, theme::ERROR))
        .corner_radius(CornerRadius::same(8))
        .inner_margin(Margin::same(12))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.add(
                egui::Label::new(RichText::new(format!("⚠  {message}")).color(theme::ERROR))
                    .wrap(),
            );
            if ui.button("Dismiss").clicked() {
                actions.push(Action::DismissNotice);
            }
        });
    ui.add_space(12.0);
}

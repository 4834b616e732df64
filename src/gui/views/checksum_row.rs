//! The image card's checksum row: a field for the publisher's SHA-256 (or
//! the one found beside the image), and whether the file matches it, said
//! before anything is written.

use egui::RichText;

use super::super::action::Action;
use super::super::app_state::AppState;
use super::super::checksum::Verdict;
use super::super::theme;
use super::widgets;

pub(super) fn checksum_row_ui(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let verdict = state.checksum_verdict();
    let typed = !state.expected_sha256.trim().is_empty();
    ui.horizontal(|ui| {
        let label = ui.label(widgets::secondary(ui, "Expected SHA-256:"));
        let mut text = state.expected_sha256.clone();
        let hint = match &state.found_sha256 {
            Some(found) => format!(
                "from {} beside the image",
                found.file.file_name().unwrap_or_default().to_string_lossy()
            ),
            None => "paste the checksum published with the image (optional)".into(),
        };
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .hint_text(hint)
                    .font(egui::TextStyle::Monospace)
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id);
        if field.changed() {
            actions.push(Action::SetExpectedSha256(text));
        }
    });
    let source = match (&state.found_sha256, typed) {
        (Some(found), false) => format!(
            " (from {})",
            found.file.file_name().unwrap_or_default().to_string_lossy()
        ),
        _ => String::new(),
    };
    let (text, color) = match verdict {
        Verdict::NotGiven => return,
        Verdict::Malformed => (
            "A SHA-256 is 64 characters, 0–9 and a–f: check what was pasted.".to_string(),
            theme::error_text(ui.visuals()),
        ),
        Verdict::Waiting => (
            "Comparing the file with the checksum…".to_string(),
            ui.visuals().text_color(),
        ),
        Verdict::Matches => (
            format!("The file matches the published checksum{source}."),
            theme::SUCCESS,
        ),
        Verdict::Mismatch => (
            format!(
                "The file does not match the published checksum{source}: it is damaged or \
                 not the published image. Download it again."
            ),
            theme::error_text(ui.visuals()),
        ),
        Verdict::Unknown => (
            "The file's SHA-256 could not be computed, so it cannot be compared.".to_string(),
            ui.visuals().weak_text_color(),
        ),
    };
    ui.add(
        egui::Label::new(RichText::new(text).color(theme::text_color(ui.visuals(), color))).wrap(),
    );
}

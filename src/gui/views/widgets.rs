//! Small pieces shared by the screens: cards, step titles, the primary
//! button, badges, problems with their details, the error banner, the
//! typed-path field and the Copy button.

use egui::{Color32, CornerRadius, Margin, RichText, Stroke};

use std::time::{Duration, Instant};

use super::super::action::Action;
use super::super::app_state::PathEntry;
use super::super::file_dialog::Purpose;
use super::super::message::Problem;
use super::super::theme;

/// Content never grows wider than this: long lines are hard to read on a
/// maximised window.
const MAX_CONTENT_WIDTH: f32 = 760.0;

/// Lays `add` out in a column centred in the available width.
pub(super) fn centered_column_ui(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) {
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

/// The frame of the header and of the bars at the bottom: the same side
/// margins as the content, so text does not touch the window's edge.
pub(super) fn bar_frame(ui: &egui::Ui) -> egui::Frame {
    egui::Frame::side_top_panel(ui.style()).inner_margin(Margin::symmetric(20, 10))
}

/// A card: the frame of one step or one drive.
pub(super) fn card_ui<R>(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    card_frame(ui, None)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            add(ui)
        })
        .inner
}

/// The focus ring around `rect` (a whole row whose checkbox has the
/// focus), in the theme's ring colour and width.
pub(super) fn focus_ring_ui(ui: &egui::Ui, rect: egui::Rect) {
    let ring = ui.visuals().widgets.active.bg_stroke;
    ui.painter().rect_stroke(
        rect.expand(1.0),
        CornerRadius::same(11),
        ring,
        egui::StrokeKind::Outside,
    );
}

/// A card with a coloured border (selected drive, failed drive).
pub(super) fn card_frame(ui: &egui::Ui, border: Option<Color32>) -> egui::Frame {
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

/// "(1) Select image": a numbered disc, filled with the accent once the
/// step is done, then the title.
pub(super) fn step_title_ui(ui: &mut egui::Ui, number: u8, title: &str, done: bool) {
    ui.horizontal(|ui| {
        let diameter = theme::STEP_TITLE_SIZE + 6.0;
        let (rect, _) =
            ui.allocate_exact_size(egui::vec2(diameter, diameter), egui::Sense::hover());
        let painter = ui.painter();
        let text_color = if done {
            painter.circle_filled(rect.center(), diameter / 2.0, theme::ACCENT);
            theme::ON_ACCENT
        } else {
            let weak = ui.visuals().weak_text_color();
            painter.circle_stroke(rect.center(), diameter / 2.0 - 1.0, Stroke::new(2.0, weak));
            weak
        };
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            number.to_string(),
            egui::FontId::proportional(theme::STEP_TITLE_SIZE - 6.0),
            text_color,
        );
        ui.label(RichText::new(title).size(theme::STEP_TITLE_SIZE).strong());
    });
    ui.add_space(4.0);
}

/// The one primary action of a screen: filled with the accent.
pub(super) fn primary_button(text: &str) -> egui::Button<'static> {
    primary_button_enabled(text, true)
}

/// A primary button that is plain grey while it cannot be pressed, so an
/// accent-coloured button always means "ready".
pub(super) fn primary_button_enabled(text: &str, enabled: bool) -> egui::Button<'static> {
    let text = RichText::new(text).size(17.0).strong();
    let button = if enabled {
        egui::Button::new(text.color(theme::ON_ACCENT)).fill(theme::ACCENT)
    } else {
        egui::Button::new(text)
    };
    button
        .min_size(egui::vec2(150.0, 40.0))
        .corner_radius(CornerRadius::same(8))
}

/// A button whose choice erases or abandons something: red, so it never
/// looks like the way forward.
pub(super) fn destructive_button(text: &str) -> egui::Button<'static> {
    let text = RichText::new(text).size(17.0).strong();
    egui::Button::new(text.color(theme::ON_ACCENT))
        .fill(theme::DESTRUCTIVE)
        .min_size(egui::vec2(150.0, 40.0))
        .corner_radius(CornerRadius::same(8))
}

/// Secondary details: smaller and weaker than the text they explain.
pub(super) fn secondary(ui: &egui::Ui, text: impl Into<String>) -> RichText {
    RichText::new(text.into()).color(ui.visuals().weak_text_color())
}

/// A short coloured tag ("system drive", "too small").
pub(super) fn badge_ui(ui: &mut egui::Ui, text: &str, color: Color32) {
    egui::Frame::new()
        .stroke(Stroke::new(1.0, color))
        .corner_radius(CornerRadius::same(6))
        .inner_margin(Margin::symmetric(6, 1))
        .show(ui, |ui| {
            ui.label(
                RichText::new(text)
                    .small()
                    .color(theme::text_color(ui.visuals(), color)),
            );
        });
}

/// An error the user should read before going on, with a close button.
pub(super) fn error_banner_ui(ui: &mut egui::Ui, problem: &Problem, actions: &mut Vec<Action>) {
    banner_frame().show(ui, |ui| {
        ui.set_width(ui.available_width());
        problem_ui(ui, problem, theme::ERROR);
        if ui.button("Dismiss").clicked() {
            actions.push(Action::DismissNotice);
        }
    });
    ui.add_space(12.0);
}

/// The frame of an error banner.
pub(super) fn banner_frame() -> egui::Frame {
    egui::Frame::new()
        .fill(theme::ERROR.gamma_multiply(0.15))
        .stroke(Stroke::new(1.0, theme::ERROR))
        .corner_radius(CornerRadius::same(8))
        .inner_margin(Margin::same(12))
}

/// A problem: its title in `color`, what to do, and the technical text
/// folded under "Details".
pub(super) fn problem_ui(ui: &mut egui::Ui, problem: &Problem, color: Color32) {
    // Red text in the shade that reads on this theme's background.
    let color = theme::text_color(ui.visuals(), color);
    ui.add(egui::Label::new(RichText::new(&problem.title).strong().color(color)).wrap());
    if !problem.advice.is_empty() {
        ui.add(egui::Label::new(problem.advice.as_str()).wrap());
    }
    if let Some(details) = &problem.details {
        egui::CollapsingHeader::new("Details")
            .id_salt(("details", &problem.title, details))
            .show(ui, |ui| {
                ui.add(
                    egui::Label::new(secondary(ui, details.as_str()).monospace())
                        .wrap()
                        .selectable(true),
                );
            });
    }
}

/// One line of `text`, cut with "…" where the space ends; the whole of
/// `full` (the path, say) on hover.
pub(super) fn truncated_ui(
    ui: &mut egui::Ui,
    text: impl Into<egui::WidgetText>,
    full: &str,
) -> egui::Response {
    ui.add(egui::Label::new(text).truncate())
        .on_hover_text(full)
}

/// "Copy", which says "Copied" for two seconds after it copied `text`.
pub(super) fn copy_button_ui(
    ui: &mut egui::Ui,
    text: &str,
    copied: Option<&(String, Instant)>,
    actions: &mut Vec<Action>,
) {
    let just_copied =
        copied.is_some_and(|(what, when)| what == text && when.elapsed() < COPIED_FOR);
    let label = if just_copied { "Copied" } else { "Copy" };
    if just_copied {
        // Come back to turn "Copied" into "Copy" again.
        ui.ctx().request_repaint_after(COPIED_FOR);
    }
    if ui
        .button(label)
        .on_hover_text("Copy the SHA-256 to the clipboard")
        .clicked()
    {
        actions.push(Action::Copy(text.to_string()));
    }
}

/// How long "Copied" stays on the button.
const COPIED_FOR: Duration = Duration::from_secs(2);

/// A small link that opens the typed-path field for `purpose`.
pub(super) fn type_path_link_ui(ui: &mut egui::Ui, purpose: Purpose, actions: &mut Vec<Action>) {
    if ui
        .link("Type a path…")
        .on_hover_text(format!("Type or paste the path of {}", purpose.what()))
        .clicked()
    {
        actions.push(Action::TypePath(purpose));
    }
}

/// The typed-path field for `purpose`, when it is open: a note when no
/// file dialog could be shown, the field, and its buttons. Enter submits.
pub(super) fn path_entry_ui(
    ui: &mut egui::Ui,
    entry: Option<&PathEntry>,
    purpose: Purpose,
    actions: &mut Vec<Action>,
) {
    let Some(entry) = entry.filter(|e| e.purpose == purpose) else {
        return;
    };
    ui.add_space(4.0);
    if entry.no_dialog {
        ui.add(
            egui::Label::new(
                RichText::new(
                    "No file dialog opened: this desktop has no file-chooser service \
                     (xdg-desktop-portal). Type the path instead.",
                )
                .color(theme::warning_text(ui.visuals())),
            )
            .wrap(),
        );
    }
    let submit = match purpose {
        Purpose::Image | Purpose::Config | Purpose::Url => "Open",
        Purpose::FileTarget => "Add",
    };
    ui.horizontal(|ui| {
        let label = ui.label(match purpose {
            Purpose::Url => "Link to the image".to_string(),
            _ => format!("Path of {}", purpose.what()),
        });
        let mut text = entry.text.clone();
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("Cancel").clicked() {
                actions.push(Action::ClosePathEntry);
            }
            let open = ui.add_enabled(!text.trim().is_empty(), egui::Button::new(submit));
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut text)
                        .hint_text(match purpose {
                            Purpose::Url => "https://…",
                            _ => "/home/you/Downloads/…",
                        })
                        .desired_width(ui.available_width()),
                )
                .labelled_by(label.id);
            if entry.focus {
                field.request_focus();
                if entry.select {
                    select_all(ui, field.id, &text);
                }
                field.scroll_to_me(None);
            }
            if field.changed() {
                actions.push(Action::EditPath(text.clone()));
            }
            // Escape leaves the field (egui drops the focus): close it too,
            // as Cancel does.
            if (field.has_focus() || field.lost_focus())
                && ui.input(|i| i.key_pressed(egui::Key::Escape))
            {
                actions.push(Action::ClosePathEntry);
            }
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if open.clicked() || entered {
                if field.changed() {
                    actions.push(Action::EditPath(text));
                }
                actions.push(Action::SubmitPath);
            }
        });
    });
    if let Some(error) = &entry.error {
        ui.label(RichText::new(error).color(theme::error_text(ui.visuals())));
    }
}

/// Selects the whole text of the text field `id`.
fn select_all(ui: &egui::Ui, id: egui::Id, text: &str) {
    use egui::text::{CCursor, CCursorRange};
    let mut state = egui::TextEdit::load_state(ui.ctx(), id).unwrap_or_default();
    let end = CCursor::new(text.chars().count());
    state
        .cursor
        .set_char_range(Some(CCursorRange::two(CCursor::new(0), end)));
    state.store(ui.ctx(), id);
}

/// A round success (check) or failure (cross) mark, drawn rather than taken
/// from a font so it looks the same everywhere.
pub(super) fn status_mark_ui(ui: &mut egui::Ui, ok: bool) {
    let size = 22.0;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let painter = ui.painter();
    let c = rect.center();
    let color = if ok { theme::SUCCESS } else { theme::ERROR };
    painter.circle_filled(c, size / 2.0, color);
    let stroke = Stroke::new(2.5, theme::ON_ACCENT);
    let r = size * 0.22;
    if ok {
        painter.line_segment(
            [c + egui::vec2(-r, 0.0), c + egui::vec2(-r * 0.3, r * 0.8)],
            stroke,
        );
        painter.line_segment(
            [
                c + egui::vec2(-r * 0.3, r * 0.8),
                c + egui::vec2(r * 1.1, -r * 0.7),
            ],
            stroke,
        );
    } else {
        painter.line_segment([c + egui::vec2(-r, -r), c + egui::vec2(r, r)], stroke);
        painter.line_segment([c + egui::vec2(-r, r), c + egui::vec2(r, -r)], stroke);
    }
}

/// The mark of a drive the user's stop cut short: grey with a dash, since
/// nothing failed; named for screen readers (and the tests).
pub(super) fn neutral_mark_ui(ui: &mut egui::Ui) {
    let size = 22.0;
    let (rect, response) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, "Stopped, not failed"));
    let c = rect.center();
    let painter = ui.painter();
    painter.circle_filled(c, size / 2.0, ui.visuals().weak_text_color());
    let r = size * 0.25;
    painter.line_segment(
        [c - egui::vec2(r, 0.0), c + egui::vec2(r, 0.0)],
        Stroke::new(2.5, ui.visuals().extreme_bg_color),
    );
}

/// How long the view follows a section as it unfolds (a bit longer than
/// egui's opening animation).
const FOLLOW_SECONDS: f64 = 0.4;

/// Opened at the bottom of the window, a section would unfold out of
/// sight: follow it into view while it opens (clicked, or `reveal`ed).
pub(super) fn follow_unfolding<R>(
    ui: &egui::Ui,
    section: &egui::CollapsingResponse<R>,
    reveal: bool,
    key: &str,
) {
    let follow = egui::Id::unique(key);
    let now = ui.input(|i| i.time);
    if section.header_response.clicked() || reveal {
        ui.ctx()
            .data_mut(|d| d.insert_temp(follow, now + FOLLOW_SECONDS));
    }
    let until = ui.ctx().data(|d| d.get_temp::<f64>(follow));
    if let (Some(until), Some(body)) = (until, &section.body_response)
        && now < until
    {
        body.scroll_to_me(Some(egui::Align::Max));
        ui.ctx().request_repaint();
    }
}

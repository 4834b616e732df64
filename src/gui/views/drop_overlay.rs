//! The highlight shown while a file is dragged over the window: the whole
//! window is the drop target, so the whole window lights up. A config.json
//! becomes the configuration, anything else the image.

use egui::{Align2, Color32, CornerRadius, FontId, Id, LayerId, Order, Stroke, StrokeKind};

use super::super::app_state::is_json;
use super::super::theme;

pub(super) fn drop_overlay_ui(ctx: &egui::Context) {
    let Some(json) = ctx.input(|i| {
        i.raw
            .hovered_files
            .first()
            .map(|f| f.path.as_deref().is_some_and(is_json))
    }) else {
        return;
    };
    let painter = ctx.layer_painter(LayerId::new(Order::Foreground, Id::unique("drop_overlay")));
    let rect = ctx.content_rect().shrink(8.0);
    let backdrop = if ctx.theme() == egui::Theme::Dark {
        Color32::from_black_alpha(200)
    } else {
        Color32::from_white_alpha(220)
    };
    painter.rect(
        rect,
        CornerRadius::same(16),
        backdrop,
        Stroke::new(3.0, theme::ACCENT),
        StrokeKind::Inside,
    );
    painter.text(
        rect.center(),
        Align2::CENTER_CENTER,
        if json {
            "Drop the config.json to use it"
        } else {
            "Drop the image to select it"
        },
        FontId::proportional(26.0),
        theme::ACCENT,
    );
}

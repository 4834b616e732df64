//! The look: the system's light or dark theme, a teal accent (the icon's),
//! roomier spacing and larger text than egui's defaults, which are tuned
//! for dense tool panels rather than a three-step app.

use egui::{Color32, FontFamily, FontId, TextStyle, ThemePreference, Vec2};

/// The accent: primary buttons, progress bars, selected drives. Dark
/// enough for white text (5.3:1; the icon's lighter teal was 3.7:1).
pub(super) const ACCENT: Color32 = Color32::from_rgb(0x00, 0x79, 0x6b);
/// Text on the accent.
pub(super) const ON_ACCENT: Color32 = Color32::WHITE;
/// Success marks.
pub(super) const SUCCESS: Color32 = Color32::from_rgb(0x2e, 0xa0, 0x4f);
/// Failure marks and failed rows; readable on both themes.
pub(super) const ERROR: Color32 = Color32::from_rgb(0xd6, 0x3b, 0x3b);
/// Buttons that erase or abandon something ("Erase and flash", "Stop and
/// quit"): red, never the accent that means "go"; dark enough for white
/// text.
pub(super) const DESTRUCTIVE: Color32 = Color32::from_rgb(0xb3, 0x26, 0x1e);
/// Warnings (large drive, partial results).
pub(super) const WARNING: Color32 = Color32::from_rgb(0xd9, 0x8a, 0x0b);

/// Red for text (reasons, failures), dark enough on a light background and
/// light enough on a dark one.
pub(super) fn error_text(visuals: &egui::Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0xff, 0x7b, 0x72)
    } else {
        Color32::from_rgb(0xb3, 0x26, 0x1e)
    }
}

/// The accent as text (links, titles): darker on a light background,
/// lighter on a dark one, 4.5:1 either way.
pub(super) fn accent_text(visuals: &egui::Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0x4d, 0xb6, 0xac)
    } else {
        Color32::from_rgb(0x00, 0x69, 0x5c)
    }
}

/// Green for text ("Configuration valid", "Done").
pub(super) fn success_text(visuals: &egui::Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0x3f, 0xb9, 0x50)
    } else {
        Color32::from_rgb(0x11, 0x63, 0x29)
    }
}

/// Orange for text (what still needs a look).
pub(super) fn warning_text(visuals: &egui::Visuals) -> Color32 {
    if visuals.dark_mode {
        Color32::from_rgb(0xd2, 0x99, 0x22)
    } else {
        Color32::from_rgb(0x7d, 0x4e, 0x00)
    }
}

/// A mark colour (ACCENT, SUCCESS, WARNING, ERROR) in the shade that reads
/// as text on this theme's background; any other colour as it is.
pub(super) fn text_color(visuals: &egui::Visuals, mark: Color32) -> Color32 {
    match mark {
        ACCENT => accent_text(visuals),
        SUCCESS => success_text(visuals),
        WARNING => warning_text(visuals),
        ERROR | DESTRUCTIVE => error_text(visuals),
        other => other,
    }
}

/// The focus ring: black on a light background, near white on a
/// dark one, so it stands out (3:1) from the panel and from every button
/// fill, the accent and the red included — never teal on teal.
pub(super) fn focus_ring(dark: bool) -> Color32 {
    if dark {
        Color32::from_gray(0xf0)
    } else {
        // Black: the red button is too dark for a grey ring to reach 3:1.
        Color32::BLACK
    }
}

/// Width of the outline around the focused control.
pub(super) const FOCUS_RING_WIDTH: f32 = 2.5;

/// Size of step titles ("1  Select image").
pub(super) const STEP_TITLE_SIZE: f32 = 22.0;
/// Size of screen titles ("Flashing", "Flash complete").
pub(super) const SCREEN_TITLE_SIZE: f32 = 28.0;

pub(super) fn apply(ctx: &egui::Context) {
    ctx.set_theme(ThemePreference::System);
    ctx.all_styles_mut(|style| {
        style.text_styles = [
            (
                TextStyle::Small,
                FontId::new(12.0, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(15.0, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(15.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Heading,
                FontId::new(SCREEN_TITLE_SIZE, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(13.0, FontFamily::Monospace),
            ),
        ]
        .into();
        style.spacing.item_spacing = Vec2::new(10.0, 8.0);
        style.spacing.button_padding = Vec2::new(14.0, 7.0);
        style.spacing.interact_size.y = 30.0;
        let dark = style.visuals.dark_mode;
        // Selected text and the focused text field's outline: a light teal
        // under dark text on a light theme, the accent under light text on
        // a dark one; the outline is the focus ring.
        style.visuals.selection.bg_fill = if dark {
            ACCENT
        } else {
            Color32::from_rgb(0xb2, 0xdf, 0xdb)
        };
        style.visuals.selection.stroke = egui::Stroke::new(2.0, focus_ring(dark));
        style.visuals.hyperlink_color = accent_text(&style.visuals);
        // Secondary text and unticked boxes were 2.6:1 and 1.2:1 against
        // their background: opaque greys that reach 4.5:1 and 3:1.
        style.visuals.weak_text_color = Some(if dark {
            Color32::from_gray(0x88)
        } else {
            Color32::from_gray(0x5f)
        });
        style.visuals.widgets.inactive.bg_stroke =
            egui::Stroke::new(1.0, Color32::from_gray(if dark { 0x8a } else { 0x76 }));
        // egui draws the focused widget with the "active" look: a 2.5 px
        // outline in the ring colour is the focus ring, visible at a glance
        // on the panel and on a teal or red button alike (egui's own is
        // 1 px in a grey close to the background).
        style.visuals.widgets.active.bg_stroke =
            egui::Stroke::new(FOCUS_RING_WIDTH, focus_ring(dark));
    });
}

/// The WCAG 2 contrast ratio of two colours (1 to 21): text needs 4.5,
/// controls and large text 3.
#[cfg(test)]
pub(crate) fn contrast(a: Color32, b: Color32) -> f32 {
    fn luminance(c: Color32) -> f32 {
        let channel = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
    }
    // A translucent colour (egui's weak text) is seen blended over the
    // background: Color32 is premultiplied, so that is a + b × (1 − alpha).
    let over = |fg: Color32, bg: Color32| {
        let rest = 1.0 - f32::from(fg.a()) / 255.0;
        let mix = |f: u8, b: u8| (f32::from(f) + f32::from(b) * rest).round().min(255.0) as u8;
        Color32::from_rgb(
            mix(fg.r(), bg.r()),
            mix(fg.g(), bg.g()),
            mix(fg.b(), bg.b()),
        )
    };
    let a = over(a, b);
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The window icon (the 256 px rendering of assets/icons/imprint.svg).
pub(super) fn window_icon() -> egui::IconData {
    // The PNG is compiled in, so decoding fails only if the asset is broken;
    // a window without an icon is then better than no window.
    eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/imprint-256.png"))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "theme_tests.rs"]
mod tests;

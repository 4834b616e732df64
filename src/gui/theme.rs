//! The look: the system's light or dark theme, a teal accent (the icon's),
//! roomier spacing and larger text than egui's defaults, which are tuned
//! for dense tool panels rather than a three-step app.

use egui::{Color32, FontFamily, FontId, TextStyle, ThemePreference, Vec2};

/// The accent: primary buttons, progress bars, selected drives.
pub(super) const ACCENT: Color32 = Color32::from_rgb(0x1a, 0x94, 0x86);
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
        style.visuals.selection.bg_fill = ACCENT;
        style.visuals.selection.stroke.color = ON_ACCENT;
        style.visuals.hyperlink_color = ACCENT;
        // Secondary text and unticked boxes were 2.6:1 and 1.2:1 against
        // their background: opaque greys that reach 4.5:1 and 3:1.
        let dark = style.visuals.dark_mode;
        style.visuals.weak_text_color = Some(if dark {
            Color32::from_gray(0x88)
        } else {
            Color32::from_gray(0x5f)
        });
        style.visuals.widgets.inactive.bg_stroke =
            egui::Stroke::new(1.0, Color32::from_gray(if dark { 0x8a } else { 0x76 }));
        // egui draws the focused widget with the "active" look: a 2.5 px
        // accent outline is the focus ring, visible at a glance (egui's
        // own is 1 px in a grey close to the background).
        style.visuals.widgets.active.bg_stroke = egui::Stroke::new(FOCUS_RING_WIDTH, ACCENT);
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
mod tests {
    use super::*;

    #[test]
    fn contrast_follows_wcag() {
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 0.001);
        // #767676 on white is the classic 4.5:1 boundary.
        let grey = Color32::from_gray(0x76);
        assert!((contrast(grey, Color32::WHITE) - 4.54).abs() < 0.01);
    }

    #[test]
    fn text_and_controls_stand_out_in_both_themes() {
        let ctx = egui::Context::default();
        apply(&ctx);
        for theme in [egui::Theme::Light, egui::Theme::Dark] {
            let style = ctx.style_of(theme);
            let v = &style.visuals;
            // Screens, dialogs and fields.
            for bg in [v.panel_fill, v.window_fill, v.extreme_bg_color] {
                let pairs = [
                    ("text", v.text_color(), 4.5),
                    ("secondary text", v.weak_text_color(), 4.5),
                    ("error text", error_text(v), 4.5),
                    (
                        "an unticked box's outline",
                        v.widgets.inactive.bg_stroke.color,
                        3.0,
                    ),
                    ("the focus ring", v.widgets.active.bg_stroke.color, 3.0),
                ];
                for (what, color, needed) in pairs {
                    let ratio = contrast(color, bg);
                    eprintln!("{theme:?} {what} on {bg:?}: {ratio:.2}");
                    assert!(
                        ratio >= needed,
                        "{theme:?}: {what} is {ratio:.2}:1 on {bg:?}"
                    );
                }
            }
            assert!(
                v.widgets.active.bg_stroke.width >= 2.0,
                "a visible focus ring"
            );
            assert!(
                v.widgets.inactive.bg_stroke.width >= 1.0,
                "boxes are outlined"
            );
        }
    }

    #[test]
    fn destructive_buttons_are_red_and_readable() {
        assert_ne!(DESTRUCTIVE, ACCENT);
        assert!(DESTRUCTIVE.r() > 2 * DESTRUCTIVE.g(), "reads as red");
        assert!(contrast(ON_ACCENT, DESTRUCTIVE) >= 4.5);
    }
}

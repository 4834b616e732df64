//! The theme's colours against WCAG 2: every foreground/background pair
//! the app draws, in both themes (issue 17, item 2).
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
fn destructive_buttons_are_red_and_readable() {
    assert_ne!(DESTRUCTIVE, ACCENT);
    assert!(DESTRUCTIVE.r() > 2 * DESTRUCTIVE.g(), "reads as red");
    assert!(contrast(ON_ACCENT, DESTRUCTIVE) >= 4.5);
}

/// The styles `apply` sets, light then dark.
fn styles() -> Vec<(egui::Theme, std::sync::Arc<egui::Style>)> {
    let ctx = egui::Context::default();
    apply(&ctx);
    [egui::Theme::Light, egui::Theme::Dark]
        .into_iter()
        .map(|theme| (theme, ctx.style_of(theme)))
        .collect()
}

/// `fg` (premultiplied, maybe translucent) seen over the opaque `bg`.
fn blend(fg: Color32, bg: Color32) -> Color32 {
    let rest = 1.0 - f32::from(fg.a()) / 255.0;
    let mix = |f: u8, b: u8| (f32::from(f) + f32::from(b) * rest).round().min(255.0) as u8;
    Color32::from_rgb(
        mix(fg.r(), bg.r()),
        mix(fg.g(), bg.g()),
        mix(fg.b(), bg.b()),
    )
}

fn check(theme: egui::Theme, what: &str, fg: Color32, bg: Color32, needed: f32) {
    let ratio = contrast(fg, bg);
    eprintln!("{theme:?} {what} on {bg:?}: {ratio:.2}");
    assert!(
        ratio >= needed,
        "{theme:?}: {what} is {ratio:.2}:1 on {bg:?}, needs {needed}"
    );
}

#[test]
fn text_and_controls_stand_out_in_both_themes() {
    for (theme, style) in styles() {
        let v = &style.visuals;
        // Screens, dialogs, fields, and cards (the faint fill is
        // translucent: seen over the panel).
        let card = blend(v.faint_bg_color, v.panel_fill);
        for bg in [v.panel_fill, v.window_fill, v.extreme_bg_color, card] {
            let pairs = [
                ("text", v.text_color(), 4.5),
                ("secondary text", v.weak_text_color(), 4.5),
                ("error text", error_text(v), 4.5),
                ("accent text", accent_text(v), 4.5),
                ("success text", success_text(v), 4.5),
                ("warning text", warning_text(v), 4.5),
                ("a link", v.hyperlink_color, 4.5),
                (
                    "an unticked box's outline",
                    v.widgets.inactive.bg_stroke.color,
                    3.0,
                ),
                ("the focus ring", v.widgets.active.bg_stroke.color, 3.0),
                ("a focused field's outline", v.selection.stroke.color, 3.0),
            ];
            for (what, color, needed) in pairs {
                check(theme, what, color, bg, needed);
            }
        }
        for mark in [ACCENT, SUCCESS, WARNING, ERROR] {
            check(
                theme,
                "a mark as text",
                text_color(v, mark),
                v.panel_fill,
                4.5,
            );
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
fn buttons_read_and_their_focus_ring_shows() {
    for (theme, style) in styles() {
        let v = &style.visuals;
        // Text on the filled buttons, and on egui's own buttons at rest
        // and under the pointer.
        check(theme, "white on the accent", ON_ACCENT, ACCENT, 4.5);
        check(theme, "white on red", ON_ACCENT, DESTRUCTIVE, 4.5);
        for fill in [
            v.widgets.inactive.weak_bg_fill,
            v.widgets.hovered.weak_bg_fill,
        ] {
            check(
                theme,
                "a button's text",
                v.widgets.inactive.text_color(),
                fill,
                4.5,
            );
        }
        // The ring is drawn on the button's edge: it must stand out from
        // the fill inside as well as from the panel outside.
        let ring = v.widgets.active.bg_stroke.color;
        for fill in [
            ACCENT,
            DESTRUCTIVE,
            v.widgets.inactive.weak_bg_fill,
            v.widgets.active.weak_bg_fill,
            v.widgets.inactive.bg_fill,
        ] {
            check(theme, "the focus ring against the button", ring, fill, 3.0);
        }
    }
}

//! The light theme's coloured words (issue 17, item 2): titles, states and
//! verdicts drawn in the shade that reads on a light background, never the
//! mark colours (borders, bars) whose green and orange are 3:1 or less.

use egui::epaint::Shape;
use egui::{Color32, Theme};
use imprint::drives::Bus;

use super::kittest_flows::{
    App, app_with, click, drive, drop_image, fixture, flash_and_confirm, in_process, shows,
    wait_until,
};

/// The mark colours of `gui/theme.rs`: right for borders and bars, too
/// light for words on the light theme.
const MARKS: [Color32; 4] = [
    Color32::from_rgb(0x00, 0x79, 0x6b),
    Color32::from_rgb(0x2e, 0xa0, 0x4f),
    Color32::from_rgb(0xd9, 0x8a, 0x0b),
    Color32::from_rgb(0xd6, 0x3b, 0x3b),
];

/// The WCAG 2 contrast ratio of two opaque colours.
fn contrast(a: Color32, b: Color32) -> f32 {
    let luminance = |c: Color32| {
        let channel = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Every piece of text the last frame painted, with its colour.
fn painted_text(h: &App) -> Vec<(String, Color32)> {
    fn walk(shape: &Shape, out: &mut Vec<(String, Color32)>) {
        match shape {
            Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, out)),
            Shape::Text(text) => {
                for section in &text.galley.job.sections {
                    let (start, end) = (section.byte_range.start.0, section.byte_range.end.0);
                    let words = text.galley.job.text[start..end].to_string();
                    let color = text.override_text_color.unwrap_or(section.format.color);
                    out.push((words, color));
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &h.output().shapes {
        walk(&clipped.shape, &mut out);
    }
    out
}

/// The app in the light theme, as on a desktop that prefers it.
fn light_app(drives: Vec<imprint::drives::Drive>) -> App {
    let (mut h, _tx) = app_with(drives, in_process());
    h.ctx.set_theme(Theme::Light);
    h.run_steps(2);
    h
}

/// `words` painted, in a colour that reads (4.5:1) on the light panel;
/// and no text anywhere in a raw mark colour.
fn assert_readable(h: &App, words: &str) {
    let panel = h.ctx.style_of(Theme::Light).visuals.panel_fill;
    let painted = painted_text(h);
    let (_, color) = painted
        .iter()
        .find(|(text, _)| text == words)
        .unwrap_or_else(|| panic!("{words:?} is not painted: {painted:?}"));
    let ratio = contrast(*color, panel);
    assert!(ratio >= 4.5, "{words:?} is {ratio:.2}:1 ({color:?})");
    for (text, color) in &painted {
        assert!(
            !MARKS.contains(color),
            "{text:?} in a mark colour {color:?}"
        );
    }
}

#[test]
fn the_result_title_reads_on_the_light_theme() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("card.img");
    std::fs::write(&target, b"").unwrap();
    let mut h = light_app(vec![drive(&target, 64 << 20, "Card A", Bus::Usb)]);
    assert!(!(h.ctx.theme() == Theme::Dark), "the light theme");
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card A");
    flash_and_confirm(&mut h, &["Test Card A"]);
    wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
    assert_readable(&h, "Flash complete");
}

#[test]
fn the_station_title_reads_on_the_light_theme() {
    let mut h = light_app(Vec::new());
    drop_image(&mut h, &fixture());
    click(&mut h, "Station mode");
    assert!(shows(&h, "Start station"));
    assert_readable(&h, "Station");
}

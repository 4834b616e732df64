//! Layout (issue 17, items 7 and 8): the action bar with Flash! stays on
//! screen at 800×480 with a title bar, and drives coming and going move
//! nothing below the list.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use imprint::drives::Bus;

use super::kittest_flows::{App, app_with, click, drive, drop_image, fixture, in_process};

fn button_rect(h: &App, label: &str) -> egui::Rect {
    h.get_by_role_and_label(Role::Button, label).rect()
}

#[test]
fn drives_coming_and_going_move_nothing_below_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let a = drive(&dir.path().join("a.img"), 8_000_000_000, "Card A", Bus::Usb);
    let b = drive(&dir.path().join("b.img"), 8_000_000_000, "Card B", Bus::Usb);
    let (mut h, drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &fixture());
    let below = "Write to an image file…";
    let before = button_rect(&h, below);
    for list in [
        vec![a.clone()],
        vec![a.clone(), b.clone()],
        vec![b],
        Vec::new(),
    ] {
        let count = list.len();
        drives.send(Ok(list)).unwrap();
        h.run_steps(4);
        let now = button_rect(&h, below);
        assert_eq!(
            now,
            before,
            "with {count} drives the button below the list moved by {}",
            now.top() - before.top()
        );
    }
}

#[test]
fn flash_stays_on_screen_at_800_by_480() {
    let dir = tempfile::tempdir().unwrap();
    let drives = (0..4)
        .map(|i| {
            let path = dir.path().join(format!("card{i}.img"));
            drive(&path, 8_000_000_000, &format!("Card {i}"), Bus::Usb)
        })
        .collect();
    let (mut h, _drives) = app_with(drives, in_process());
    // The official Raspberry Pi touchscreen, less a title bar.
    let (width, height) = (800.0, 480.0 - 37.0);
    h.set_size(egui::vec2(width, height));
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card 0");
    click(&mut h, "balenaOS configuration (optional)");
    h.run_steps(2);
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(width, height));
    let flash = button_rect(&h, "Flash!");
    assert!(
        screen.contains_rect(flash),
        "Flash! at {flash:?} is outside the {width}×{height} window"
    );
    // The steps scroll under the bar, never over it: the last control
    // of the screen is reached by scrolling, and then sits above Flash!.
    let last = h.get_by_label("WiFi network");
    last.scroll_to_me();
    h.run_steps(6);
    let field = h.get_by_label("WiFi network").rect();
    assert!(
        screen.contains_rect(field),
        "the field at {field:?} was scrolled into view"
    );
    assert!(
        field.bottom() <= button_rect(&h, "Flash!").top(),
        "the field at {field:?} is under the action bar"
    );
    // The text beside Flash! is one line inside the bar, not cut off.
    let flash = button_rect(&h, "Flash!");
    assert!(screen.contains_rect(flash));
    assert!(flash.width() >= 150.0, "Flash! keeps its size");
}

#[test]
fn customise_reaches_the_configuration_and_wide_windows_use_two_columns() {
    let dir = tempfile::tempdir().unwrap();
    let card = drive(&dir.path().join("a.img"), 8_000_000_000, "Card A", Bus::Usb);
    let (mut h, _drives) = app_with(vec![card], in_process());
    h.set_size(egui::vec2(1280.0, 800.0));
    drop_image(&mut h, &fixture());
    // Step 3 beside steps 1 and 2, not under them.
    let drives = h.get_by_label("Select drives").rect();
    let flash = h.get_by_label("Flash").rect();
    assert!(
        flash.left() > drives.right() && flash.top() < drives.top(),
        "the flash step at {flash:?} is not beside the drives at {drives:?}"
    );
    // From step 1, one click to the WiFi fields.
    assert!(
        h.query_by_label("WiFi network").is_none(),
        "folded at first"
    );
    click(&mut h, "Customise…");
    h.run_steps(2);
    assert!(h.query_by_label("WiFi network").is_some());
}

//! The keyboard (issue 17, item 3): one Tab stop per drive row, rows in
//! reading order, and Flash! a handful of Tabs after the ticked drive — not
//! behind every other control of the screen.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use imprint::drives::Bus;

use super::kittest_flows::{App, app_with, click, drive, drop_image, fixture, in_process};

fn focused(h: &App, role: Role, label: &str) -> bool {
    h.get_by_role_and_label(role, label).is_focused()
}

fn tab(h: &mut App) {
    h.key_press(egui::Key::Tab);
    h.run_steps(3);
}

#[test]
fn one_tab_per_drive_row_and_flash_in_five() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, _drives) = app_with(
        vec![
            drive(&dir.path().join("a.img"), 8_000_000_000, "Card A", Bus::Usb),
            drive(&dir.path().join("b.img"), 8_000_000_000, "Card B", Bus::Usb),
        ],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card B");
    h.get_by_role_and_label(Role::CheckBox, "Test Card A")
        .focus();
    h.run_steps(3);
    assert!(focused(&h, Role::CheckBox, "Test Card A"));
    // The next row, not the first row's click area again.
    tab(&mut h);
    assert!(
        focused(&h, Role::CheckBox, "Test Card B"),
        "one Tab goes from a row to the next"
    );
    let mut tabs = 0;
    while !focused(&h, Role::Button, "Flash!") {
        tabs += 1;
        assert!(
            tabs <= 5,
            "Flash! is more than 5 Tabs after the ticked drive"
        );
        tab(&mut h);
    }
    // Enter on Flash! asks first, with the focus on the dialog's action.
    h.key_press(egui::Key::Enter);
    h.run_steps(4);
    assert!(focused(&h, Role::Button, "Erase and flash"));
}

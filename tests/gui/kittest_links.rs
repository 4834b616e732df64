//! Paths and links (issue 17, items 10 and 16): a link whose server never
//! answers is cancelled at once, a failed link stays in its field, one
//! name for the action, and Escape closes the path field.

use std::time::{Duration, Instant};

use egui::Key;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

use super::kittest_flows::{App, app_with, click, in_process, shows, type_into, wait_until};
use crate::support::http_server::{HttpServer, Knobs};
use crate::support::pseudo_random_bytes;

fn submit_link(h: &mut App, url: &str) {
    click(h, "Flash from URL…");
    type_into(h, "Link to the image", url);
    h.get_by_role_and_label(Role::Button, "Open").click();
    h.run_steps(2);
}

/// The link field's text, when the field is open.
fn link_field(h: &App) -> Option<String> {
    h.query_by_label("Link to the image")
        .filter(|_| h.query_all_by_role(Role::TextInput).next().is_some())
        .and(h.query_all_by_role(Role::TextInput).next())
        .map(|field| field.value().unwrap_or_default())
}

#[test]
fn a_link_that_never_answers_is_cancelled_at_once_and_stays_in_its_field() {
    // The server sends its headers, then nothing for two minutes.
    let server = HttpServer::start(Knobs {
        stall_at: Some((0, Duration::from_secs(120))),
        ..Knobs::serving(pseudo_random_bytes(1 << 20, 3))
    });
    let url = server.url("image");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    submit_link(&mut h, &url);
    wait_until(&mut h, "opening", |h| shows(h, "Opening"));
    assert!(link_field(&h).is_none(), "the field closed while opening");
    let asked = Instant::now();
    h.get_by_role_and_label(Role::Button, "Cancel").click();
    h.run_steps(2);
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    assert!(!shows(&h, "Opening"), "no longer waiting");
    assert_eq!(
        link_field(&h).as_deref(),
        Some(url.as_str()),
        "the link kept"
    );
    // The same name for the action on the empty card.
    assert!(shows(&h, "Flash from URL…"));
}

#[test]
fn a_failed_link_stays_in_its_field_with_a_headline_and_details() {
    let server = HttpServer::start(Knobs {
        content_type: "text/html",
        ..Knobs::serving(b"<!DOCTYPE html><html><body>Download page</body></html>".to_vec())
    });
    let url = server.url("image");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    submit_link(&mut h, &url);
    wait_until(&mut h, "the failure", |h| shows(h, "not a disk image"));
    assert_eq!(
        link_field(&h).as_deref(),
        Some(url.as_str()),
        "the link kept"
    );
    assert!(shows(&h, "Details"), "the headline has its details");
    // The card's link to try another is the same action's name.
    assert!(shows(&h, "Flash from URL…"));
    assert!(!shows(&h, "Link…"));
}

#[test]
fn escape_closes_the_path_field() {
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    h.get_all_by_label("Type a path…").next().unwrap().click();
    h.run_steps(2);
    assert!(shows(&h, "Path of"), "the field is open");
    h.get_by_role(Role::TextInput).focus();
    h.step();
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(!shows(&h, "Path of"), "Escape closed it");
    click(&mut h, "Flash from URL…");
    h.get_by_role(Role::TextInput).focus();
    h.step();
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(link_field(&h).is_none(), "Escape closed the link field");
}

//! "Flash from URL…": a link typed into the app, served by the test server
//! on 127.0.0.1, shown on the image card and flashed to a file target — in
//! this process, and through the privileged helper (which gets the
//! download on its standard input); a download that fails is never shown as
//! a good card.

use std::path::PathBuf;

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use imprint::drives::Bus;
use imprint::gui::{HelperMode, HelperOptions};

use super::kittest_flows::{
    App, app_with, click, drive, fixture, fixture_bytes, flash_and_confirm, in_process, shows,
    type_into, wait_until,
};
use crate::support::http_server::{HttpServer, Knobs};
use crate::support::{self, pseudo_random_bytes};

/// Opens `url` through "Flash from URL…" and waits for the image card.
fn open_url(h: &mut App, url: &str) {
    click(h, "Flash from URL…");
    type_into(h, "Link to the image", url);
    h.get_by_role_and_label(Role::Button, "Open").click();
    h.run_steps(2);
    wait_until(h, "the image card", |h| {
        shows(h, "From the web") || shows(h, "not a disk image") || shows(h, "cannot download")
    });
}

pub(super) fn helper_through_env() -> HelperOptions {
    // `env` stands in for pkexec: a prefix that runs the helper unchanged.
    HelperOptions {
        mode: HelperMode::Always,
        elevate: vec!["env".into()],
        exe: PathBuf::from(env!("CARGO_BIN_EXE_imprint")),
    }
}

fn wait_for_result(h: &mut App) {
    wait_until(h, "the result", |h| {
        shows(h, "Flash complete")
            || shows(h, "Flash failed")
            || shows(h, "Flash cancelled")
            || shows(h, "Nothing was written")
    });
}

#[test]
fn a_url_is_checked_shown_and_flashed_in_process_and_through_the_helper() {
    let dir = tempfile::tempdir().unwrap();
    let image = fixture_bytes();
    let server = HttpServer::start(Knobs::serving(std::fs::read(fixture()).unwrap()));
    for (name, helper) in [
        ("in-process", in_process()),
        ("helper", helper_through_env()),
    ] {
        let target = dir.path().join(format!("{name}.img"));
        std::fs::write(&target, vec![0u8; image.len()]).unwrap();
        let (mut h, _drives) = app_with(
            vec![drive(&target, image.len() as u64, "Card A", Bus::Usb)],
            helper,
        );
        open_url(&mut h, &server.url("image"));
        // Reachable, its size and its format, like a file's card.
        assert!(shows(&h, "1.3 kB download"), "{name}: download size");
        assert!(
            shows(&h, "5.2 MB decompressed"),
            "{name}: size from the xz index"
        );
        click(&mut h, "Test Card A");
        flash_and_confirm(&mut h, &["Test Card A"]);
        wait_for_result(&mut h);
        assert!(shows(&h, "Flash complete"), "{name}");
        assert!(shows(&h, &support::sha256_hex(&image)), "{name}");
        assert_eq!(std::fs::read(&target).unwrap(), image, "{name}");
        h.check_accessibility();
    }
}

#[test]
fn a_download_that_fails_through_the_helper_is_a_failed_flash() {
    let dir = tempfile::tempdir().unwrap();
    // Raw: a stream cut short would otherwise look like a shorter image.
    let body = pseudo_random_bytes(3 << 20, 11);
    let server = HttpServer::start(Knobs {
        ranges: false,
        drop_at: Some((1 << 20, 2)),
        ..Knobs::serving(body.clone())
    });
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; body.len()]).unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, body.len() as u64, "Card A", Bus::Usb)],
        helper_through_env(),
    );
    open_url(&mut h, &server.url("image"));
    click(&mut h, "Test Card A");
    flash_and_confirm(&mut h, &["Test Card A"]);
    wait_for_result(&mut h);
    assert!(!shows(&h, "Flash complete"));
    assert!(
        shows(&h, "does not support resuming"),
        "the reason is shown"
    );
}

#[test]
fn a_link_that_is_not_an_image_says_so_on_the_card() {
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    click(&mut h, "Flash from URL…");
    type_into(&mut h, "Link to the image", "not a link");
    h.get_by_role_and_label(Role::Button, "Open").click();
    h.run_steps(2);
    assert!(shows(&h, "starts with http://"));

    let page = b"<!DOCTYPE html><html><body>Download page</body></html>".to_vec();
    let server = HttpServer::start(Knobs {
        content_type: "text/html",
        ..Knobs::serving(page)
    });
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    open_url(&mut h, &server.url("image"));
    assert!(shows(&h, "not a disk image"), "the card says why");
}

#[test]
fn cancel_ends_a_run_waiting_for_a_stalled_download() {
    let dir = tempfile::tempdir().unwrap();
    let body = pseudo_random_bytes(3 << 20, 12);
    // Stalls far longer than the test waits: only Cancel can end the wait.
    let server = HttpServer::start(Knobs {
        stall_at: Some((2 << 20, std::time::Duration::from_secs(120))),
        ..Knobs::serving(body.clone())
    });
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; body.len()]).unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, body.len() as u64, "Card A", Bus::Usb)],
        in_process(),
    );
    open_url(&mut h, &server.url("image"));
    click(&mut h, "Test Card A");
    flash_and_confirm(&mut h, &["Test Card A"]);
    wait_until(&mut h, "the progress screen", |h| shows(h, "Downloaded"));
    h.get_by_role_and_label(Role::Button, "Cancel").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Stop flashing")
        .click_accesskit();
    let asked = std::time::Instant::now();
    wait_for_result(&mut h);
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(5),
        "Cancel took {:?}",
        asked.elapsed()
    );
    assert!(shows(&h, "Flash cancelled"));
}

//! Download progress tells the truth (issue 17, item 11): during a stall
//! the row says how long it has waited for the server instead of the last
//! rate.

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use imprint::drives::Bus;

use super::kittest_flows::{
    App, app_with, click, drive, flash_and_confirm, in_process, shows, type_into, wait_until,
};
use crate::support::http_server::{HttpServer, Knobs};
use crate::support::pseudo_random_bytes;

fn open_url(h: &mut App, url: &str) {
    click(h, "Flash from URL…");
    type_into(h, "Link to the image", url);
    h.get_by_role_and_label(Role::Button, "Open").click();
    h.run_steps(2);
    wait_until(h, "the image card", |h| shows(h, "From the web"));
}

/// The download row's second line.
fn download_line(h: &App) -> String {
    let node = h.get_by_label_contains("Downloaded");
    let node = node.accesskit_node();
    node.value().or(node.label()).unwrap_or_default()
}

#[test]
fn a_stalled_download_waits_for_the_server_without_a_stale_rate() {
    let dir = tempfile::tempdir().unwrap();
    let body = pseudo_random_bytes(3 << 20, 7);
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
    wait_until(&mut h, "the stall", |h| {
        shows(h, "Waiting for the server (")
    });
    let line = download_line(&h);
    assert!(line.contains("of 3.1 MB"), "{line}");
    assert!(!line.contains("/s"), "no stale rate while stalled: {line}");
    // The seconds count on without new data.
    let first = line.clone();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    h.run_steps(2);
    assert_ne!(download_line(&h), first, "the wait is counted");
    h.get_by_role_and_label(Role::Button, "Cancel").click();
    h.run_steps(2);
    // Cancel asks first (issue 17, item 16).
    h.get_by_role_and_label(Role::Button, "Stop flashing")
        .click_accesskit();
    wait_until(&mut h, "the result", |h| shows(h, "Flash cancelled"));
}

/// The downloaded file's SHA-256 (issue 17, item 11) is what publishers
/// list: of the compressed file as served, not of the image inside, in
/// process and through the helper (which the app feeds itself).
#[test]
fn the_result_shows_the_downloaded_files_own_sha256() {
    use super::kittest_flows::{fixture, fixture_bytes};
    let dir = tempfile::tempdir().unwrap();
    let served = std::fs::read(fixture()).unwrap();
    let image = fixture_bytes();
    // sha256sum(1) is the oracle, of the .xz file itself.
    let out = std::process::Command::new("sha256sum")
        .arg(fixture())
        .output()
        .unwrap();
    let published = String::from_utf8(out.stdout).unwrap()[..64].to_string();
    let server = HttpServer::start(Knobs::serving(served));
    for (name, helper) in [
        ("in-process", in_process()),
        ("helper", super::kittest_url::helper_through_env()),
    ] {
        let target = dir.path().join(format!("{name}.img"));
        std::fs::write(&target, vec![0u8; image.len()]).unwrap();
        let (mut h, _drives) = app_with(
            vec![drive(&target, image.len() as u64, "Card A", Bus::Usb)],
            helper,
        );
        open_url(&mut h, &server.url("image.img.xz"));
        click(&mut h, "Test Card A");
        flash_and_confirm(&mut h, &["Test Card A"]);
        wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
        assert!(shows(&h, "Flash complete"), "{name}");
        assert!(shows(&h, "as downloaded"), "{name}: the file's row");
        assert!(shows(&h, &published), "{name}: the .xz file's own hash");
    }
}

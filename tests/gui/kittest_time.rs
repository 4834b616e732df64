//! Time and speed (issue 12): the overall bar and the progress in the
//! window title while flashing, each drive's time and speed on the result
//! screen, and a desktop notification when a run ends unseen.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use imprint::drives::Bus;
use imprint::gui::{ImprintApp, Notification, Notifier};

use super::kittest_flows::{
    App, click, drive, drop_image, fixture, flash_and_confirm, in_process, options_with, shows,
};

/// The app, with its notifications arriving on the returned channel.
fn app_notifying(target: &Path, size: u64) -> (App, Receiver<Notification>) {
    let (mut options, drives) =
        options_with(vec![drive(target, size, "Card", Bus::Usb)], in_process());
    // The drive list's sender must outlive the harness: keep it in the
    // options' closure.
    let (tx, rx) = crossbeam_channel::unbounded();
    options.notifier = Notifier::Channel(tx);
    let h = Harness::builder()
        .with_size([960.0, 800.0])
        .build_eframe(move |cc| {
            let _keep = &drives;
            ImprintApp::new(cc, options)
        });
    (h, rx)
}

/// The window titles the app set, in order, while stepping until `done`.
fn step_until(h: &mut App, titles: &mut Vec<String>, what: &str, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        h.step();
        let commands = h
            .output()
            .viewport_output
            .get(&egui::ViewportId::ROOT)
            .map(|v| v.commands.clone())
            .unwrap_or_default();
        for command in commands {
            if let egui::ViewportCommand::Title(title) = command {
                titles.push(title);
            }
        }
        if done(h) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A raw image large enough to be caught mid-flash.
fn large_image(dir: &Path) -> PathBuf {
    let path = dir.join("large.img");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    path
}

#[test]
fn the_title_shows_the_progress_and_an_unseen_end_is_notified() {
    let dir = tempfile::tempdir().unwrap();
    let image = large_image(dir.path());
    let target = dir.path().join("card.img");
    let (mut h, notifications) = app_notifying(&target, 2 << 30);
    drop_image(&mut h, &image);
    click(&mut h, "Test Card");
    flash_and_confirm(&mut h, &["Test Card"]);
    let mut titles = Vec::new();
    let percent = |t: &String| t.ends_with(" % — Imprint");
    step_until(&mut h, &mut titles, "the overall bar", |h| {
        shows(h, "Overall ")
    });
    // The bar above the rows counts verification in.
    assert!(shows(&h, "Overall "), "the overall bar");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !titles.iter().any(percent) {
        assert!(Instant::now() < deadline, "no percentage in {titles:?}");
        step_until(&mut h, &mut titles, "a frame", |_| true);
    }
    // The user went to another window; the run ends there.
    h.input_mut().focused = false;
    click(&mut h, "Cancel");
    click(&mut h, "Stop flashing");
    step_until(&mut h, &mut titles, "the result", |h| {
        shows(h, "Flash another")
    });
    assert_eq!(
        titles.last().map(String::as_str),
        Some("Flash cancelled — Imprint")
    );
    let sent: Vec<Notification> = notifications.try_iter().collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].summary, "Flash cancelled");
    assert!(sent[0].body.contains("large.img"), "{}", sent[0].body);
    // Back to selection: the plain name again.
    h.input_mut().focused = true;
    // Not `click`: its frames' titles would be missed here.
    h.get_by_label("Flash another").click();
    step_until(&mut h, &mut titles, "the selection", |h| shows(h, "Flash!"));
    assert_eq!(titles.last().map(String::as_str), Some("Imprint"));
}

#[test]
fn the_result_says_how_long_each_drive_took_and_how_fast() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("card.img");
    let (mut h, notifications) = app_notifying(&target, 8 << 20);
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card");
    flash_and_confirm(&mut h, &["Test Card"]);
    let mut titles = Vec::new();
    step_until(&mut h, &mut titles, "the result", |h| {
        shows(h, "Flash another")
    });
    assert!(shows(&h, "Flash complete"));
    assert_eq!(
        titles.last().map(String::as_str),
        Some("Flash complete — Imprint")
    );
    // "Took 0.2 s · wrote 5.2 MB at 80 MB/s on average".
    // "Took 0.3 s · wrote 2.2 MB at 9.9 MB/s on average": the bytes the
    // image uses (free space is not written).
    let line = h
        .query_all_by_label_contains("Took ")
        .next()
        .expect("the elapsed time")
        .accesskit_node()
        .value()
        .unwrap_or_default();
    let wrote = line.split(" · wrote ").nth(1).expect("the bytes written");
    assert!(
        wrote.contains("B at ") && wrote.ends_with("/s on average"),
        "{line}"
    );
    // The window had the focus: no notification.
    assert_eq!(notifications.try_iter().count(), 0);
}

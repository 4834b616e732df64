//! Remembered choices (issue 12): the last image folder, "Show all
//! drives", the WiFi network name (never its password), the run options
//! and learned image sizes, kept in a config directory given to the app
//! (IMPRINT_CONFIG_DIR in the installed app), read by the next session.

use std::path::{Path, PathBuf};

use egui::accesskit::{Role, Toggled};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use imprint::drives::{Bus, Drive};

use super::kittest_flows::{
    App, DroppedPath, click, drive, drop_image, flash_and_confirm, in_process, options_with, shows,
    type_into, wait_until,
};
use super::kittest_options::open_options;
use crate::support;

/// An app whose settings live in `config`.
fn app_in(config: &Path, drives: Vec<Drive>) -> App {
    let (mut options, sender) = options_with(drives, in_process());
    options.config_dir = Some(config.to_path_buf());
    Harness::builder()
        .with_size([960.0, 800.0])
        .build_eframe(move |cc| {
            // The drive list stays open for the app's life.
            let _keep = &sender;
            imprint::gui::ImprintApp::new(cc, options)
        })
}

fn checked(h: &App, label: &str) -> bool {
    h.get_by_label(label).accesskit_node().toggled() == Some(Toggled::True)
}

fn field_value(h: &App, label: &str) -> String {
    h.get_by_label(label)
        .accesskit_node()
        .value()
        .unwrap_or_default()
}

/// The fixture copied into a folder of its own.
fn image_in(dir: &Path, fixture: &str) -> PathBuf {
    let folder = dir.join("downloads");
    std::fs::create_dir_all(&folder).unwrap();
    let image = folder.join(fixture);
    std::fs::copy(support::fixture(fixture), &image).unwrap();
    image
}

#[test]
fn choices_are_remembered_and_the_wifi_password_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let image = image_in(dir.path(), "test.img.xz");
    {
        let mut h = app_in(&config, Vec::new());
        drop_image(&mut h, &image);
        click(&mut h, "Show all drives");
        click(&mut h, "balenaOS configuration (optional)");
        type_into(&mut h, "WiFi network", "HomeNet");
        type_into(&mut h, "WiFi password", "secret-passphrase");
        open_options(&mut h);
        click(&mut h, "Skip verification");
    }
    let saved = std::fs::read_to_string(config.join("settings.json")).unwrap();
    assert!(saved.contains("HomeNet"), "{saved}");
    assert!(
        !saved.contains("secret-passphrase"),
        "the password is never kept"
    );

    let mut h = app_in(&config, Vec::new());
    h.run();
    assert!(checked(&h, "Show all drives"));
    // Unfolded because it differs from the default.
    assert!(checked(&h, "Skip verification"));
    // No file dialog here: the typed path starts in the last folder, so
    // only the file name is left to type.
    click(&mut h, "Select image…");
    wait_until(&mut h, "the path field", |h| shows(h, "Path of the image"));
    let folder = std::fs::canonicalize(image.parent().unwrap()).unwrap();
    assert_eq!(
        field_value(&h, "Path of the image"),
        format!("{}/", folder.display())
    );
    type_into(&mut h, "Path of the image", "test.img.xz");
    h.get_by_role_and_label(Role::Button, "Open").click();
    wait_until(&mut h, "the image card", |h| {
        shows(h, "5.2 MB decompressed")
    });
    // The network name is offered with a configuration, never filled in
    // (issue 17, item 1), and its password is not kept.
    let config_json = dir.path().join("config.json");
    std::fs::write(&config_json, "{}").unwrap();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(config_json)));
    h.run_steps(3);
    assert_eq!(field_value(&h, "WiFi network"), "");
    click(&mut h, "Use HomeNet");
    assert_eq!(field_value(&h, "WiFi network"), "HomeNet");
    assert_eq!(field_value(&h, "WiFi password"), "");
}

#[test]
fn a_size_learned_by_flashing_blocks_a_too_small_drive_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    // bzip2 records no decompressed size (5.2 MB here).
    let image = image_in(dir.path(), "test.img.bz2");
    let card = dir.path().join("card.img");
    let tiny = dir.path().join("tiny.img");
    let drives = || {
        vec![
            drive(&card, 8 << 20, "Card", Bus::Usb),
            drive(&tiny, 1 << 20, "Tiny", Bus::Usb),
        ]
    };
    {
        let mut h = app_in(&config, drives());
        drop_image(&mut h, &image);
        assert!(shows(&h, "decompressed size known after flashing"));
        assert!(
            !shows(&h, "cannot be used"),
            "nothing says Tiny is too small yet"
        );
        click(&mut h, "Test Card");
        flash_and_confirm(&mut h, &["Test Card"]);
        wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
        assert!(shows(&h, "Flash complete"));
    }
    let mut h = app_in(&config, drives());
    drop_image(&mut h, &image);
    assert!(shows(
        &h,
        "5.2 MB decompressed (learned when it was last flashed)"
    ));
    assert!(shows(&h, "1 drive cannot be used"));
    click(&mut h, "1 drive cannot be used");
    assert!(shows(&h, "Too small: the image needs 5.2 MB"));

    // A new download under the same name is another file.
    std::fs::write(
        &image,
        std::fs::read(support::fixture("test-9.img.bz2")).unwrap(),
    )
    .unwrap();
    let mut h = app_in(&config, drives());
    drop_image(&mut h, &image);
    assert!(shows(&h, "decompressed size known after flashing"));
}

//! The app where a first-time user stumbles (issue 12): no file-chooser
//! service, long names in a small window, a damaged image, program
//! wording, elevation that cannot happen, and the checksums.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use imprint::drives::Bus;
use imprint::gui::{
    AppOptions, DriveFeed, FileChooser, HelperMode, HelperOptions, ImprintApp, Notifier,
};

use super::kittest_flows::{
    App, DroppedPath, app_with, click, drive, drop_image, fixture, flash_button_disabled,
    in_process, shows, type_into, wait_until,
};
use crate::support;

/// A long file name, as real downloads have.
const LONG_NAME: &str =
    "balena-cloud-myfleet-raspberrypi4-64-2024.10.3-v16.7.6-very-long-download-name.img.xz";

/// The fixture with one byte of its compressed data flipped at `offset`:
/// the first KiB still decompresses, the rest fails further on (xz
/// reports "Compressed data is corrupt").
fn corrupt_fixture(dir: &Path, offset: usize) -> PathBuf {
    let mut bytes = std::fs::read(fixture()).unwrap();
    bytes[offset] ^= 0xFF;
    let path = dir.join("damaged.img.xz");
    std::fs::write(&path, bytes).unwrap();
    path
}

fn drop_file(h: &mut App, path: &Path) {
    h.input_mut()
        .dropped_files
        .push(Arc::new(DroppedPath(path.to_path_buf())));
    h.run_steps(2);
}

fn copied_text(h: &App) -> Option<String> {
    h.output()
        .platform_output
        .commands
        .iter()
        .find_map(|c| match c {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
}

#[test]
fn without_a_file_chooser_the_app_says_so_and_takes_a_typed_path() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    h.run();
    click(&mut h, "Select image…");
    wait_until(&mut h, "the note", |h| shows(h, "No file dialog opened"));
    type_into(
        &mut h,
        "Path of the image",
        &fixture().display().to_string(),
    );
    h.get_by_role_and_label(Role::Button, "Open").click();
    wait_until(&mut h, "the image card", |h| {
        shows(h, "5.2 MB decompressed")
    });
    assert!(!shows(&h, "No file dialog opened"), "the field closed");

    // The same for a new image file to write to.
    let target = dir.path().join("out.img");
    click(&mut h, "Write to an image file…");
    wait_until(&mut h, "the note", |h| shows(h, "No file dialog opened"));
    type_into(
        &mut h,
        "Path of the image file to write",
        &dir.path()
            .join("no-such-folder/out.img")
            .display()
            .to_string(),
    );
    h.get_by_role_and_label(Role::Button, "Add").click();
    h.run_steps(2);
    assert!(shows(&h, "This folder does not exist."));
    assert!(h.state().selected_targets().is_empty());
    click(&mut h, "Cancel");
    click(&mut h, "Write to an image file…");
    type_into(
        &mut h,
        "Path of the image file to write",
        &target.display().to_string(),
    );
    h.get_by_role_and_label(Role::Button, "Add").click();
    h.run_steps(2);
    assert_eq!(h.state().selected_targets(), [target]);
    assert!(!flash_button_disabled(&h));
    h.check_accessibility();
}

#[test]
fn a_dropped_or_typed_config_json_becomes_the_configuration() {
    use crate::support::balena_image::FLEET_CONFIG;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, FLEET_CONFIG).unwrap();
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &fixture());
    drop_file(&mut h, &config);
    wait_until(&mut h, "the validation", |h| {
        shows(h, "Configuration valid") || shows(h, "config.json.")
    });
    assert!(shows(&h, "Configuration valid"));
    // The image is still the image.
    assert!(shows(&h, "test.img.xz"));
    assert!(shows(&h, "5.2 MB decompressed"));

    // Typed after "Choose config.json…" found no file chooser.
    click(&mut h, "Remove");
    assert!(!shows(&h, "Configuration valid"));
    click(&mut h, "Choose config.json…");
    wait_until(&mut h, "the note", |h| shows(h, "No file dialog opened"));
    type_into(
        &mut h,
        "Path of the config.json",
        &config.display().to_string(),
    );
    h.get_by_role_and_label(Role::Button, "Open").click();
    wait_until(&mut h, "the validation", |h| {
        shows(h, "Configuration valid") || shows(h, "config.json.")
    });
    assert!(shows(&h, "Configuration valid"));
}

/// Every node's right edge, and the controls a user must reach.
fn assert_inside(h: &App, width: f32, what: &str) {
    for node in h.root().children_recursive() {
        let Some(rect) = node.accesskit_node().bounding_box() else {
            continue;
        };
        let label = node.accesskit_node().label().unwrap_or_default();
        assert!(
            rect.x1 as f32 <= width + 0.5,
            "{what}: {label:?} ends at x = {} beyond the {width} px window",
            rect.x1
        );
    }
}

#[test]
fn long_names_are_cut_and_everything_fits_800_by_600() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join(LONG_NAME);
    std::fs::copy(fixture(), &image).unwrap();
    let card = dir.path().join("card.img");
    std::fs::write(&card, vec![0u8; 8 << 20]).unwrap();
    let mut long_drive = drive(
        &card,
        64_000_000_000,
        "Ultra Extreme PRO Plus High Endurance microSDXC UHS-I Card Reader Edition",
        Bus::Usb,
    );
    long_drive.mount_points = vec![PathBuf::from(
        "/media/someone/a-very-long-volume-label-that-goes-on-and-on",
    )];
    let (tx, rx) = crossbeam_channel::unbounded();
    tx.send(Ok(vec![long_drive])).unwrap();
    let options = AppOptions {
        image: None,
        drives: DriveFeed::Channel(rx),
        helper: in_process(),
        file_chooser: FileChooser::Missing,
        notifier: Notifier::Off,
        config_dir: None,
    };
    let mut h: App = Harness::builder()
        .with_size([800.0, 600.0])
        .build_eframe(move |cc| ImprintApp::new(cc, options));
    drop_image(&mut h, &image);
    // In a folder of its own, so that its path does not contain the image's.
    let out = dir.path().join("out");
    h.state_mut()
        .add_file_target(out.join(format!("{LONG_NAME}.written-copy.img")));
    h.run_steps(3);
    assert_inside(&h, 800.0, "selection screen");
    for control in ["Change…", "Show all drives", "Remove", "Flash!"] {
        let rect = h.get_by_label(control).rect();
        assert!(rect.max.x <= 800.0, "{control} is cut off at {rect:?}");
    }
    // The name is cut, and the whole path is a hover away.
    let full_path = image.display().to_string();
    assert!(!shows(&h, &full_path));
    h.get_by_label(LONG_NAME).hover();
    // A tooltip waits for the pointer to rest (2.5 s of simulated time).
    h.run_steps(10);
    assert!(shows(&h, &full_path), "the full path shows on hover");
    h.check_accessibility();

    // The confirmation names the long file inside the window too.
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| shows(h, "Write the image"));
    assert_inside(&h, 800.0, "confirmation");
    let rect = h.get_by_label("Erase and flash").rect();
    assert!(
        rect.max.x <= 800.0,
        "Erase and flash is cut off at {rect:?}"
    );
}

#[test]
fn a_damaged_image_is_the_image_cards_problem_before_anything_is_written() {
    use crate::support::balena_image::FLEET_CONFIG;
    let dir = tempfile::tempdir().unwrap();
    // Breaks at about 146 kB: before the boot partition (at 1 MiB), which
    // checking the configuration reads.
    let damaged = corrupt_fixture(dir.path(), 150);
    let config = dir.path().join("config.json");
    std::fs::write(&config, FLEET_CONFIG).unwrap();
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; 8 << 20]).unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, 8 << 20, "Card A", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &damaged);
    click(&mut h, "Test Card A");
    h.state_mut().set_config_file(Some(config));
    wait_until(&mut h, "the check", |h| {
        shows(h, "The image is damaged") || shows(h, "Configuration valid")
    });
    assert!(shows(&h, "The image is damaged."));
    assert!(shows(&h, "Nothing was written."));
    assert!(!shows(&h, "Invalid configuration"));
    assert!(!shows(&h, "liblzma"), "technical text only under Details");
    assert!(
        flash_button_disabled(&h),
        "a damaged image cannot be flashed"
    );
    assert_eq!(std::fs::read(&target).unwrap(), vec![0u8; 8 << 20]);
    // The technical text is one click away.
    click(&mut h, "Details");
    assert!(shows(&h, "corrupt"), "the details name the fault");
}

#[test]
fn an_image_damaged_mid_stream_is_one_banner_for_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // Breaks at about 4.2 MB, long after the start the probe reads.
    let damaged = corrupt_fixture(dir.path(), 1100);
    let a = dir.path().join("a.img");
    let b = dir.path().join("b.img");
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &damaged);
    h.state_mut().add_file_target(a);
    h.state_mut().add_file_target(b);
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| shows(h, "Write the image"));
    h.get_by_role_and_label(Role::Button, "Erase and flash")
        .click();
    wait_until(&mut h, "the result", |h| {
        shows(h, "Flash failed") || shows(h, "Flash complete") || shows(h, "Nothing was written")
    });
    assert!(shows(&h, "Flash failed"));
    assert_eq!(
        h.query_all_by_label_contains("The image is damaged")
            .count(),
        1,
        "one banner, not one per drive"
    );
    assert!(shows(&h, "partly written"));
    assert_eq!(
        h.query_all_by_label_contains("Stopped: the image is damaged (see above)")
            .count(),
        2
    );
    assert!(!shows(&h, "os error") && !shows(&h, "failed at byte"));
    click(&mut h, "Details");
    assert!(
        shows(&h, "failed at byte"),
        "the engine's text under Details"
    );
}

#[test]
fn a_missing_pkexec_is_said_before_the_erase_question() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; 8 << 20]).unwrap();
    let helper = HelperOptions {
        mode: HelperMode::Always,
        elevate: vec!["imprint-no-such-elevator".into()],
        exe: PathBuf::from(env!("CARGO_BIN_EXE_imprint")),
    };
    let (mut h, _drives) = app_with(vec![drive(&target, 8 << 20, "Card A", Bus::Usb)], helper);
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card A");
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    h.run_steps(3);
    assert!(shows(&h, "Imprint cannot ask for administrator rights."));
    assert!(shows(&h, "imprint-no-such-elevator is not installed"));
    assert!(
        !shows(&h, "Erase this drive?"),
        "no question it cannot act on"
    );
    assert!(
        !shows(&h, "not found in PATH"),
        "technical text only under Details"
    );
}

#[test]
fn the_files_own_checksum_is_shown_and_copy_says_it_copied() {
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &fixture());
    let sha = support::sha256_hex(&std::fs::read(fixture()).unwrap());
    wait_until(&mut h, "the file's SHA-256", |h| shows(h, &sha));
    assert!(shows(&h, "SHA-256 of the file"));
    assert!(!shows(&h, "Copied"));
    h.get_by_role_and_label(Role::Button, "Copy").click();
    // The frame that takes the click copies; the next one shows it.
    h.step();
    assert_eq!(copied_text(&h).as_deref(), Some(sha.as_str()));
    h.step();
    assert!(shows(&h, "Copied"), "the button confirms");
}

//! Nothing is written that the user did not choose (issue 17, item 1): a
//! remembered WiFi network is offered ("Use HomeNet again?"), never filled
//! in; an empty password is an open network only when ticked; the network
//! and whether it is open are named in the confirmation and the result.
//! Checked on a loop device, the card's boot FAT read with mtools.

use std::path::Path;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use imprint::drives::Bus;

use super::kittest_flows::{
    App, DroppedPath, click, drive, drop_image, fixture, fixture_bytes, flash_and_confirm,
    flash_button_disabled, in_process, options_with, shows, wait_until,
};
use crate::support::balena_image::{FLEET_CONFIG, mdir, mtype};
use crate::support::{self, loopdev};

/// An app whose settings (in `config_dir`) remember the network HomeNet.
fn app_remembering_homenet(config_dir: &Path, card: &Path, size: u64) -> App {
    std::fs::create_dir_all(config_dir).unwrap();
    std::fs::write(
        config_dir.join("settings.json"),
        r#"{"wifi_ssid": "HomeNet", "show_all_drives": true}"#,
    )
    .unwrap();
    let (mut options, sender) = options_with(
        vec![drive(card, size, "Loop Card", Bus::Virtual)],
        in_process(),
    );
    options.config_dir = Some(config_dir.to_path_buf());
    Harness::builder()
        .with_size([960.0, 800.0])
        .build_eframe(move |cc| {
            let _keep = &sender;
            imprint::gui::ImprintApp::new(cc, options)
        })
}

/// The names in the card's boot FAT (partition 1 of the fixture), read
/// from a copy of the device so mtools never opens the device itself.
fn boot_files(device: &loopdev::LoopDevice, dir: &Path) -> Vec<String> {
    let copy = dir.join("card-copy.img");
    std::fs::write(&copy, device.contents()).unwrap();
    let mut names = mdir(&copy, support::TEST_IMG_P1_OFFSET, "::/");
    names.retain(|n| !n.trim().is_empty());
    names
}

fn flash_to_the_result(h: &mut App) {
    flash_and_confirm(h, &["Test Loop Card"]);
    wait_until(h, "the result", |h| shows(h, "Flash another"));
    assert!(shows(h, "Flash complete"));
}

#[test]
fn a_remembered_network_is_offered_and_an_open_one_must_be_ticked() {
    crate::require_root!();
    let _lock = loopdev::LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let size = fixture_bytes().len() as u64;
    let card = loopdev::LoopDevice::create(&dir.path().join("card"), size, 0x00);
    let mut h = app_remembering_homenet(&dir.path().join("settings"), &card.device, size);
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Loop Card");

    // A config.json chosen (dropped): the network is offered, not filled.
    let config = dir.path().join("config.json");
    std::fs::write(&config, FLEET_CONFIG).unwrap();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(config)));
    wait_until(&mut h, "the check", |h| shows(h, "Configuration valid"));
    assert!(shows(&h, "Use \u{201c}HomeNet\u{201d} again?"));
    let field = h.get_by_label("WiFi network");
    assert_eq!(field.accesskit_node().value().unwrap_or_default(), "");
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| shows(h, "Erase th"));
    assert!(shows(&h, "Configuration: config.json"));
    assert!(
        !shows(&h, "WiFi \u{201c}"),
        "no network in the confirmation"
    );
    click(&mut h, "Cancel");
    flash_to_the_result(&mut h);
    let files = boot_files(&card, dir.path());
    assert!(
        files
            .iter()
            .any(|n| n.to_lowercase().contains("config.json")),
        "{files:?}"
    );
    assert!(
        !files
            .iter()
            .any(|n| n.to_lowercase().contains("system-connections")),
        "no WiFi profile was asked for: {files:?}"
    );

    // Accepting the offer with no password blocks Flash! until the network
    // is said to be open.
    click(&mut h, "Flash another");
    click(&mut h, "Test Loop Card");
    click(&mut h, "Use HomeNet");
    assert!(flash_button_disabled(&h));
    assert!(shows(&h, "Type the WiFi password, or tick"));
    click(&mut h, "Open network (no password)");
    wait_until(&mut h, "the check", |h| shows(h, "Configuration valid"));
    assert!(!flash_button_disabled(&h));
    h.get_by_role_and_label(Role::Button, "Flash!").click();
    wait_until(&mut h, "the confirmation", |h| shows(h, "Erase th"));
    let named = "WiFi \u{201c}HomeNet\u{201d} (open network, no password)";
    assert!(shows(&h, named), "the confirmation names the open network");
    click(&mut h, "Cancel");
    flash_to_the_result(&mut h);
    assert!(shows(&h, named), "the result names the open network");
    let files = boot_files(&card, dir.path());
    assert!(
        files
            .iter()
            .any(|n| n.to_lowercase().contains("system-connections")),
        "{files:?}"
    );
    let copy = dir.path().join("card-copy.img");
    let profile = mtype(
        &copy,
        support::TEST_IMG_P1_OFFSET,
        "::/system-connections/balena-wifi-01",
    );
    let profile = String::from_utf8_lossy(&profile);
    assert!(profile.contains("ssid=HomeNet"), "{profile}");
    assert!(!profile.contains("psk="), "an open network: {profile}");
}

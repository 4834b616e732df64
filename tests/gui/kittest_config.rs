//! The balenaOS configuration in the app's flows: an invalid config.json
//! disables Flash!, a valid one is embedded in what is written (split from
//! `kittest_flows`).

use imprint::drives::Bus;

use super::kittest_flows::DroppedPath;

use super::kittest_flows::{
    app_with, click, drive, drop_image, fixture, fixture_bytes, flash_and_confirm,
    flash_button_disabled, in_process, shows, type_into, wait_until,
};
use crate::support;

#[test]
fn an_invalid_config_json_is_shown_and_disables_flash() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; 8 << 20]).unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, "{\"applicationId\": ").unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, 8 << 20, "Card A", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card A");
    assert!(!flash_button_disabled(&h));
    click(&mut h, "balenaOS configuration (optional)");
    h.state_mut().set_config_file(Some(config));
    wait_until(&mut h, "the validation", |h| {
        shows(h, "not a balenaOS config.json")
    });
    assert!(
        flash_button_disabled(&h),
        "Flash! is disabled while invalid"
    );
    h.check_accessibility();

    // Typing a too-short WiFi password is reported as you type.
    h.state_mut().set_config_file(None);
    h.step();
    type_into(&mut h, "WiFi network", "home");
    type_into(&mut h, "WiFi password", "short");
    assert!(shows(&h, "8 to 63 characters"));
    assert!(flash_button_disabled(&h));
}

#[test]
fn a_valid_config_json_is_embedded_in_the_written_image() {
    use crate::support::balena_image::{FLEET_CONFIG, FLEET_CONFIG_COMPACT, mtype};
    let dir = tempfile::tempdir().unwrap();
    let image = fixture_bytes();
    let target = dir.path().join("card.img");
    std::fs::write(&target, vec![0u8; image.len()]).unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, FLEET_CONFIG).unwrap();
    let (mut h, _drives) = app_with(
        vec![drive(&target, image.len() as u64, "Card A", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &fixture());
    click(&mut h, "Test Card A");
    click(&mut h, "balenaOS configuration (optional)");
    h.state_mut().set_config_file(Some(config));
    wait_until(&mut h, "the validation", |h| {
        shows(h, "Configuration valid") || shows(h, "config.json.")
    });
    assert!(shows(&h, "Configuration valid"));
    // The image card now names the boot partition (the fixture's first,
    // a FAT volume labelled NEW VOLUME).
    assert!(shows(&h, "balenaOS boot partition: 1"));
    flash_and_confirm(&mut h, &["Test Card A"]);
    wait_until(&mut h, "the result", |h| {
        shows(h, "Flash complete") || shows(h, "Flash failed")
    });
    assert!(shows(&h, "Flash complete"));
    // Both checksums (docs/architecture.md §11): the image's as published, and the
    // image as written, which with a configuration is another; the boot
    // partition holds the compact config.json.
    let written_image = std::fs::read(&target).unwrap();
    assert_ne!(written_image, image);
    assert!(shows(&h, &support::sha256_hex(&image)));
    assert!(shows(&h, &support::sha256_hex(&written_image)));
    let written = mtype(&target, support::TEST_IMG_P1_OFFSET, "::/config.json");
    assert_eq!(String::from_utf8_lossy(&written), FLEET_CONFIG_COMPACT);
}

#[test]
fn a_device_type_mismatch_is_an_orange_headline_not_a_green_valid() {
    use crate::support::balena_image::{self, FLEET_CONFIG};
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        FLEET_CONFIG.replace("raspberrypi4-64", "intel-nuc"),
    )
    .unwrap();
    let (mut h, _drives) = app_with(Vec::new(), in_process());
    drop_image(&mut h, &image.path);
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(config)));
    wait_until(&mut h, "the check", |h| {
        shows(h, "valid") || shows(h, "config.json.")
    });
    // One message for the state: the mismatch first, never under a green
    // "Configuration valid".
    assert!(shows(&h, "config.json is for deviceType \"intel-nuc\""));
    assert!(!shows(&h, "Configuration valid"));
    assert!(shows(&h, "Configuration otherwise valid"));
}

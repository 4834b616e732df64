//! WiFi alone (issue 12, item 10): an image whose boot partition already
//! holds a config.json (as balenaCloud's downloads do) takes WiFi settings
//! without one; the profile is added and its config.json kept. Without a
//! config.json there, the form says one is needed; an image without a
//! partition table says up front that it cannot be configured.

use imprint::drives::Bus;

use super::kittest_flows::{
    app_with, click, drive, drop_image, flash_and_confirm, flash_button_disabled, in_process,
    shows, type_into, wait_until,
};
use crate::support::balena_image;

#[test]
fn wifi_alone_goes_into_an_image_that_holds_a_config_json() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let stock = balena_image::mtype(&image.path, image.boot_offset, "::/config.json");
    let target = dir.path().join("card.img");
    let size = std::fs::metadata(&image.path).unwrap().len();
    let (mut h, _drives) = app_with(vec![drive(&target, size, "Card", Bus::Usb)], in_process());
    drop_image(&mut h, &image.path);
    click(&mut h, "balenaOS configuration (optional)");
    type_into(&mut h, "WiFi network", "home");
    // No password typed: an open network only once said so (issue 17).
    assert!(shows(&h, "Type the WiFi password, or tick"));
    click(&mut h, "Open network (no password)");
    wait_until(&mut h, "the check", |h| {
        !shows(h, "Checking the configuration")
    });
    assert!(shows(&h, "the image's own config.json is kept"));
    click(&mut h, "Test Card");
    flash_and_confirm(&mut h, &["Test Card"]);
    wait_until(&mut h, "the result", |h| shows(h, "Flash another"));
    assert!(shows(&h, "Flash complete"));
    let offset = image.boot_offset;
    assert_eq!(
        balena_image::mtype(&target, offset, "::/config.json"),
        stock,
        "config.json kept"
    );
    let profile = balena_image::mtype(&target, offset, "::/system-connections/balena-wifi-01");
    assert!(
        String::from_utf8_lossy(&profile).contains("ssid=home"),
        "the WiFi profile was added"
    );
}

#[test]
fn wifi_alone_needs_a_config_json_somewhere() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let status = std::process::Command::new("mdel")
        .args([
            "-i",
            &balena_image::mtools_image(&image.path, image.boot_offset),
        ])
        .arg("::/config.json")
        .status()
        .unwrap();
    assert!(status.success(), "mdel");
    let target = dir.path().join("card.img");
    let (mut h, _drives) = app_with(
        vec![drive(&target, 1 << 30, "Card", Bus::Usb)],
        in_process(),
    );
    drop_image(&mut h, &image.path);
    click(&mut h, "Test Card");
    click(&mut h, "balenaOS configuration (optional)");
    type_into(&mut h, "WiFi network", "home");
    click(&mut h, "Open network (no password)");
    wait_until(&mut h, "the check", |h| {
        !shows(h, "Checking the configuration")
    });
    assert!(shows(&h, "WiFi settings need a config.json."));
    assert!(shows(&h, "This image's boot partition holds none"));
    assert!(flash_button_disabled(&h));

    // An image with no partition table says so before anything is tried.
    let plain = dir.path().join("plain.img");
    std::fs::write(&plain, vec![0u8; 1 << 20]).unwrap();
    drop_image(&mut h, &plain);
    assert!(shows(
        &h,
        "This image has no partition table, so no balenaOS boot partition"
    ));
}

//! WiFi without a config.json, and config.json files that lack or contradict
//! what the image says (device type, a byte-order mark).

use super::*;

#[test]
fn wifi_without_a_config_is_refused_when_the_boot_partition_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    // A boot partition without the stock config.json balenaOS ships.
    let status = std::process::Command::new("mdel")
        .args([
            "-i",
            &balena_image::mtools_image(&image.path, image.boot_offset),
        ])
        .arg("::/config.json")
        .status()
        .unwrap();
    assert!(status.success(), "mdel");
    let target = dir.path().join("target.img");
    let output = run_imprint([
        "flash",
        image.path.to_str().unwrap(),
        "--wifi-ssid",
        "home",
        "--yes",
        "-t",
        target.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--wifi-ssid needs --config"));
    assert!(!target.exists());
}

#[test]
fn wifi_alone_is_added_to_an_image_that_holds_a_config_json() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    // An image configured already, as balenaCloud's download is.
    let configured = dir.path().join("configured.img");
    let (code, _, stderr) = configure(&image.path, &config, false, &configured);
    assert_eq!(code, 0, "{stderr}");
    let target = dir.path().join("target.img");
    let output = run_imprint([
        "flash",
        configured.to_str().unwrap(),
        "--wifi-ssid",
        SSID,
        "--wifi-psk",
        PSK,
        "--yes",
        "-t",
        target.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The WiFi profile is added and the image's config.json kept as it was.
    let offset = image.boot_offset;
    assert_eq!(
        config_json(&target, offset),
        balena_image::FLEET_CONFIG_COMPACT
    );
    assert_eq!(
        boot_file_text(&target, offset, "::/system-connections/balena-wifi-01"),
        EXPECTED_KEYFILE
    );
}

#[test]
fn wifi_alone_on_an_image_without_a_boot_partition_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("plain.img");
    fs::write(&image, vec![0u8; 1 << 20]).unwrap();
    let target = dir.path().join("target.img");
    let output = run_imprint([
        "flash",
        image.to_str().unwrap(),
        "--wifi-ssid",
        "home",
        "--yes",
        "-t",
        target.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--wifi-ssid needs --config"), "{stderr}");
    assert!(!target.exists());
}

/// A config.json without deviceType is written, with a warning; one with a
/// UTF-8 byte order mark (as Windows editors save it) is accepted.
#[test]
fn config_without_device_type_warns_and_a_bom_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::small_resin_boot(dir.path(), "warn.img", 16, 8, &[]);
    let out = dir.path().join("out.img");
    let config = write_config(dir.path(), "c.json", "{\"applicationId\":1}");
    let (code, _, stderr) = configure(&image.path, &config, false, &out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: config.json has no \"deviceType\"")
            && stderr.contains("\"raspberrypi4-64\""),
        "{stderr}"
    );

    let bom = write_config(
        dir.path(),
        "bom.json",
        &format!("\u{FEFF}{}", balena_image::FLEET_CONFIG),
    );
    let (code, _, stderr) = configure(&image.path, &bom, false, &out);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(
        config_json(&out, image.boot_offset),
        balena_image::FLEET_CONFIG_COMPACT
    );
}

#[test]
fn a_device_type_mismatch_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::mbr_fat16_resin_boot(dir.path());
    let config = write_config(
        dir.path(),
        "c.json",
        r#"{"applicationId": 1, "deviceType": "intel-nuc"}"#,
    );
    let out = dir.path().join("out.img");
    let (code, _, stderr) = configure(&image.path, &config, false, &out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning")
            && stderr.contains("intel-nuc")
            && stderr.contains("raspberrypi4-64"),
        "{stderr}"
    );
}

//! Configurations and images refused before anything is written.

use super::*;

#[test]
fn invalid_configs_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    for (name, contents, says) in [
        ("broken.json", "{\"applicationId\": 1,", "not valid JSON"),
        (
            "array.json",
            "[{\"applicationId\": 1}]",
            "must be a JSON object",
        ),
        (
            "string-id.json",
            "{\"applicationId\": \"1234\"}",
            "\"applicationId\" must be a whole number",
        ),
        (
            "negative-id.json",
            "{\"applicationId\": -1}",
            "\"applicationId\" must be a whole number",
        ),
        (
            "empty-type.json",
            "{\"deviceType\": \"\"}",
            "\"deviceType\" must be a non-empty string",
        ),
    ] {
        let config = write_config(dir.path(), name, contents);
        let stderr = assert_refused(&image.path, &config, false);
        assert!(
            stderr.contains(says) && stderr.contains(name),
            "{name}: {stderr}"
        );
    }
    let stderr = assert_refused(&image.path, &dir.path().join("missing.json"), false);
    assert!(stderr.contains("missing.json"), "{stderr}");
}

#[test]
fn invalid_wifi_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let output = run_imprint([
        "configure",
        image.path.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--wifi-ssid",
        "net",
        "--wifi-psk",
        "short",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("8 to 63 characters"));
    assert!(!out.exists());
}

#[test]
fn a_boot_partition_too_full_for_the_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::mbr_unlabelled_with_device_type(dir.path(), "1");
    // Empty config.json (so replacing it frees nothing), then fill the
    // boot partition with one file as large as its free space.
    balena_image::mcopy(&image.path, image.boot_offset, "::/config.json", b"");
    let free_bytes = balena_image::mdir_free_bytes(&image.path, image.boot_offset);
    balena_image::mcopy(
        &image.path,
        image.boot_offset,
        "::/filler.bin",
        &vec![0xA5; free_bytes as usize],
    );
    assert_eq!(
        balena_image::mdir_free_bytes(&image.path, image.boot_offset),
        0
    );
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let stderr = assert_refused(&image.path, &config, false);
    assert!(
        stderr.contains("does not fit") && stderr.contains("config.json"),
        "{stderr}"
    );
}

#[test]
fn an_image_without_a_partition_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-table.img");
    fs::write(&path, vec![0u8; 4 << 20]).unwrap();
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let stderr = assert_refused(&path, &config, false);
    assert!(stderr.contains("no partition table"), "{stderr}");
}

#[test]
fn the_output_may_not_be_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let before = sha256_hex(&fs::read(&image.path).unwrap());
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let (code, _, stderr) = configure(&image.path, &config, false, &image.path);
    assert_eq!(code, 2);
    assert!(stderr.contains("names the input image"), "{stderr}");
    assert_eq!(sha256_hex(&fs::read(&image.path).unwrap()), before);
}

#[test]
fn configure_refuses_to_write_a_device_or_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    for output in [Path::new("/dev/null"), dir.path()] {
        let (code, _, stderr) = configure(&image.path, &config, false, output);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("not a regular file"), "{stderr}");
    }
}

#[test]
fn configure_refuses_to_overwrite_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::small_resin_boot(dir.path(), "own.img", 16, 8, &[]);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    // Through another name for the same file, too.
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&config, &link).unwrap();
    for output in [&config, &link] {
        let (code, _, stderr) = configure(&image.path, &config, false, output);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("names the config file"), "{stderr}");
        assert_eq!(
            fs::read_to_string(&config).unwrap(),
            balena_image::FLEET_CONFIG
        );
    }
}

//! balenaOS configuration, as a user runs it: `imprint configure` on
//! balenaOS-style images (built with sfdisk/mkfs.vfat/mcopy and in Rust) and
//! on the test images of tests/fixtures/, checked with mtools and `fsck.fat -n`; and
//! `imprint flash --config` to loop devices.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::support::balena_image::{self, TestImage};
use crate::support::{
    GPT_TEST_P2_BYTES, GPT_TEST_P2_OFFSET, TEST_IMG_P1_BYTES, TEST_IMG_P1_OFFSET, fixture,
    run_imprint, sha256_hex,
};

const SSID: &str = "My;SSID";
const PSK: &str = "correct horse battery";

/// The keyfile Imprint must write for [`SSID`] and [`PSK`].
const EXPECTED_KEYFILE: &str = "[connection]\nid=balena-wifi-01\ntype=wifi\n\n\
    [wifi]\nmode=infrastructure\nssid=My\\\\;SSID\n\n\
    [wifi-security]\nkey-mgmt=wpa-psk\npsk=correct horse battery\n\n\
    [ipv4]\nmethod=auto\n\n\
    [ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n";

/// The text of `path` in the boot partition at `offset` of `image` (read
/// back with mtools).
fn boot_file_text(image: &Path, offset: u64, path: &str) -> String {
    String::from_utf8(balena_image::mtype(image, offset, path)).unwrap()
}

/// The config.json in the boot partition at `offset` of `image`.
fn config_json(image: &Path, offset: u64) -> String {
    boot_file_text(image, offset, "::/config.json")
}

fn write_config(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).unwrap();
    path
}

/// Runs `imprint configure IMAGE --config CONFIG [wifi] -o OUT` and returns
/// (exit code, stdout, stderr).
fn configure(image: &Path, config: &Path, wifi: bool, out: &Path) -> (i32, String, String) {
    let mut args: Vec<String> = vec![
        "configure".into(),
        image.display().to_string(),
        "--config".into(),
        config.display().to_string(),
        "-o".into(),
        out.display().to_string(),
    ];
    if wifi {
        args.extend([
            "--wifi-ssid".into(),
            SSID.into(),
            "--wifi-psk".into(),
            PSK.into(),
        ]);
    }
    let output = run_imprint(&args);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Checks a configured image against its source: the boot partition holds
/// the compact config and the keyfile (mtype), passes `fsck.fat -n`, keeps
/// every other file, and every byte outside it is the source's.
fn assert_configured(source: &TestImage, configured: &Path, keyfile: Option<&str>) {
    let before = fs::read(&source.path).unwrap();
    let mut after = fs::read(configured).unwrap();
    // A drive may be larger than the image; what lies beyond is checked by
    // the caller.
    assert!(
        after.len() >= before.len(),
        "the configured image is shorter than the source"
    );
    after.truncate(before.len());
    let boot = source.boot_offset as usize..(source.boot_offset + source.boot_size) as usize;
    // (No assert_eq! on whole images: a failure would print megabytes.)
    assert!(
        before[..boot.start] == after[..boot.start],
        "bytes before the boot partition changed"
    );
    assert!(
        before[boot.end..] == after[boot.end..],
        "bytes after the boot partition changed"
    );

    let offset = source.boot_offset;
    assert_eq!(
        config_json(configured, offset),
        balena_image::FLEET_CONFIG_COMPACT
    );
    match keyfile {
        Some(keyfile) => assert_eq!(
            boot_file_text(configured, offset, "::/system-connections/balena-wifi-01"),
            keyfile
        ),
        None => assert!(
            !balena_image::mdir(&source.path, offset, "::/")
                .iter()
                .any(|l| l.contains("balena-wifi-01"))
        ),
    }
    // Every file of the source other than config.json is unchanged.
    for line in balena_image::mdir(&source.path, offset, "::/") {
        let name = line.trim_start_matches(':').trim_start_matches('/');
        if name.is_empty() || name == "config.json" || line.ends_with('/') {
            continue;
        }
        let path = format!("::/{name}");
        if balena_image::mdir(&source.path, offset, &path).len() > 1 {
            continue; // a directory
        }
        assert_eq!(
            balena_image::mtype(&source.path, offset, &path),
            balena_image::mtype(configured, offset, &path),
            "{path} changed"
        );
    }
    // fsck.fat -n finds nothing the source did not already have (an image
    // made by another tool may carry findings of its own, e.g. a label kept
    // only in the root directory).
    let (source_clean, source_said) = balena_image::fsck_fat(&before[boot.clone()]);
    let (clean, said) = balena_image::fsck_fat(&after[boot]);
    if source_clean {
        assert!(clean, "fsck.fat -n found problems:\n{said}");
    } else {
        assert_eq!(
            balena_image::fsck_findings(&said),
            balena_image::fsck_findings(&source_said),
            "fsck.fat -n found new problems"
        );
    }
}

#[test]
fn configure_gpt_fat32_resin_boot_with_wifi_creates_system_connections() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let (code, stdout, stderr) = configure(&image.path, &config, true, &out);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert_configured(&image, &out, Some(EXPECTED_KEYFILE));
}

/// Exit code and stderr of a configure run that must be refused, after
/// checking that it wrote no output.
fn assert_refused(image: &Path, config: &Path, wifi: bool) -> String {
    let out = image.with_extension("refused.img");
    let (code, stdout, stderr) = configure(image, config, wifi, &out);
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(!out.exists(), "a refused configure wrote {}", out.display());
    stderr
}

#[test]
fn configure_mbr_fat16_resin_boot_with_logical_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::mbr_fat16_resin_boot(dir.path());
    let table = imprint::bootcfg::partition_table(fs::File::open(&image.path).unwrap()).unwrap();
    let numbers: Vec<u32> = table.partitions.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [1, 2, 3, 5, 6], "{}", table.describe());
    assert_eq!(table.get(5).unwrap().offset, 75776 * 512);

    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let (code, stdout, stderr) = configure(&image.path, &config, true, &out);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.is_empty(), "no warning expected: {stderr}");
    assert_configured(&image, &out, Some(EXPECTED_KEYFILE));
    assert_eq!(
        fs::metadata(&out).unwrap().len(),
        fs::metadata(&image.path).unwrap().len()
    );
    assert_eq!(
        balena_image::mtype(
            &out,
            image.boot_offset,
            "::/system-connections/README.ignore"
        ),
        b"Put NetworkManager connection files here.\n"
    );
}

#[test]
fn configure_without_wifi_writes_only_config_json() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::mbr_fat16_resin_boot(dir.path());
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let (code, _, stderr) = configure(&image.path, &config, false, &out);
    assert_eq!(code, 0, "{stderr}");
    assert_configured(&image, &out, None);
    let listed = balena_image::mdir(&out, image.boot_offset, "::/system-connections");
    assert!(
        !listed.iter().any(|l| l.contains("balena-wifi")),
        "{listed:?}"
    );
}

#[test]
fn configure_gpt_with_4096_byte_sectors() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 4096);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let output = run_imprint([
        "configure",
        image.path.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--wifi-ssid",
        SSID,
        "--wifi-psk",
        PSK,
        "-o",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let done: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(done["boot_partition"]["number"], 1);
    assert_eq!(
        done["boot_partition"]["label"], "resin-boot",
        "the GPT name, not the FAT label"
    );
    assert_eq!(done["boot_partition"]["offset"], image.boot_offset);
    assert_eq!(
        done["config_sha256"],
        sha256_hex(balena_image::FLEET_CONFIG_COMPACT.as_bytes())
    );
    assert_eq!(done["image_sha256"], sha256_hex(&fs::read(&out).unwrap()));
    assert_configured(&image, &out, Some(EXPECTED_KEYFILE));
}

#[test]
fn configure_flasher_image_uses_flash_boot() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::mbr_flasher(dir.path());
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let (code, stdout, stderr) = configure(&image.path, &config, true, &out);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("flash-boot"), "{stdout}");
    assert_configured(&image, &out, Some(EXPECTED_KEYFILE));
    assert_eq!(
        balena_image::mtype(&out, image.boot_offset, "::/balena-image-flasher"),
        b""
    );
}

#[test]
fn configure_unlabelled_fat_found_by_device_type_json() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::mbr_unlabelled_with_device_type(dir.path(), "1");
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let (code, _, stderr) = configure(&image.path, &config, true, &out);
    assert_eq!(code, 0, "{stderr}");
    assert_configured(&image, &out, Some(EXPECTED_KEYFILE));
}

#[test]
fn device_type_json_may_name_another_partition() {
    let dir = tempfile::tempdir().unwrap();
    let mut image = balena_image::mbr_unlabelled_with_device_type(dir.path(), "{\"primary\":2}");
    // Partition 2 is the second FAT of the image, 8 MiB further.
    image.boot_number = 2;
    image.boot_offset += 8 << 20;
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let (code, _, stderr) = configure(&image.path, &config, false, &out);
    assert_eq!(code, 0, "{stderr}");
    assert_configured(&image, &out, None);
}

/// test.img has two FAT12 partitions and no balena label: partition 1 is
/// used. The input is xz-compressed.
#[test]
fn configure_test_img_falls_back_to_partition_1() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("test.img");
    let unpacked = std::process::Command::new("xz")
        .arg("-dc")
        .arg(fixture("test.img.xz"))
        .output()
        .unwrap();
    assert!(unpacked.status.success());
    fs::write(&raw, &unpacked.stdout).unwrap();
    let image = TestImage {
        path: raw,
        boot_number: 1,
        boot_offset: TEST_IMG_P1_OFFSET,
        boot_size: TEST_IMG_P1_BYTES,
    };
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let out = dir.path().join("out.img");
    let (code, stdout, stderr) = configure(&fixture("test.img.xz"), &config, true, &out);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains(&format!(
            "partition 1 (NEW VOLUME) at byte {TEST_IMG_P1_OFFSET}"
        )),
        "{stdout}"
    );
    assert_configured(&image, &out, Some(EXPECTED_KEYFILE));
}

#[test]
fn gpt_image_without_a_fat_partition_1_is_refused_with_the_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let image = fixture("gpt-test.img.gz");
    let out = dir.path().join("out.img");
    let (code, _, stderr) = configure(&image, &config, false, &out);
    assert_eq!(code, 2, "{stderr}");
    assert!(!out.exists());
    assert!(stderr.contains("no balenaOS boot partition"), "{stderr}");
    for partition in [
        "1 (offset 1048576, 1048576 bytes, name \"Microsoft reserved partition\", not FAT)"
            .to_string(),
        format!(
            "2 (offset {GPT_TEST_P2_OFFSET}, {GPT_TEST_P2_BYTES} bytes, name \"Basic data partition\", FAT labelled \"FATFS\")"
        ),
        "3 (offset 36700160, 2097152 bytes, name \"Linux filesystem\", not FAT)".to_string(),
    ] {
        assert!(stderr.contains(&partition), "{partition}\n{stderr}");
    }
}

#[test]
fn the_same_inputs_give_the_same_image() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let first = dir.path().join("first.img");
    let second = dir.path().join("second.img");
    assert_eq!(configure(&image.path, &config, true, &first).0, 0);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(configure(&image.path, &config, true, &second).0, 0);
    assert_eq!(
        sha256_hex(&fs::read(&first).unwrap()),
        sha256_hex(&fs::read(&second).unwrap())
    );
    // A configured image can be configured again (the directory and the
    // profile now exist): the same files, still clean for fsck.fat.
    let third = dir.path().join("third.img");
    assert_eq!(configure(&first, &config, true, &third).0, 0);
    assert_configured(&image, &third, Some(EXPECTED_KEYFILE));
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

/// xz-compresses `path` next to it (`PATH.xz`), as images are downloaded.
fn xz(path: &Path) -> PathBuf {
    let status = std::process::Command::new("xz")
        .args(["-0", "-k", "-f", "-T1"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
    PathBuf::from(format!("{}.xz", path.display()))
}

fn flash_args(image: &Path, config: &Path, targets: &[&Path]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "flash".into(),
        image.display().to_string(),
        "--config".into(),
        config.display().to_string(),
        "--wifi-ssid".into(),
        SSID.into(),
        "--wifi-psk".into(),
        PSK.into(),
        "--yes".into(),
        "--json".into(),
        // The hashes are checked below; a plain flash does not take them.
        "--image-sha256".into(),
        // Every byte, so that a drive compares whole with `configure -o`.
        "--full".into(),
    ];
    for target in targets {
        args.push("-t".into());
        args.push(target.display().to_string());
    }
    args
}

const LOOP_FILL: u8 = 0xEE;

/// `flash IMAGE.xz --config … --wifi-… -t LOOP1 -t LOOP2` on each kind of
/// image: both drives verified, holding exactly what `configure -o` makes,
/// the rest of each drive untouched; `verify --config` accepts them; the
/// same command twice gives the same bytes.
#[test]
fn flash_config_to_two_loop_devices() {
    crate::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let images = [
        balena_image::mbr_fat16_resin_boot(dir.path()),
        balena_image::gpt_fat32_resin_boot(dir.path(), 512),
        balena_image::mbr_flasher(dir.path()),
        balena_image::mbr_unlabelled_with_device_type(dir.path(), "1"),
    ];
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    for (index, image) in images.iter().enumerate() {
        // Determinism is checked on the first image; once is enough for the rest.
        let runs = if index == 0 { 2 } else { 1 };
        let compressed = xz(&image.path);
        let expected_path = dir.path().join("expected.img");
        let (code, _, stderr) = configure(&compressed, &config, true, &expected_path);
        assert_eq!(code, 0, "{stderr}");
        let expected = fs::read(&expected_path).unwrap();
        let drive_size = expected.len() as u64 + (1 << 20);

        let mut shas = Vec::new();
        for _run in 0..runs {
            let _lock = crate::support::loopdev::LoopLock::acquire();
            let first = crate::support::loopdev::LoopDevice::create(
                &dir.path().join("drive1"),
                drive_size,
                LOOP_FILL,
            );
            let second = crate::support::loopdev::LoopDevice::create(
                &dir.path().join("drive2"),
                drive_size,
                LOOP_FILL,
            );
            let output = run_imprint(flash_args(
                &compressed,
                &config,
                &[&first.device, &second.device],
            ));
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}: {stdout}\n{}",
                image.path.display(),
                String::from_utf8_lossy(&output.stderr)
            );
            let start: serde_json::Value =
                serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
            assert_eq!(start["boot_partition"]["number"], image.boot_number);
            assert_eq!(start["boot_partition"]["offset"], image.boot_offset);
            assert_eq!(
                start["config_sha256"],
                sha256_hex(balena_image::FLEET_CONFIG_COMPACT.as_bytes())
            );
            // docs/architecture.md §11: the run's hash is the image's as published, each
            // drive's that of its bytes as written (configured).
            let events: Vec<serde_json::Value> = stdout
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            let of = |name: &'static str| events.iter().filter(move |e| e["event"] == name);
            let image_sha = sha256_hex(&fs::read(&image.path).unwrap());
            assert_eq!(of("done").next().unwrap()["image_sha256"], image_sha);
            assert_eq!(of("target_done").count(), 2);
            for done in of("target_done") {
                assert_eq!(done["sha256"], sha256_hex(&expected), "{done}");
            }
            for drive in [&first, &second] {
                let written = drive.contents();
                assert!(
                    written[..expected.len()] == expected[..],
                    "{} differs from configure -o",
                    drive.device.display()
                );
                // The drive's last MiB is cleared by the flash (a stale
                // backup GPT lives there); the rest past the image is kept.
                let last_mib = written.len() - (1 << 20);
                assert!(
                    written[expected.len()..last_mib]
                        .iter()
                        .all(|&b| b == LOOP_FILL)
                );
                assert!(written[last_mib..].iter().all(|&b| b == 0));
                assert_configured(image, &drive.backing, Some(EXPECTED_KEYFILE));
            }
            shas.push(sha256_hex(&first.contents()));
            // `verify --config` compares the drive with the configured image.
            let verified = run_imprint([
                "verify",
                compressed.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
                "--wifi-ssid",
                SSID,
                "--wifi-psk",
                PSK,
                "-t",
                first.device.to_str().unwrap(),
            ]);
            assert_eq!(
                verified.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&verified.stderr)
            );
        }
        assert!(
            shas.windows(2).all(|w| w[0] == w[1]),
            "the same command twice gave different bytes"
        );
    }
}

/// Every refusal of the configuration leaves the drives as they were.
#[test]
fn flash_with_an_invalid_config_writes_nothing() {
    crate::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::gpt_fat32_resin_boot(dir.path(), 512);
    let compressed = xz(&image.path);
    let no_table = dir.path().join("no-table.img");
    fs::write(&no_table, vec![0u8; 4 << 20]).unwrap();
    let cases = [
        (
            compressed.clone(),
            write_config(dir.path(), "broken.json", "{"),
        ),
        (
            compressed.clone(),
            write_config(dir.path(), "array.json", "[]"),
        ),
        (
            compressed.clone(),
            write_config(dir.path(), "id.json", "{\"applicationId\":\"7\"}"),
        ),
        (compressed.clone(), dir.path().join("missing.json")),
        (
            no_table,
            write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG),
        ),
    ];
    let _lock = crate::support::loopdev::LoopLock::acquire();
    let size = fs::metadata(&image.path).unwrap().len();
    let first =
        crate::support::loopdev::LoopDevice::create(&dir.path().join("drive1"), size, LOOP_FILL);
    let second =
        crate::support::loopdev::LoopDevice::create(&dir.path().join("drive2"), size, LOOP_FILL);
    for (source, config) in cases {
        let output = run_imprint(flash_args(
            &source,
            &config,
            &[&first.device, &second.device],
        ));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}: {}",
            config.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        for drive in [&first, &second] {
            assert!(
                drive.contents().iter().all(|&b| b == LOOP_FILL),
                "{} was written",
                drive.device.display()
            );
        }
    }
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

/// SSIDs that need escaping: each one NetworkManager must read back as the
/// bytes given (GLib's parser, then NetworkManager's own decoding), from a
/// file that holds what NetworkManager's writer would have written.
#[test]
fn wifi_ssids_are_written_as_network_manager_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::small_resin_boot(dir.path(), "ssid.img", 16, 8, &[]);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let through_the_cli = [
        "My;SSID",
        "a;b;",
        "16;17;",
        "back\\slash",
        "\\;",
        "  two leading, trailing  ",
        " ",
        "#not a comment",
        "=equals=",
        "[section]",
        "new\nline",
        "123",
        "Café",
    ];
    // Bytes that are not UTF-8 (an SSID is bytes) come through too.
    let not_utf8: [&[u8]; 4] = [b"\xff\xfe;\\", b"caf\xe9", b"\x01ctl", b"\x7f"];
    let ssids = through_the_cli.iter().map(|s| s.as_bytes()).chain(not_utf8);
    for (i, ssid) in ssids.enumerate() {
        let out = dir.path().join(format!("out-{i}.img"));
        let output = run_imprint([
            OsStr::new("configure"),
            image.path.as_os_str(),
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("--wifi-ssid"),
            OsStr::from_bytes(ssid),
            OsStr::new("-o"),
            out.as_os_str(),
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{:?}: {}",
            ssid.escape_ascii().to_string(),
            String::from_utf8_lossy(&output.stderr)
        );
        let keyfile = balena_image::mtype(
            &out,
            image.boot_offset,
            "::/system-connections/balena-wifi-01",
        );
        assert_network_manager_reads(&keyfile, ssid);
        fs::remove_file(&out).unwrap();
    }
    // A NUL byte cannot be a command-line argument; the profile writer
    // takes it.
    let keyfile = imprint::bootcfg::WifiProfile::new(b"\x00nul", Some("password1"))
        .unwrap()
        .keyfile();
    assert_network_manager_reads(keyfile.as_bytes(), b"\x00nul");
}

fn assert_network_manager_reads(keyfile: &[u8], ssid: &[u8]) {
    let (read, nm_line) = balena_image::network_manager_ssid(keyfile);
    assert_eq!(
        read,
        ssid,
        "NetworkManager reads {:?} from\n{}",
        String::from_utf8_lossy(&read),
        String::from_utf8_lossy(keyfile)
    );
    let text = String::from_utf8_lossy(keyfile);
    assert!(
        text.contains(&format!("\n{nm_line}\n")),
        "NetworkManager would write {nm_line:?}; Imprint wrote\n{text}"
    );
}

/// A FAT entry value past every cluster of these small filesystems (and
/// below the "bad" and end-of-chain values), for `fat_bits`.
fn past_end(fat_bits: u8) -> u32 {
    match fat_bits {
        12 => 0xFF0,
        16 => 0xFFF0,
        _ => 0x0FFF_FFF0,
    }
}

/// A small image whose boot FAT (`fat_bits`) has the damage `kind`.
fn damaged_image(dir: &Path, fat_bits: u8, kind: &str) -> TestImage {
    let size_mib = match fat_bits {
        12 => 2,
        16 => 8,
        _ => 40,
    };
    let big: Vec<u8> = crate::support::pseudo_random_bytes(3000, 5);
    let image = balena_image::small_resin_boot(
        dir,
        &format!("damaged-{fat_bits}-{kind}.img"),
        fat_bits,
        size_mib,
        &[("::/big.bin", &big)],
    );
    let at = image.boot_offset;
    let config = balena_image::clusters_of(&image.path, at, "::/config.json");
    let os_release = balena_image::clusters_of(&image.path, at, "::/os-release");
    let big = balena_image::clusters_of(&image.path, at, "::/big.bin");
    assert!(big.len() >= 3, "{big:?}");
    let last_config = *config.last().unwrap();
    let set =
        |cluster, value| balena_image::set_fat_entry(&image.path, at, fat_bits, cluster, value);
    match kind {
        // config.json's chain runs on into os-release's: replacing it
        // would free and reuse os-release's clusters.
        "cross-link" => set(last_config, os_release[0]),
        // big.bin's last cluster points back to its first.
        "loop" => set(*big.last().unwrap(), big[0]),
        // config.json's chain runs on into a cluster marked free.
        "free" => set(last_config, big.last().unwrap() + 100),
        // config.json's chain runs past the last cluster (the "Seek to a
        // negative offset" of fatfs).
        "past-end" => set(last_config, past_end(fat_bits)),
        _ => unreachable!(),
    }
    image
}

/// A configure on a boot partition with a damaged FAT (each kind of
/// damage, on FAT12, FAT16 and FAT32) is refused before anything is
/// written, naming the damage and fsck.fat.
#[test]
fn configure_refuses_a_damaged_fat() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let cases = [
        (16, "cross-link", "share cluster"),
        (16, "loop", "loops back"),
        (16, "free", "marks free"),
        (16, "past-end", "past the end of the filesystem"),
        (12, "cross-link", "share cluster"),
        (12, "past-end", "past the end of the filesystem"),
        (32, "cross-link", "share cluster"),
        (32, "loop", "loops back"),
    ];
    for (fat_bits, kind, said) in cases {
        let image = damaged_image(dir.path(), fat_bits, kind);
        let before = fs::read(&image.path).unwrap();
        let stderr = assert_refused(&image.path, &config, true);
        assert!(
            stderr.contains("the boot partition's FAT is damaged: ")
                && stderr.contains(said)
                && stderr.contains("run fsck.fat"),
            "FAT{fat_bits} {kind}: {stderr}"
        );
        assert!(!stderr.contains("Seek"), "{stderr}");
        // fsck.fat agrees that the filesystem is damaged.
        let boot = image.boot_offset as usize..(image.boot_offset + image.boot_size) as usize;
        let (clean, fsck_said) = balena_image::fsck_fat(&before[boot]);
        assert!(
            !clean,
            "fsck.fat finds FAT{fat_bits} {kind} clean: {fsck_said}"
        );
        assert!(
            fs::read(&image.path).unwrap() == before,
            "the source changed"
        );
    }
    // The same images, undamaged, configure.
    for fat_bits in [12, 16, 32] {
        let size_mib = [2, 8, 40][(fat_bits / 16) as usize];
        let image = balena_image::small_resin_boot(
            dir.path(),
            &format!("sound-{fat_bits}.img"),
            fat_bits,
            size_mib,
            &[],
        );
        let out = dir.path().join(format!("sound-{fat_bits}.out"));
        let (code, _, stderr) = configure(&image.path, &config, true, &out);
        assert_eq!(code, 0, "FAT{fat_bits}: {stderr}");
    }
}

/// `flash --config` with a damaged boot FAT writes nothing to the drive.
#[test]
fn flash_with_a_damaged_fat_writes_nothing() {
    crate::require_root!();
    let dir = tempfile::tempdir().unwrap();
    let image = damaged_image(dir.path(), 16, "cross-link");
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    let _lock = crate::support::loopdev::LoopLock::acquire();
    let size = fs::metadata(&image.path).unwrap().len();
    let drive =
        crate::support::loopdev::LoopDevice::create(&dir.path().join("drive"), size, LOOP_FILL);
    let file_target = dir.path().join("target.img");
    let output = run_imprint(flash_args(
        &image.path,
        &config,
        &[&drive.device, &file_target],
    ));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("FAT is damaged"), "{stderr}");
    assert!(
        drive.contents().iter().all(|&b| b == LOOP_FILL),
        "the drive was written"
    );
    assert!(!file_target.exists(), "the file target was created");
}

/// The config file is read with a limit: a character device is refused at
/// once, an endless FIFO stops at the limit, and a FIFO holding a config
/// (`--config <(…)`) works.
#[test]
fn config_files_are_read_with_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::small_resin_boot(dir.path(), "limit.img", 16, 8, &[]);
    let out = dir.path().join("out.img");
    let stderr = assert_refused(&image.path, Path::new("/dev/zero"), false);
    assert!(
        stderr.contains("cannot read config file /dev/zero: it is a character device, not a file"),
        "{stderr}"
    );

    // `yes` writes forever; the read stops at the limit.
    let program = crate::support::imprint().get_program().to_owned();
    let run_bash = |script: &str| {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .env("IMPRINT", &program)
            .env("IMAGE", &image.path)
            .env("OUT", &out)
            .env("CONFIG", balena_image::FLEET_CONFIG)
            .output()
            .unwrap()
    };
    let endless = run_bash(r#""$IMPRINT" configure "$IMAGE" --config <(yes) -o "$OUT""#);
    let stderr = String::from_utf8_lossy(&endless.stderr);
    assert_eq!(endless.status.code(), Some(2), "{stderr}");
    let limit = imprint::bootcfg::CONFIG_LIMIT_BYTES;
    assert!(
        stderr.contains(&format!("larger than {limit} bytes")),
        "{stderr}"
    );
    assert!(!out.exists());

    let piped =
        run_bash(r#""$IMPRINT" configure "$IMAGE" --config <(printf %s "$CONFIG") -o "$OUT""#);
    assert_eq!(
        piped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(
        config_json(&out, image.boot_offset),
        balena_image::FLEET_CONFIG_COMPACT
    );
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

/// A partition table whose boot partition runs far past the image's end (a
/// truncated image) is reported as that, not as a lack of memory.
#[test]
fn a_boot_partition_past_the_image_end_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::small_resin_boot(dir.path(), "past.img", 16, 8, &[]);
    let config = write_config(dir.path(), "c.json", balena_image::FLEET_CONFIG);
    // Partition 1's sector count (MBR entry at 446, count at +12): ~2 TiB,
    // more than the memory limit of any machine running the tests.
    let mut bytes = fs::read(&image.path).unwrap();
    let image_len = bytes.len();
    bytes[446 + 12..446 + 16].copy_from_slice(&0xFFFF_0000u32.to_le_bytes());
    fs::write(&image.path, bytes).unwrap();
    let stderr = assert_refused(&image.path, &config, false);
    assert!(
        stderr.contains(&format!(
            "extends past the end of the image, which ends at byte {image_len}"
        )) && stderr.contains("truncated"),
        "{stderr}"
    );
    assert!(!stderr.contains("memory"), "{stderr}");
}

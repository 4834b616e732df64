//! config.json and WiFi flashed to real loop devices, and WiFi read back as NetworkManager reads it.

use super::*;

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

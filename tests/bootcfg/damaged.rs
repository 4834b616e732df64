//! Damaged FATs, boot partitions past the image's end, config files read with a limit.

use super::*;

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

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

mod damaged;
mod loop_devices;
mod partial_inputs;
mod refusals;

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

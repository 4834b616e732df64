//! balenaOS configuration, as a user runs it: `imprint configure` on
//! balenaOS-style images (built with sfdisk/mkfs.vfat/mcopy and in Rust) and
//! on etcher-sdk's fixtures, checked with mtools and `fsck.fat -n`; and
//! `imprint flash --config` to loop devices.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::balena_image::{self, TestImage};
use crate::support::{etcher_fixture, run_imprint, sha256_hex};

const SSID: &str = "My;SSID";
const PSK: &str = "correct horse battery";

/// The keyfile Imprint must write for [`SSID`] and [`PSK`].
const EXPECTED_KEYFILE: &str = "[connection]\nid=balena-wifi-01\ntype=wifi\n\n\
    [wifi]\nmode=infrastructure\nssid=My\\;SSID\n\n\
    [wifi-security]\nkey-mgmt=wpa-psk\npsk=correct horse battery\n\n\
    [ipv4]\nmethod=auto\n\n\
    [ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n";

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
        args.extend(["--wifi-ssid".into(), SSID.into(), "--wifi-psk".into(), PSK.into()]);
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
    let after = fs::read(configured).unwrap();
    assert_eq!(before.len(), after.len(), "the configured image has the source's size");
    let boot = source.boot_offset as usize..(source.boot_offset + source.boot_size) as usize;
    assert!(before[..boot.start] == after[..boot.start], "bytes before the boot partition changed");
    assert!(before[boot.end..] == after[boot.end..], "bytes after the boot partition changed");

    let offset = source.boot_offset;
    assert_eq!(
        String::from_utf8(balena_image::mtype(configured, offset, "::/config.json")).unwrap(),
        balena_image::FLEET_CONFIG_COMPACT
    );
    match keyfile {
        Some(keyfile) => assert_eq!(
            String::from_utf8(balena_image::mtype(
                configured,
                offset,
                "::/system-connections/balena-wifi-01"
            ))
            .unwrap(),
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
    let (clean, said) = balena_image::fsck_fat(&after[boot]);
    assert!(clean, "fsck.fat -n found problems:\n{said}");
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

//! Customising images in their own format (`--hostname`, `--user`,
//! `--ssh-key`, WiFi with its country, `--timezone`): each test image of
//! `scripts/make-custom-images` detected, flashed to two loop devices and
//! verified; the files written judged by their real readers (cloud-init,
//! bash, shellcheck, openssl, fsck.fat) and every other byte the image's.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::require_root;
use crate::support::custom_images::{
    self as ci, KEY, PSK, PSK_HEX, assert_cloud_config_valid, assert_fsck_fat,
    assert_hash_of_password, assert_shell_valid, boot_file, cloud_init_netplan, hash_in,
};
use crate::support::flashing::{PatternedDrive, assert_exit, devices, events, flash, json_events};
use crate::support::loopdev::LoopLock;

/// The options of the "done when", with the password from a file.
fn options(dir: &Path) -> Vec<String> {
    let (key, password) = ci::inputs(dir);
    [
        "--json",
        "--hostname",
        "h",
        "--user",
        "u",
        "--password-file",
        &password.display().to_string(),
        "--ssh-key",
        &key.display().to_string(),
        "--wifi-ssid",
        "s",
        "--wifi-psk",
        PSK,
        "--wifi-country",
        "GB",
        "--timezone",
        "Europe/London",
    ]
    .map(str::to_string)
    .to_vec()
}

/// Flashes image `name` to two drives; checks the run, the `start`
/// evidence, fsck.fat and the untouched bytes; returns the drives.
fn flash_two(dir: &Path, name: &str, format: &str) -> Vec<PatternedDrive> {
    let image = ci::make(dir, name);
    let bytes = fs::read(&image).unwrap();
    let drives: Vec<PatternedDrive> = (0..2)
        .map(|i| {
            PatternedDrive::create(
                dir,
                &format!("{name}-{i}.bin"),
                bytes.len() + (1 << 20),
                7 + i,
            )
        })
        .collect();
    let options = options(dir);
    let args: Vec<&str> = options.iter().map(String::as_str).collect();
    let out = flash(&image, &devices(&drives), &args);
    assert_exit(&out, 0);
    let all = json_events(&out);
    let start = events(&all, "start")[0];
    assert_eq!(start["customisation"]["format"], format, "{start}");
    assert!(
        !start["customisation"]["evidence"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{start}"
    );
    assert_eq!(events(&all, "done")[0]["ok"], 2);
    let (boot_start, boot_end) = (
        ci::BOOT_OFFSET as usize,
        (ci::BOOT_OFFSET + ci::BOOT_SIZE) as usize,
    );
    for drive in &drives {
        let now = drive.loop_device.contents();
        assert_fsck_fat(&now, &drive.name());
        assert!(
            now[..boot_start] == bytes[..boot_start],
            "{}: before the boot partition",
            drive.name()
        );
        assert!(
            now[boot_end..bytes.len()] == bytes[boot_end..],
            "{}: after the boot partition",
            drive.name()
        );
    }
    let first = &drives[0].loop_device.backing;
    let second = &drives[1].loop_device.backing;
    assert!(
        fs::read(first).unwrap()[..bytes.len()] == fs::read(second).unwrap()[..bytes.len()],
        "both drives hold the same customised bytes"
    );
    drives
}

#[test]
fn raspberry_pi_os_bookworm_gets_firstrun_sh() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = flash_two(dir.path(), "rpios-bookworm", "systemd");
    let drive = &drives[0].loop_device.backing;
    let script = boot_file(drive, "firstrun.sh");
    assert_shell_valid(dir.path(), &script);
    for expected in [
        "imager_custom set_hostname 'h'",
        &format!("imager_custom enable_ssh -k '{KEY}'"),
        &format!("imager_custom set_wlan 's' '{PSK_HEX}' 'GB'"),
        "imager_custom set_timezone 'Europe/London'",
        "userconf 'u' ",
        "rm -f /boot/firstrun.sh",
    ] {
        assert!(
            script.contains(expected),
            "{expected} missing from\n{script}"
        );
    }
    assert_hash_of_password(&hash_in(&script, "/usr/lib/userconf-pi/userconf 'u'"));
    let cmdline = boot_file(drive, "cmdline.txt");
    assert!(
        cmdline.ends_with(" init=/usr/lib/raspberrypi-sys-mods/firstboot splash plymouth.ignore-serial-consoles systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n"),
        "{cmdline:?}"
    );
}

/// The NoCloud seed of a drive: user-data and network-config pass
/// cloud-init's own checks and carry the values; returns the user-data.
fn check_seed(dir: &Path, drive: &Path) -> String {
    let user_data = boot_file(drive, "user-data");
    assert_cloud_config_valid(dir, &user_data);
    for expected in [
        "hostname: \"h\"",
        "name: \"u\"",
        "timezone: \"Europe/London\"",
        &format!("- \"{KEY}\""),
        "ssh_pwauth: false",
    ] {
        assert!(
            user_data.contains(expected),
            "{expected} missing from\n{user_data}"
        );
    }
    assert_hash_of_password(&hash_in(&user_data, " passwd: "));
    let netplan = cloud_init_netplan(dir, &boot_file(drive, "network-config"));
    for expected in [
        "wlan0:",
        &format!("password: {PSK_HEX}"),
        "regulatory-domain: GB",
        "s:",
    ] {
        assert!(
            netplan.contains(expected),
            "{expected} missing from\n{netplan}"
        );
    }
    let meta = boot_file(drive, "meta-data");
    let id = meta
        .lines()
        .find_map(|l| l.strip_prefix("instance-id: imprint-"))
        .expect("our instance-id");
    let cmdline = boot_file(drive, "cmdline.txt");
    assert!(
        cmdline.contains(&format!(
            " ds=nocloud;i=imprint-{id} cfg80211.ieee80211_regdom=GB\n"
        )),
        "{cmdline:?}"
    );
    user_data
}

#[test]
fn raspberry_pi_os_trixie_gets_a_cloud_init_seed() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = flash_two(dir.path(), "rpios-trixie", "cloudinit-rpi");
    let user_data = check_seed(dir.path(), &drives[0].loop_device.backing);
    assert!(
        user_data.starts_with("#cloud-config\n\n# This is the user-data"),
        "the image's comments stay:\n{user_data}"
    );
}

#[test]
fn ubuntu_gets_its_seed_merged() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = flash_two(dir.path(), "ubuntu", "cloudinit");
    let user_data = check_seed(dir.path(), &drives[0].loop_device.backing);
    // The image's runcmd stays, with ours after it; its default password goes.
    assert!(
        user_data.contains("runcmd:\n- [ ls, -l, / ]\n- [ systemctl, enable, --now, ssh ]\n"),
        "{user_data}"
    );
    assert!(!user_data.contains("password: ubuntu"), "{user_data}");
    let network = boot_file(&drives[0].loop_device.backing, "network-config");
    assert!(network.starts_with("# This file contains"), "{network}");
}

#[test]
fn balena_gets_hostname_and_ssh_keys_in_config_json() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives = flash_two(dir.path(), "balena", "balena");
    let drive = &drives[0].loop_device.backing;
    let config: Value = serde_json::from_str(&boot_file(drive, "config.json")).unwrap();
    assert_eq!(config["hostname"], "h");
    assert_eq!(config["os"]["sshKeys"], serde_json::json!([KEY]));
    assert_eq!(
        config["deviceType"], "raspberrypi4-64",
        "the image's config.json is the base"
    );
    let wifi = boot_file(drive, "system-connections/balena-wifi-01");
    assert!(wifi.contains("ssid=s\n"), "{wifi}");
}

#[test]
fn an_unknown_image_is_refused_naming_what_was_looked_for() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = ci::make(dir.path(), "unknown");
    let len = fs::metadata(&image).unwrap().len() as usize;
    let drives: Vec<PatternedDrive> = (0..2)
        .map(|i| PatternedDrive::create(dir.path(), &format!("d{i}.bin"), len + (1 << 20), 30 + i))
        .collect();
    let options = options(dir.path());
    let args: Vec<&str> = options.iter().map(String::as_str).collect();
    let out = flash(&image, &devices(&drives), &args);
    assert_exit(&out, 2);
    let all = json_events(&out);
    let error = events(&all, "error")[0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    for named in [
        "cannot tell",
        "device-type.json",
        "user-data",
        "cmdline.txt",
        "--format NAME",
    ] {
        assert!(error.contains(named), "{named} missing from {error}");
    }
    for drive in &drives {
        drive.assert_unchanged();
    }
}

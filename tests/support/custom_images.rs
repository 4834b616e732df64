//! The customisation tests' images (made by `scripts/make-custom-images`,
//! as a person would: sfdisk, mkfs.vfat, mtools, mkfs.ext4 -d) and the
//! oracles that judge what a customisation wrote: `cloud-init schema`,
//! cloud-init's own network-config reader (`cloud-init devel net-convert`),
//! `bash -n`, `shellcheck`, `openssl passwd -6` for the password hash,
//! `fsck.fat -n`, mtools to read the files back.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::balena_image::{fsck_fat, mtype};

/// Where the script puts the boot partition, and its size.
pub const BOOT_OFFSET: u64 = 4 << 20;
pub const BOOT_SIZE: u64 = 16 << 20;
/// The password every test's user gets, and the WPA passphrase.
pub const PASSWORD: &str = "correct horse battery";
pub const PSK: &str = "wifi passphrase";
/// PBKDF2-HMAC-SHA1(PSK, "s", 4096, 32), from python3 hashlib.pbkdf2_hmac.
pub const PSK_HEX: &str = "d1429cbb94335d0e05bfd225fced7223588fb590b4c844b7214bc776e43401e6";

/// Makes image `name` (`rpios-bookworm`, `rpios-trixie`, `ubuntu`,
/// `balena`, `unknown`) in `dir`.
pub fn make(dir: &Path, name: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-custom-images");
    let out = Command::new(script)
        .arg(dir)
        .arg(name)
        .output()
        .expect("run make-custom-images");
    assert!(
        out.status.success(),
        "make-custom-images {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join(format!("{name}.img"))
}

/// The files the customisation tests pass: a key and a password file.
pub fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let key = dir.join("k.pub");
    fs::write(&key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAKNJtD2FcWoPXSDTUlCqtxL6YfW/zxisppmC8qHYc6y me@desk\n").unwrap();
    let password = dir.join("password");
    fs::write(&password, format!("{PASSWORD}\n")).unwrap();
    (key, password)
}

/// The key line of [`inputs`].
pub const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAKNJtD2FcWoPXSDTUlCqtxL6YfW/zxisppmC8qHYc6y me@desk";

/// The file `name` of the boot partition of the image (or drive) at `path`.
pub fn boot_file(path: &Path, name: &str) -> String {
    String::from_utf8(mtype(path, BOOT_OFFSET, &format!("::/{name}"))).unwrap()
}

/// Asserts `fsck.fat -n` passes on the boot partition of `bytes`.
pub fn assert_fsck_fat(bytes: &[u8], what: &str) {
    let boot = &bytes[BOOT_OFFSET as usize..(BOOT_OFFSET + BOOT_SIZE) as usize];
    let (clean, said) = fsck_fat(boot);
    assert!(clean, "{what}: fsck.fat -n: {said}");
}

/// Asserts `hash` is a `$6$` crypt of [`PASSWORD`], as `openssl passwd -6`
/// computes it from the hash's salt.
pub fn assert_hash_of_password(hash: &str) {
    assert!(hash.starts_with("$6$"), "{hash}");
    let salt = hash.split('$').nth(2).unwrap();
    let out = Command::new("openssl")
        .args(["passwd", "-6", "-salt", salt, PASSWORD])
        .output()
        .expect("run openssl");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), hash);
}

fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} refused it: {said}");
    said
}

/// `cloud-init schema` accepts `user_data`.
pub fn assert_cloud_config_valid(dir: &Path, user_data: &str) {
    let path = dir.join("user-data.check");
    fs::write(&path, user_data).unwrap();
    run_ok(
        Command::new("cloud-init")
            .args(["schema", "--config-file"])
            .arg(&path),
        "cloud-init schema",
    );
}

/// `network_config` as cloud-init reads it and renders it for netplan.
pub fn cloud_init_netplan(dir: &Path, network_config: &str) -> String {
    let path = dir.join("network-config.check");
    fs::write(&path, network_config).unwrap();
    let out = dir.join("net-convert");
    run_ok(
        Command::new("cloud-init")
            .args([
                "devel",
                "net-convert",
                "-k",
                "yaml",
                "-D",
                "debian",
                "-O",
                "netplan",
                "-p",
            ])
            .arg(&path)
            .arg("-d")
            .arg(&out),
        "cloud-init devel net-convert",
    );
    fs::read_to_string(out.join("etc/netplan/50-cloud-init.yaml")).unwrap()
}

/// `bash -n` and `shellcheck` accept `script`.
pub fn assert_shell_valid(dir: &Path, script: &str) {
    let path = dir.join("firstrun.check.sh");
    fs::write(&path, script).unwrap();
    run_ok(Command::new("bash").arg("-n").arg(&path), "bash -n");
    run_ok(Command::new("shellcheck").arg(&path), "shellcheck");
}

/// The `$6$` hash in a line of `text` holding `marker`, shell escapes undone.
pub fn hash_in(text: &str, marker: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} in {text}"));
    let line = line.replace("\\$", "$");
    let start = line
        .find("$6$")
        .unwrap_or_else(|| panic!("no hash in {line}"));
    line[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "./$".contains(*c))
        .collect()
}

//! The `cloudinit` and `cloudinit-rpi` formats: cloud-init's NoCloud seed
//! on the boot partition — `user-data` (a cloud-config), `network-config`
//! (netplan version 2) and `meta-data` — in the shape Raspberry Pi Imager
//! writes, each merged into the file the image already ships
//! (`yaml_blocks`): the image's other settings stay. Where the image has a
//! `cmdline.txt`, it gains `ds=nocloud;i=INSTANCE` (so cloud-init finds the
//! seed and keeps its cache across reboots) and the WiFi country as the
//! kernel's regulatory domain.

use super::model::Model;
use super::quote::{yaml, yaml_bytes};
use super::wpa_psk::wpa_psk_hex;
use super::yaml_blocks::{self, Block};
use super::{CustomiseError, FileOut, cmdline};

/// Lists our items are appended to rather than replacing the image's.
const APPEND: [&str; 1] = ["runcmd"];

/// The files of the seed, merged with the image's (`read` gives the
/// image's file of a name, if any).
pub(crate) fn files(
    model: &Model,
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<Vec<FileOut>, CustomiseError> {
    let mut out = Vec::new();
    let image_user_data = read("user-data");
    out.push(FileOut::new(
        "user-data",
        merged_user_data(model, image_user_data.as_deref())?,
    ));
    if let Some(config) = network_config(model) {
        let merged = merged_network_config(&config, read("network-config").as_deref())?;
        out.push(FileOut::new("network-config", merged));
    }
    let meta = format!("instance-id: {}\n", model.instance_id);
    out.push(FileOut::new(
        "meta-data",
        merge("meta-data", read("meta-data").as_deref(), &meta, &[])?,
    ));
    if let Some(line) = read("cmdline.txt") {
        let mut words = vec![format!("ds=nocloud;i={}", model.instance_id)];
        if let Some(country) = &model.wifi_country {
            words.push(format!("cfg80211.ieee80211_regdom={country}"));
        }
        out.push(FileOut::new(
            "cmdline.txt",
            cmdline::with_words(&line, &words),
        ));
    }
    Ok(out)
}

fn merged_user_data(model: &Model, image: Option<&[u8]>) -> Result<Vec<u8>, CustomiseError> {
    let text = image.map(String::from_utf8_lossy).unwrap_or_default();
    let has_content = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header = text
        .lines()
        .next()
        .is_some_and(|l| l.trim_end() == "#cloud-config");
    if has_content && !header {
        return Err(CustomiseError::CannotMerge {
            file: "user-data".to_string(),
            reason: "the image's user-data is not a #cloud-config document (a script or a \
                     MIME multipart); Imprint does not replace it"
                .to_string(),
        });
    }
    let image = if header {
        text.into_owned()
    } else {
        format!("#cloud-config\n{text}")
    };
    merge(
        "user-data",
        Some(image.as_bytes()),
        &user_data(model),
        &APPEND,
    )
}

/// `ours` merged into the image's `file` (`image`), as bytes.
fn merge(
    file: &str,
    image: Option<&[u8]>,
    ours: &str,
    append: &[&str],
) -> Result<Vec<u8>, CustomiseError> {
    let cannot = |reason: String| CustomiseError::CannotMerge {
        file: file.to_string(),
        reason,
    };
    let image = String::from_utf8_lossy(image.unwrap_or_default());
    let image = yaml_blocks::split(&image).map_err(cannot)?;
    let ours = yaml_blocks::split(ours).expect("Imprint's own YAML is in block style");
    Ok(yaml_blocks::join(&yaml_blocks::merge(image, ours, append)).into_bytes())
}

/// Our cloud-config (without its header line).
pub(crate) fn user_data(model: &Model) -> String {
    let mut s = String::new();
    if let Some(hostname) = &model.hostname {
        s.push_str(&format!(
            "hostname: {}\nmanage_etc_hosts: true\n",
            yaml(hostname)
        ));
    }
    if let Some(timezone) = &model.timezone {
        s.push_str(&format!("timezone: {}\n", yaml(timezone)));
    }
    if let Some(locale) = &model.locale {
        s.push_str(&format!("locale: {}\n", yaml(locale)));
    }
    if let Some(keyboard) = &model.keyboard {
        s.push_str(&format!(
            "keyboard:\n  model: pc105\n  layout: {}\n",
            yaml(keyboard)
        ));
    }
    user_part(&mut s, model);
    let ssh = !model.ssh_keys.is_empty() || model.ssh_password_login;
    if ssh {
        s.push_str(&format!("ssh_pwauth: {}\n", model.ssh_password_login));
    }
    let regdom_only = model.wifi.is_none() && model.wifi_country.is_some();
    if ssh || regdom_only {
        s.push_str("runcmd:\n");
        if ssh {
            // cloud-init installs keys but does not start sshd, which
            // Raspberry Pi OS ships disabled.
            s.push_str("  - [ systemctl, enable, --now, ssh ]\n");
        }
        if regdom_only {
            s.push_str("  - [ rfkill, unblock, wifi ]\n");
        }
    }
    s
}

fn user_part(s: &mut String, model: &Model) {
    let Some(user) = &model.user else {
        return;
    };
    // Singular `user:` renames the distro's default user and keeps its
    // groups (sudo, adm, gpio…); plural `users:` would make a bare one.
    s.push_str(&format!(
        "user:\n  name: {}\n  shell: /bin/bash\n",
        yaml(&user.name)
    ));
    match &user.password_hash {
        Some(hash) => {
            // `sudo: null`: no NOPASSWD rule from the distro's default user;
            // the password is asked, as on a desktop. The image's default
            // password (Ubuntu's `chpasswd`) is replaced, not expired.
            s.push_str(&format!(
                "  lock_passwd: false\n  passwd: {}\n  sudo: null\n",
                yaml(hash)
            ));
        }
        None => s.push_str("  lock_passwd: true\n"),
    }
    if !model.ssh_keys.is_empty() {
        s.push_str("  ssh_authorized_keys:\n");
        for key in &model.ssh_keys {
            s.push_str(&format!("    - {}\n", yaml(key)));
        }
    }
    if user.password_hash.is_some() {
        s.push_str("chpasswd:\n  expire: false\n");
    }
}

/// Our netplan body (unwrapped), when there is a WiFi network.
fn network_config(model: &Model) -> Option<String> {
    let wifi = model.wifi.as_ref()?;
    let mut s = String::from(
        "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n    dhcp6: true\n    optional: true\n",
    );
    s.push_str("wifis:\n  wlan0:\n    dhcp4: true\n");
    if let Some(country) = &model.wifi_country {
        s.push_str(&format!("    regulatory-domain: {}\n", yaml(country)));
    }
    s.push_str("    optional: true\n    access-points:\n");
    let ssid = wifi.profile.ssid();
    s.push_str(&format!("      {}:\n", yaml_bytes(ssid)));
    if wifi.hidden {
        s.push_str("        hidden: true\n");
    }
    match wifi.profile.psk() {
        Some(psk) => s.push_str(&format!(
            "        password: {}\n",
            yaml(&wpa_psk_hex(psk, ssid))
        )),
        None => s.push_str("        auth:\n          key-management: none\n"),
    }
    Some(s)
}

/// Our netplan merged into the image's `network-config`: inside its
/// `network:` when it has one; the image's own `ethernets` stay.
fn merged_network_config(ours: &str, image: Option<&[u8]>) -> Result<Vec<u8>, CustomiseError> {
    let cannot = |reason: String| CustomiseError::CannotMerge {
        file: "network-config".to_string(),
        reason,
    };
    let text = String::from_utf8_lossy(image.unwrap_or_default()).into_owned();
    let mut blocks = yaml_blocks::split(&text).map_err(cannot)?;
    let wrapped = blocks
        .iter()
        .position(|b| b.key.as_deref() == Some("network"));
    let has_body = blocks.iter().any(|b| b.key.is_some());
    let keep_ethernets =
        |image: &[Block]| image.iter().any(|b| b.key.as_deref() == Some("ethernets"));
    let ours_without_ethernets = |image: &[Block]| {
        let mut ours = yaml_blocks::split(ours).expect("Imprint's own YAML is in block style");
        if keep_ethernets(image) {
            ours.retain(|b| b.key.as_deref() != Some("ethernets"));
        }
        ours
    };
    if let Some(at) = wrapped {
        let (body, indent) = yaml_blocks::unwrap_body(&blocks[at]).map_err(cannot)?;
        let inner = yaml_blocks::split(&body).map_err(cannot)?;
        let ours = ours_without_ethernets(&inner);
        let merged = yaml_blocks::join(&yaml_blocks::merge(inner, ours, &[]));
        blocks[at] = yaml_blocks::wrap_body("network", &merged, indent);
        return Ok(yaml_blocks::join(&blocks).into_bytes());
    }
    if has_body {
        let ours = ours_without_ethernets(&blocks);
        return Ok(yaml_blocks::join(&yaml_blocks::merge(blocks, ours, &[])).into_bytes());
    }
    // Only comments (or nothing): ours under `network:`, as Imager writes it.
    blocks.push(yaml_blocks::wrap_body("network", ours, 2));
    Ok(yaml_blocks::join(&blocks).into_bytes())
}

#[cfg(test)]
#[path = "cloudinit_tests.rs"]
mod tests;

//! The `systemd` format (Raspberry Pi OS Bookworm): a `firstrun.sh` on the
//! boot partition, run once by systemd because `cmdline.txt` says
//! `systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot
//! systemd.unit=kernel-command-line.target`. The script has the shape
//! Raspberry Pi Imager gives it: each setting through the image's own
//! first-boot helpers (`imager_custom`, `userconf`) when it has them, else
//! by hand; then it removes itself and its `cmdline.txt` words.

use super::model::Model;
use super::quote::{shell, shell_hash};
use super::wpa_psk::wpa_psk_hex;
use super::{CustomiseError, FileOut, cmdline};

/// The script's path in the boot partition, and as the running system sees it.
pub(crate) const SCRIPT: &str = "firstrun.sh";
const HELPER: &str = "/usr/lib/raspberrypi-sys-mods/imager_custom";
const USERCONF: &str = "/usr/lib/userconf-pi/userconf";

/// The words `cmdline.txt` gains.
pub(crate) fn cmdline_words() -> Vec<String> {
    [
        "systemd.run=/boot/firstrun.sh",
        "systemd.run_success_action=reboot",
        "systemd.unit=kernel-command-line.target",
    ]
    .map(str::to_string)
    .to_vec()
}

/// `firstrun.sh` and the edited `cmdline.txt` (the image's, `cmdline`).
pub(crate) fn files(
    model: &Model,
    cmdline: Option<Vec<u8>>,
) -> Result<Vec<FileOut>, CustomiseError> {
    let cmdline = cmdline.ok_or(CustomiseError::MissingFile {
        file: "cmdline.txt",
        format: "systemd",
    })?;
    if model.ssh_password_login && !model.ssh_keys.is_empty() {
        return Err(CustomiseError::Invalid {
            setting: "--ssh-password-login",
            reason: "Raspberry Pi OS's first-boot helper turns SSH password logins off when keys \
                     are given: use keys or passwords, not both, with the systemd format"
                .to_string(),
        });
    }
    Ok(vec![
        FileOut::new(SCRIPT, script(model).into_bytes()),
        FileOut::new(
            "cmdline.txt",
            cmdline::with_words(&cmdline, &cmdline_words()),
        ),
    ])
}

/// The script for `model`.
pub(crate) fn script(model: &Model) -> String {
    let mut s = String::from(
        "#!/bin/bash\n# Written by Imprint: applies the customisation once, at first boot.\n\nset +e\n\n",
    );
    if let Some(hostname) = &model.hostname {
        hostname_part(&mut s, hostname);
    }
    s.push_str("FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)\n");
    s.push_str("FIRSTUSERHOME=$(getent passwd 1000 | cut -d: -f6)\n");
    ssh_part(&mut s, model);
    user_part(&mut s, model);
    wifi_part(&mut s, model);
    locale_part(&mut s, model);
    s.push_str("rm -f /boot/firstrun.sh\n");
    s.push_str("sed -i 's| systemd.run.*||g' /boot/cmdline.txt\n");
    s.push_str("exit 0\n");
    s
}

fn hostname_part(s: &mut String, hostname: &str) {
    let h = shell(hostname);
    s.push_str(&format!(
        "CURRENT_HOSTNAME=$(tr -d \" \\t\\n\\r\" </etc/hostname)\n\
         if [ -f {HELPER} ]; then\n   {HELPER} set_hostname {h}\n\
         else\n   echo {h} >/etc/hostname\n   \
         sed -i \"s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t\"{h}\"/g\" /etc/hosts\nfi\n"
    ));
}

fn ssh_part(s: &mut String, model: &Model) {
    if !model.ssh_keys.is_empty() {
        let keys: Vec<String> = model.ssh_keys.iter().map(|k| shell(k)).collect();
        s.push_str(&format!(
            "if [ -f {HELPER} ]; then\n   {HELPER} enable_ssh -k {}\nelse\n",
            keys.join(" ")
        ));
        s.push_str("   install -o \"$FIRSTUSER\" -m 700 -d \"$FIRSTUSERHOME/.ssh\"\n");
        s.push_str("   cat >\"$FIRSTUSERHOME/.ssh/authorized_keys\" <<'EOF'\n");
        for key in &model.ssh_keys {
            s.push_str(key);
            s.push('\n');
        }
        s.push_str("EOF\n");
        s.push_str("   chown \"$FIRSTUSER:$FIRSTUSER\" \"$FIRSTUSERHOME/.ssh/authorized_keys\"\n");
        s.push_str("   chmod 600 \"$FIRSTUSERHOME/.ssh/authorized_keys\"\n");
        s.push_str("   echo 'PasswordAuthentication no' >>/etc/ssh/sshd_config\n");
        s.push_str("   systemctl enable ssh\nfi\n");
    } else if model.ssh_password_login {
        s.push_str(&format!(
            "if [ -f {HELPER} ]; then\n   {HELPER} enable_ssh\nelse\n   systemctl enable ssh\nfi\n"
        ));
    }
}

fn user_part(s: &mut String, model: &Model) {
    let Some(user) = &model.user else {
        return;
    };
    let name = shell(&user.name);
    let hash = match &user.password_hash {
        Some(hash) => shell_hash(hash),
        None => shell(""),
    };
    s.push_str(&format!(
        "if [ -f {USERCONF} ]; then\n   {USERCONF} {name} {hash}\nelse\n"
    ));
    if user.password_hash.is_some() {
        s.push_str(&format!("   echo \"$FIRSTUSER:\"{hash} | chpasswd -e\n"));
    }
    s.push_str(&format!(
        "   if [ \"$FIRSTUSER\" != {name} ]; then\n      usermod -l {name} \"$FIRSTUSER\"\n      \
         usermod -m -d {home} {name}\n      groupmod -n {name} \"$FIRSTUSER\"\n      \
         if grep -q \"^autologin-user=\" /etc/lightdm/lightdm.conf ; then\n         \
         sed /etc/lightdm/lightdm.conf -i -e \"s/^autologin-user=.*/autologin-user=\"{name}\"/\"\n      fi\n      \
         if [ -f /etc/systemd/system/getty@tty1.service.d/autologin.conf ]; then\n         \
         sed /etc/systemd/system/getty@tty1.service.d/autologin.conf -i -e \"s/$FIRSTUSER/\"{name}\"/\"\n      fi\n      \
         if [ -f /etc/sudoers.d/010_pi-nopasswd ]; then\n         \
         sed -i \"s/^$FIRSTUSER /\"{name}\" /\" /etc/sudoers.d/010_pi-nopasswd\n      fi\n   fi\nfi\n",
        home = shell(&format!("/home/{}", user.name)),
    ));
}

fn wifi_part(s: &mut String, model: &Model) {
    let country = model.wifi_country.as_deref().unwrap_or("");
    let Some(wifi) = &model.wifi else {
        if !country.is_empty() {
            s.push_str("rfkill unblock wifi\n");
            s.push_str("for filename in /var/lib/systemd/rfkill/*:wlan ; do\n  echo 0 > \"$filename\"\ndone\n");
        }
        return;
    };
    let ssid = wifi.profile.ssid();
    let psk = wifi.profile.psk().map(|p| wpa_psk_hex(p, ssid));
    // The helper takes the SSID as a shell word: only text without control
    // characters; other SSIDs are written as hex for wpa_supplicant.
    let as_text = std::str::from_utf8(ssid)
        .ok()
        .filter(|t| !t.chars().any(char::is_control));
    match as_text {
        Some(text) => s.push_str(&format!(
            "if [ -f {HELPER} ]; then\n   {HELPER} set_wlan {}{} {} {}\nelse\n",
            if wifi.hidden { "-h " } else { "" },
            shell(text),
            shell(psk.as_deref().unwrap_or("")),
            shell(country)
        )),
        None => s.push_str("if false; then\n   :\nelse\n"),
    }
    s.push_str("cat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'\n");
    if !country.is_empty() {
        s.push_str(&format!("country={country}\n"));
    }
    s.push_str("ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev\nap_scan=1\n\nupdate_config=1\nnetwork={\n");
    if wifi.hidden {
        s.push_str("\tscan_ssid=1\n");
    }
    match as_text.filter(|t| !t.contains(['"', '\\'])) {
        Some(text) => s.push_str(&format!("\tssid=\"{text}\"\n")),
        None => s.push_str(&format!("\tssid={}\n", crate::hex::hex(ssid))),
    }
    match &psk {
        Some(psk) => s.push_str(&format!("\tpsk={psk}\n")),
        None => s.push_str("\tkey_mgmt=NONE\n"),
    }
    s.push_str("}\nWPAEOF\n");
    s.push_str("   chmod 600 /etc/wpa_supplicant/wpa_supplicant.conf\n   rfkill unblock wifi\n");
    s.push_str("   for filename in /var/lib/systemd/rfkill/*:wlan ; do\n       echo 0 > \"$filename\"\n   done\nfi\n");
}

fn locale_part(s: &mut String, model: &Model) {
    if let Some(locale) = &model.locale {
        let l = shell(locale);
        s.push_str(&format!(
            "if [ -f /etc/locale.gen ]; then\n   sed -i \"s/^# *\\({}\\)/\\1/\" /etc/locale.gen\n   locale-gen\nfi\nupdate-locale LANG={l}\n",
            locale.replace('.', "\\.")
        ));
    }
    if model.keyboard.is_none() && model.timezone.is_none() {
        return;
    }
    s.push_str(&format!("if [ -f {HELPER} ]; then\n"));
    if let Some(keyboard) = &model.keyboard {
        s.push_str(&format!("   {HELPER} set_keymap {}\n", shell(keyboard)));
    }
    if let Some(timezone) = &model.timezone {
        s.push_str(&format!("   {HELPER} set_timezone {}\n", shell(timezone)));
    }
    s.push_str("else\n");
    if let Some(timezone) = &model.timezone {
        s.push_str(&format!(
            "   rm -f /etc/localtime\n   echo {} >/etc/timezone\n   dpkg-reconfigure -f noninteractive tzdata\n",
            shell(timezone)
        ));
    }
    if let Some(keyboard) = &model.keyboard {
        s.push_str(&format!(
            "cat >/etc/default/keyboard <<'KBEOF'\nXKBMODEL=\"pc105\"\nXKBLAYOUT=\"{keyboard}\"\nXKBVARIANT=\"\"\nXKBOPTIONS=\"\"\n\nKBEOF\n   dpkg-reconfigure -f noninteractive keyboard-configuration\n"
        ));
    }
    s.push_str("fi\n");
}

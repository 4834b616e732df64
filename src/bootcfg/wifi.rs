//! The WiFi profile balenaOS picks up from its boot partition: a
//! NetworkManager keyfile at `/system-connections/balena-wifi-01`.
//!
//! Values are written byte for byte as NetworkManager's own keyfile writer
//! writes them (`ssid_writer` in libnm-core's nm-keyfile.c, then GLib's
//! `g_key_file_set_string`), so that NetworkManager, which reads the file
//! with GLib's keyfile parser, gets back exactly the SSID the user gave.

use super::BootConfigError;

/// Directory of NetworkManager profiles in the boot partition.
pub(crate) const CONNECTIONS_DIR: &str = "system-connections";
/// The profile's file name, also its connection id.
pub(crate) const PROFILE_NAME: &str = "balena-wifi-01";

/// A validated WiFi network to provision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WifiProfile {
    /// An SSID is bytes (802.11 does not require UTF-8).
    ssid: Vec<u8>,
    psk: Option<String>,
}

impl WifiProfile {
    /// Checks the SSID (1–32 bytes) and the WPA passphrase (8–63 printable
    /// ASCII characters) when there is one.
    pub fn new(ssid: &[u8], psk: Option<&str>) -> Result<WifiProfile, BootConfigError> {
        let invalid = |reason: String| BootConfigError::InvalidWifi { reason };
        if ssid.is_empty() || ssid.len() > 32 {
            return Err(invalid(format!(
                "the SSID must be 1 to 32 bytes long, \"{}\" is {} bytes",
                ssid.escape_ascii(),
                ssid.len()
            )));
        }
        if let Some(psk) = psk {
            let chars = psk.chars().count();
            if !(8..=63).contains(&chars) {
                return Err(invalid(format!(
                    "the WiFi key must be 8 to 63 characters long, it is {chars}"
                )));
            }
            if !psk.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
                return Err(invalid(
                    "the WiFi key must be printable ASCII characters (a WPA passphrase)"
                        .to_string(),
                ));
            }
        }
        Ok(WifiProfile {
            ssid: ssid.to_vec(),
            psk: psk.map(str::to_string),
        })
    }

    /// The network's name, as bytes.
    pub(crate) fn ssid(&self) -> &[u8] {
        &self.ssid
    }

    /// The WPA passphrase; `None` for an open network.
    pub(crate) fn psk(&self) -> Option<&str> {
        self.psk.as_deref()
    }

    /// The keyfile, in the section order NetworkManager writes.
    pub fn keyfile(&self) -> String {
        let mut out = format!(
            "[connection]\nid={PROFILE_NAME}\ntype=wifi\n\n[wifi]\nmode=infrastructure\nssid={}\n\n",
            keyfile_ssid(&self.ssid)
        );
        if let Some(psk) = &self.psk {
            out.push_str(&format!(
                "[wifi-security]\nkey-mgmt=wpa-psk\npsk={}\n\n",
                keyfile_string(psk)
            ));
        }
        out.push_str("[ipv4]\nmethod=auto\n\n[ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n");
        out
    }
}

/// An SSID as NetworkManager's `ssid_writer` writes it: when every byte is
/// printable ASCII, a string with each `;` escaped as `\;` (so that "16;17;"
/// is not read back as a byte list), stored with `g_key_file_set_string` —
/// which escapes that backslash again, so the file holds `\\;`; anything
/// else as a list of decimal bytes each followed by `;`.
fn keyfile_ssid(ssid: &[u8]) -> String {
    if ssid.iter().all(|b| (0x20..=0x7e).contains(b)) {
        // Printable ASCII, so this is the string itself.
        let text = String::from_utf8_lossy(ssid);
        keyfile_string(&text.replace(';', "\\;"))
    } else {
        ssid.iter().map(|b| format!("{b};")).collect()
    }
}

/// A string value as `g_key_file_set_string` writes it: every leading space
/// as `\s` (GLib's parser strips leading whitespace), a backslash as `\\`,
/// and the control characters GLib escapes. (NetworkManager sends only
/// printable ASCII here, but the escaping is total anyway.)
fn keyfile_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    let mut leading = true;
    for c in value.chars() {
        match c {
            ' ' if leading => out.push_str("\\s"),
            '\t' if leading => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
        leading = leading && (c == ' ' || c == '\t');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_keyfile_of_the_design() {
        let profile = WifiProfile::new(b"My;SSID", Some("correct horse")).unwrap();
        assert_eq!(
            profile.keyfile(),
            "[connection]\nid=balena-wifi-01\ntype=wifi\n\n\
             [wifi]\nmode=infrastructure\nssid=My\\\\;SSID\n\n\
             [wifi-security]\nkey-mgmt=wpa-psk\npsk=correct horse\n\n\
             [ipv4]\nmethod=auto\n\n\
             [ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n"
        );
    }

    #[test]
    fn an_open_network_has_no_security_section() {
        let keyfile = WifiProfile::new(b"cafe", None).unwrap().keyfile();
        assert!(!keyfile.contains("wifi-security"), "{keyfile}");
        assert!(keyfile.contains("\nssid=cafe\n"));
    }

    #[test]
    fn escapes_ssids_as_network_manager_does() {
        // Expected values are what NetworkManager's ssid_writer followed by
        // GLib 2.74's g_key_file_set_string write.
        assert_eq!(keyfile_ssid(b"a;b;"), "a\\\\;b\\\\;");
        assert_eq!(keyfile_ssid(b"  lead"), "\\s\\slead");
        assert_eq!(keyfile_ssid(b"trail  "), "trail  ");
        assert_eq!(keyfile_ssid(b"back\\slash"), "back\\\\slash");
        assert_eq!(keyfile_ssid(b"\\;"), "\\\\\\\\;");
        assert_eq!(keyfile_ssid("Café".as_bytes()), "67;97;102;195;169;");
        assert_eq!(keyfile_ssid(b"tab\there"), "116;97;98;9;104;101;114;101;");
        assert_eq!(keyfile_ssid(b"\xff\x00"), "255;0;");
    }

    #[test]
    fn checks_key_and_ssid_lengths() {
        assert!(WifiProfile::new(b"n", Some("short")).is_err());
        assert!(WifiProfile::new(b"n", Some(&"k".repeat(64))).is_err());
        assert!(WifiProfile::new(b"n", Some(&"k".repeat(63))).is_ok());
        assert!(WifiProfile::new(b"n", Some("12345678")).is_ok());
        assert!(WifiProfile::new(b"", None).is_err());
        assert!(WifiProfile::new(&[b's'; 33], None).is_err());
        assert!(WifiProfile::new(&[0xff; 32], None).is_ok());
        assert!(WifiProfile::new(b"n", Some("clé-secrète")).is_err());
    }
}

//! The WiFi profile balenaOS picks up from its boot partition: a
//! NetworkManager keyfile at `/system-connections/balena-wifi-01`.

use super::BootConfigError;

/// Directory of NetworkManager profiles in the boot partition.
pub const CONNECTIONS_DIR: &str = "system-connections";
/// The profile's file name, also its connection id.
pub const PROFILE_NAME: &str = "balena-wifi-01";

/// A validated WiFi network to provision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WifiProfile {
    ssid: String,
    psk: Option<String>,
}

impl WifiProfile {
    /// Checks the SSID (1–32 bytes) and the WPA passphrase (8–63 printable
    /// ASCII characters) when there is one.
    pub fn new(ssid: &str, psk: Option<&str>) -> Result<WifiProfile, BootConfigError> {
        let invalid = |reason: String| BootConfigError::InvalidWifi { reason };
        if ssid.is_empty() || ssid.len() > 32 {
            return Err(invalid(format!(
                "the SSID must be 1 to 32 bytes long, {:?} is {} bytes",
                ssid,
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
            ssid: ssid.to_string(),
            psk: psk.map(str::to_string),
        })
    }

    /// The keyfile, in the section order NetworkManager writes.
    pub fn keyfile(&self) -> String {
        let mut out = format!(
            "[connection]\nid={PROFILE_NAME}\ntype=wifi\n\n[wifi]\nmode=infrastructure\nssid={}\n\n",
            keyfile_ssid(self.ssid.as_bytes())
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

/// An SSID as NetworkManager writes it: printable ASCII as a string with
/// `;` escaped as `\;` (so that "16;17;" is not read as bytes), anything
/// else as a list of decimal bytes each followed by `;`.
fn keyfile_ssid(ssid: &[u8]) -> String {
    if ssid.iter().all(|b| (0x20..=0x7e).contains(b)) {
        let escaped: String = String::from_utf8_lossy(ssid).replace(';', "\\;");
        keyfile_escape_keeping(&escaped, "\\;")
    } else {
        ssid.iter().map(|b| format!("{b};")).collect()
    }
}

/// A printable string value as GKeyFile writes it: a leading space as `\s`,
/// a backslash as `\\`.
fn keyfile_string(value: &str) -> String {
    keyfile_escape_keeping(value, "")
}

/// [`keyfile_string`], except that occurrences of `keep` (an escape already
/// made) are written as they are.
fn keyfile_escape_keeping(value: &str, keep: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        if !keep.is_empty() && rest.starts_with(keep) {
            out.push_str(keep);
            rest = &rest[keep.len()..];
            continue;
        }
        match c {
            ' ' if out.is_empty() => out.push_str("\\s"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_keyfile_of_the_design() {
        let profile = WifiProfile::new("My;SSID", Some("correct horse")).unwrap();
        assert_eq!(
            profile.keyfile(),
            "[connection]\nid=balena-wifi-01\ntype=wifi\n\n\
             [wifi]\nmode=infrastructure\nssid=My\\;SSID\n\n\
             [wifi-security]\nkey-mgmt=wpa-psk\npsk=correct horse\n\n\
             [ipv4]\nmethod=auto\n\n\
             [ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n"
        );
    }

    #[test]
    fn an_open_network_has_no_security_section() {
        let keyfile = WifiProfile::new("cafe", None).unwrap().keyfile();
        assert!(!keyfile.contains("wifi-security"), "{keyfile}");
        assert!(keyfile.contains("\nssid=cafe\n"));
    }

    #[test]
    fn escapes_ssids_as_network_manager_does() {
        assert_eq!(keyfile_ssid(b"a;b;"), "a\\;b\\;");
        assert_eq!(keyfile_ssid(b" lead"), "\\slead");
        assert_eq!(keyfile_ssid(b"back\\slash"), "back\\\\slash");
        assert_eq!(keyfile_ssid("Café".as_bytes()), "67;97;102;195;169;");
        assert_eq!(keyfile_ssid(b"tab\there"), "116;97;98;9;104;101;114;101;");
    }

    #[test]
    fn checks_key_and_ssid_lengths() {
        assert!(WifiProfile::new("n", Some("short")).is_err());
        assert!(WifiProfile::new("n", Some(&"k".repeat(64))).is_err());
        assert!(WifiProfile::new("n", Some(&"k".repeat(63))).is_ok());
        assert!(WifiProfile::new("n", Some("12345678")).is_ok());
        assert!(WifiProfile::new("", None).is_err());
        assert!(WifiProfile::new(&"s".repeat(33), None).is_err());
        assert!(WifiProfile::new("n", Some("clé-secrète")).is_err());
    }
}

//! The one customisation model every format writes from: hostname, user
//! and password hash, SSH, WiFi with its country, locale, timezone,
//! keyboard — validated once, before anything is written. Built from plain
//! options ([`CustomiseOptions`]: the command line's flags, a profile file,
//! later the app's dialog) by [`Model::new`]; the password becomes its hash
//! there and the plain text is dropped with the options.

use std::fmt;
use std::path::PathBuf;

use super::format::Format;
use super::{CustomiseError, countries, password, ssh_key, validate};
use crate::bootcfg::WifiProfile;

/// A secret typed by the user: never printed, never written as it is.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// What the user asks for, as plain options (before validation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomiseOptions {
    /// `--format`: the format to write, instead of the one detected.
    pub format: Option<Format>,
    /// May hold `{n}` and `{serial}`, filled per drive.
    pub hostname: Option<String>,
    pub user: Option<String>,
    /// The user's password, in memory only until it is hashed.
    pub password: Option<Secret>,
    /// Files of OpenSSH public keys (`--ssh-key`).
    pub ssh_key_files: Vec<PathBuf>,
    /// Public keys given inline (a profile's `ssh_keys`).
    pub ssh_keys: Vec<String>,
    /// Let SSH accept passwords (with keys, only keys are accepted).
    pub ssh_password_login: bool,
    pub wifi_country: Option<String>,
    /// The WiFi network does not broadcast its name.
    pub wifi_hidden: bool,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub keyboard: Option<String>,
}

impl CustomiseOptions {
    /// Whether any customisation is asked for.
    pub fn is_empty(&self) -> bool {
        *self == CustomiseOptions::default()
    }
}

/// The login user to set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// SHA-512 crypt (`$6$…`); `None`: no password (the account is locked
    /// for password logins and reached with an SSH key).
    pub password_hash: Option<String>,
}

/// The WiFi network to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wifi {
    pub profile: WifiProfile,
    pub hidden: bool,
}

/// A validated customisation: the same model gives the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The hostname; with placeholders until [`Model::for_drive`].
    pub hostname: Option<String>,
    pub user: Option<User>,
    pub ssh_keys: Vec<String>,
    pub ssh_password_login: bool,
    pub wifi: Option<Wifi>,
    /// ISO 3166-1 alpha-2, upper case.
    pub wifi_country: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub keyboard: Option<String>,
    /// cloud-init's `instance-id`: random, drawn once per run, so a
    /// first boot always applies the seed and the run's bytes are fixed.
    pub instance_id: String,
}

/// The placeholders a hostname may hold.
pub const HOSTNAME_PLACEHOLDERS: [&str; 2] = ["{n}", "{serial}"];

impl Model {
    /// Validates `options` (and the WiFi network of the run's `--wifi-*`),
    /// reads the key files and hashes the password.
    pub fn new(
        options: &CustomiseOptions,
        wifi: Option<WifiProfile>,
    ) -> Result<Model, CustomiseError> {
        let invalid =
            |setting: &'static str| move |reason| CustomiseError::Invalid { setting, reason };
        if let Some(hostname) = &options.hostname {
            // Shape only, with sample values; each drive's is checked again.
            let sample = hostname.replace("{n}", "1").replace("{serial}", "serial");
            validate::hostname(&sample).map_err(invalid("--hostname"))?;
        }
        let user = user(options)?;
        let mut ssh_keys = Vec::new();
        for path in &options.ssh_key_files {
            ssh_keys.extend(read_keys(path)?);
        }
        for key in &options.ssh_keys {
            ssh_keys.extend(ssh_key::parse_keys(key).map_err(invalid("ssh_keys"))?);
        }
        let wifi_country = options
            .wifi_country
            .as_deref()
            .map(|code| {
                countries::country_code(code).ok_or_else(|| CustomiseError::Invalid {
                    setting: "--wifi-country",
                    reason: format!(
                        "{code:?} is not an ISO 3166-1 country code: use two letters such as GB, US or DE"
                    ),
                })
            })
            .transpose()?;
        let check = |value: &Option<String>, setting, rule: fn(&str) -> Result<(), String>| {
            value
                .as_deref()
                .map(rule)
                .transpose()
                .map_err(invalid(setting))
        };
        check(&options.locale, "--locale", validate::locale)?;
        check(&options.timezone, "--timezone", validate::timezone)?;
        check(&options.keyboard, "--keyboard", validate::keyboard)?;
        if wifi.is_none() && options.wifi_hidden {
            return Err(CustomiseError::Invalid {
                setting: "--wifi-hidden",
                reason: "a hidden network needs its name: add --wifi-ssid".to_string(),
            });
        }
        Ok(Model {
            hostname: options.hostname.clone(),
            user,
            ssh_keys,
            ssh_password_login: options.ssh_password_login,
            wifi: wifi.map(|profile| Wifi {
                profile,
                hidden: options.wifi_hidden,
            }),
            wifi_country,
            locale: options.locale.clone(),
            timezone: options.timezone.clone(),
            keyboard: options.keyboard.clone(),
            instance_id: new_instance_id(),
        })
    }

    /// Whether the hostname differs per drive.
    pub fn is_per_drive(&self) -> bool {
        self.hostname
            .as_deref()
            .is_some_and(|h| HOSTNAME_PLACEHOLDERS.iter().any(|p| h.contains(p)))
    }

    /// This model for one drive, with `hostname` (its placeholders filled,
    /// or a CSV row's) checked.
    pub fn for_drive(&self, hostname: Option<String>) -> Result<Model, CustomiseError> {
        if let Some(hostname) = &hostname {
            validate::hostname(hostname).map_err(|reason| CustomiseError::Invalid {
                setting: "the drive's hostname",
                reason,
            })?;
        }
        Ok(Model {
            hostname,
            ..self.clone()
        })
    }
}

fn user(options: &CustomiseOptions) -> Result<Option<User>, CustomiseError> {
    let Some(name) = &options.user else {
        if options.password.is_some() {
            return Err(CustomiseError::Invalid {
                setting: "--password-file",
                reason: "a password needs the user it is for: add --user NAME".to_string(),
            });
        }
        return Ok(None);
    };
    validate::user_name(name).map_err(|reason| CustomiseError::Invalid {
        setting: "--user",
        reason,
    })?;
    let password_hash = match &options.password {
        Some(Secret(plain)) if plain.trim_end_matches(['\r', '\n']).is_empty() => {
            return Err(CustomiseError::Invalid {
                setting: "--user",
                reason: "the password is empty".to_string(),
            });
        }
        Some(Secret(plain)) => Some(password::hash_password(plain)),
        None => None,
    };
    Ok(Some(User {
        name: name.clone(),
        password_hash,
    }))
}

/// The keys of the file at `path`, read as the user (a small file).
fn read_keys(path: &std::path::Path) -> Result<Vec<String>, CustomiseError> {
    let bytes = crate::user_file::read_user_file(path, 256 * 1024).map_err(|cause| {
        CustomiseError::ReadFile {
            what: "SSH key file",
            path: path.to_path_buf(),
            cause,
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|_| CustomiseError::Invalid {
        setting: "--ssh-key",
        reason: format!("{} is not text", path.display()),
    })?;
    ssh_key::parse_keys(&text).map_err(|reason| CustomiseError::Invalid {
        setting: "--ssh-key",
        reason: format!("{}: {reason}", path.display()),
    })
}

/// A fresh `instance-id`: 16 random hexadecimal digits.
fn new_instance_id() -> String {
    let mut bytes = [0u8; 8];
    // As for a salt: only a broken system has no random source.
    getrandom::fill(&mut bytes).expect("the OS's random number source works");
    format!("imprint-{}", crate::hex::hex(&bytes))
}

/// `template` with `{n}` and `{serial}` filled in one pass (a serial that
/// holds `{n}` stays as it is).
pub fn fill_hostname(template: &str, n: u64, serial: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if let Some(after) = rest.strip_prefix("{n}") {
            out.push_str(&n.to_string());
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{serial}") {
            out.push_str(serial);
            rest = after;
        } else {
            out.push('{');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

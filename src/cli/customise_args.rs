//! The customisation flags of `flash` and `configure` (`--hostname`,
//! `--user`, `--ssh-key`, `--wifi-country`, `--locale`, `--timezone`,
//! `--keyboard`, `--format`, `--customise FILE.toml`), turned into
//! `request`'s plain options. The password is read from `--user NAME:PW`,
//! a file, or a prompt on /dev/tty — never required on the command line —
//! and stays in memory only until it is hashed.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

use crate::customise::{CustomiseOptions, Format, Secret};
use crate::request::ConfigOptions;

/// Set the system up before its first boot, in the format the image uses.
#[derive(Debug, Clone, Default, Args)]
pub struct CustomiseArgs {
    #[arg(long, value_name = "NAME", help = hostname_help())]
    pub hostname: Option<String>,
    /// The login user (the image's first user, renamed). The password is
    /// asked for on the terminal, read from --password-file, or follows a colon.
    #[arg(long, value_name = "NAME[:PASSWORD]")]
    pub user: Option<String>,
    /// A file whose first line is the user's password.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// An OpenSSH public key file (.pub) to log in with; turns SSH on. Repeatable.
    #[arg(long = "ssh-key", value_name = "FILE")]
    pub ssh_keys: Vec<PathBuf>,
    /// Turn SSH on with password logins (without --ssh-key).
    #[arg(long)]
    pub ssh_password_login: bool,
    /// The WiFi country (ISO 3166 code, e.g. GB): the radio's legal channels.
    #[arg(long, value_name = "CC")]
    pub wifi_country: Option<String>,
    /// The WiFi network does not broadcast its name.
    #[arg(long, requires = "wifi_ssid")]
    pub wifi_hidden: bool,
    /// The locale, e.g. en_GB.UTF-8.
    #[arg(long, value_name = "LOCALE")]
    pub locale: Option<String>,
    /// The timezone, e.g. Europe/London.
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// The keyboard layout, e.g. gb.
    #[arg(long, value_name = "LAYOUT")]
    pub keyboard: Option<String>,
    /// The customisation format, when it cannot be told from the image:
    /// systemd, cloudinit-rpi, cloudinit or balena.
    #[arg(long = "format", value_name = "NAME")]
    pub format: Option<String>,
    /// A profile (TOML) holding any of these settings; flags override it.
    #[arg(long, value_name = "FILE.toml")]
    pub customise: Option<PathBuf>,
}

/// `--hostname`'s help: clap turns `{n}` in help text into a line break,
/// which an ANSI reset between `{` and `n}` prevents (see `args.rs`).
fn hostname_help() -> String {
    let n = "{\x1b[0mn}";
    format!(
        "The hostname (RFC 1123). May hold {n} (the drive's number in the run) and \
         {{serial}}; an --each CSV's hostname column gives each drive its own"
    )
}

/// A `--customise` profile: the flags' settings, by the flags' names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    format: Option<String>,
    hostname: Option<String>,
    user: Option<String>,
    /// Relative to the profile's folder; a profile never holds a password.
    password_file: Option<PathBuf>,
    #[serde(default)]
    ssh_keys: Vec<String>,
    #[serde(default)]
    ssh_key_files: Vec<PathBuf>,
    #[serde(default)]
    ssh_password_login: bool,
    wifi_ssid: Option<String>,
    wifi_psk: Option<String>,
    #[serde(default)]
    wifi_hidden: bool,
    wifi_country: Option<String>,
    locale: Option<String>,
    timezone: Option<String>,
    keyboard: Option<String>,
}

/// Profiles and password files are small.
const SMALL_FILE: u64 = 64 * 1024;

impl CustomiseArgs {
    /// The options these flags (and their profile) ask for; the WiFi of a
    /// profile goes into `config` when no flag gave one. An error is the
    /// message for a refusal.
    pub(super) fn to_options(
        &self,
        config: &mut ConfigOptions,
    ) -> Result<CustomiseOptions, String> {
        let profile = match &self.customise {
            Some(path) => load_profile(path)?,
            None => Profile::default(),
        };
        let base = self
            .customise
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new(""));
        if config.wifi_ssid.is_none() {
            config.wifi_ssid = profile.wifi_ssid.clone().map(Into::into);
            config.wifi_psk = config.wifi_psk.clone().or(profile.wifi_psk.clone());
        }
        let format = self.format.clone().or(profile.format.clone());
        let format = format
            .map(|f| f.parse::<Format>())
            .transpose()
            .map_err(|e| format!("--format: {e}"))?;
        let user_arg = self.user.clone().or(profile.user.clone());
        let (user, inline) = match user_arg.as_deref().map(|u| u.split_once(':')) {
            Some(Some((name, password))) => (Some(name.to_string()), Some(password.to_string())),
            Some(None) => (user_arg.clone(), None),
            None => (None, None),
        };
        let password_file = self
            .password_file
            .clone()
            .or(profile.password_file.map(|p| base.join(p)));
        let mut ssh_key_files = self.ssh_keys.clone();
        ssh_key_files.extend(profile.ssh_key_files.iter().map(|p| base.join(p)));
        let has_keys = !ssh_key_files.is_empty() || !profile.ssh_keys.is_empty();
        let password = match (inline, &password_file) {
            (Some(p), _) => Some(Secret(p)),
            (None, Some(path)) => Some(read_password(path)?),
            (None, None) if user.is_some() => {
                prompt_password(user.as_deref().unwrap_or(""), has_keys)?
            }
            (None, None) => None,
        };
        Ok(CustomiseOptions {
            format,
            hostname: self.hostname.clone().or(profile.hostname),
            user,
            password,
            ssh_key_files,
            ssh_keys: profile.ssh_keys,
            ssh_password_login: self.ssh_password_login || profile.ssh_password_login,
            wifi_country: self.wifi_country.clone().or(profile.wifi_country),
            wifi_hidden: self.wifi_hidden || profile.wifi_hidden,
            locale: self.locale.clone().or(profile.locale),
            timezone: self.timezone.clone().or(profile.timezone),
            keyboard: self.keyboard.clone().or(profile.keyboard),
        })
    }
}

fn load_profile(path: &Path) -> Result<Profile, String> {
    let bytes = crate::user_file::read_user_file(path, SMALL_FILE)
        .map_err(|e| format!("cannot read the profile {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("the profile {} is not text", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("the profile {} cannot be used: {e}", path.display()))
}

fn read_password(path: &Path) -> Result<Secret, String> {
    let bytes = crate::user_file::read_user_file(path, SMALL_FILE)
        .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("the password file {} is not text", path.display()))?;
    Ok(Secret(text.lines().next().unwrap_or_default().to_string()))
}

/// The password typed on /dev/tty (twice); without a terminal, none — which
/// only SSH keys make a usable account.
fn prompt_password(user: &str, has_keys: bool) -> Result<Option<Secret>, String> {
    if std::fs::File::open("/dev/tty").is_err() {
        if has_keys {
            return Ok(None);
        }
        return Err(format!(
            "--user {user} needs a password or an SSH key, and there is no terminal to ask on: \
             give --password-file FILE or --ssh-key FILE"
        ));
    }
    let first = rpassword::prompt_password(format!("Password for {user}: "))
        .map_err(|e| format!("cannot read the password: {e}"))?;
    if first.is_empty() && has_keys {
        return Ok(None);
    }
    let again = rpassword::prompt_password("Again: ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    if first != again {
        return Err("the two passwords differ; nothing was written".to_string());
    }
    Ok(Some(Secret(first)))
}

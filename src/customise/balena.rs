//! The `balena` format: balenaOS reads its settings from `config.json` on
//! the boot partition. The customisation adds `hostname` and `os.sshKeys`
//! (keys already there stay) to the `--config` file or, without one, to the
//! config.json the image holds; WiFi is written as `bootcfg` always has
//! (a NetworkManager profile). balenaOS has no setting for a login user,
//! a timezone, a locale, a keyboard or a WiFi country in config.json: those
//! are reported as not written, never silently dropped.

use super::CustomiseError;
use super::model::Model;
use crate::bootcfg::{ConfigJson, Json, JsonMap};

/// `base` with the model's hostname and SSH keys, and the warnings for
/// what balenaOS cannot take.
pub(crate) fn config_json(
    model: &Model,
    base: &ConfigJson,
) -> Result<(ConfigJson, Vec<String>), CustomiseError> {
    let Ok(Json::Object(mut map)) = Json::parse(&base.bytes) else {
        unreachable!("a ConfigJson is a JSON object");
    };
    if let Some(hostname) = &model.hostname {
        map.insert("hostname".to_string(), Json::String(hostname.clone()));
    }
    if !model.ssh_keys.is_empty() {
        let os = map
            .entry("os".to_string())
            .or_insert_with(|| Json::Object(JsonMap::new()));
        let Json::Object(os) = os else {
            return Err(CustomiseError::CannotMerge {
                file: "config.json".to_string(),
                reason: "its \"os\" is not an object, so SSH keys cannot go in os.sshKeys"
                    .to_string(),
            });
        };
        let keys = os
            .entry("sshKeys".to_string())
            .or_insert_with(|| Json::Array(Vec::new()));
        let Json::Array(keys) = keys else {
            return Err(CustomiseError::CannotMerge {
                file: "config.json".to_string(),
                reason: "its \"os.sshKeys\" is not a list".to_string(),
            });
        };
        for key in &model.ssh_keys {
            if !keys.iter().any(|k| k.as_str() == Some(key)) {
                keys.push(Json::String(key.clone()));
            }
        }
    }
    let bytes = Json::Object(map).to_bytes();
    let config = ConfigJson::parse(&bytes, std::path::Path::new("config.json"))?;
    Ok((config, not_written(model)))
}

/// The settings balenaOS's config.json has no place for.
fn not_written(model: &Model) -> Vec<String> {
    let unsupported = [
        (
            model.user.is_some(),
            "a login user (balenaOS logs in as root with the SSH keys)",
        ),
        (model.timezone.is_some(), "the timezone"),
        (model.locale.is_some(), "the locale"),
        (model.keyboard.is_some(), "the keyboard layout"),
        (model.wifi_country.is_some(), "the WiFi country"),
        (
            model.ssh_password_login,
            "SSH password logins (balenaOS takes keys only)",
        ),
        (
            model.wifi.as_ref().is_some_and(|w| w.hidden),
            "the hidden-network flag",
        ),
    ];
    unsupported
        .iter()
        .filter(|(asked, _)| *asked)
        .map(|(_, what)| format!("balenaOS's config.json has no setting for {what}: not written"))
        .collect()
}

//! The "balenaOS configuration" form: a config.json and optional WiFi
//! credentials, validated against the selected image as the user types.
//!
//! Validation (`cli::configure::prepare`) reads the image's boot partition,
//! which for a compressed image means decompressing its start, so it runs on
//! a thread; each edit starts a new check and older results are dropped.

use std::path::PathBuf;

use crossbeam_channel::Receiver;

use crate::bootcfg::Configured;
use crate::cli::ConfigArgs;
use crate::source::ImageSource;

/// The state of the configuration, as the form shows it.
#[derive(Debug, Clone, Default)]
pub enum ConfigStatus {
    /// Nothing to embed: the image is written as it is.
    #[default]
    Unused,
    Checking,
    /// Valid; the patch to stream.
    Valid(Box<Configured>),
    /// Invalid: why, as a complete sentence. Flash stays disabled.
    Invalid(String),
}

/// What the user entered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigForm {
    pub config_path: Option<PathBuf>,
    pub wifi_ssid: String,
    pub wifi_psk: String,
}

impl ConfigForm {
    /// The same options `imprint flash` takes.
    pub fn to_args(&self) -> ConfigArgs {
        let ssid = self.wifi_ssid.trim();
        ConfigArgs {
            config: self.config_path.clone(),
            wifi_ssid: (!ssid.is_empty()).then(|| ssid.into()),
            wifi_psk: (!ssid.is_empty() && !self.wifi_psk.is_empty())
                .then(|| self.wifi_psk.clone()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.config_path.is_none() && self.wifi_ssid.trim().is_empty()
    }

    /// Problems visible without reading the image, reported at once.
    pub fn local_error(&self) -> Option<String> {
        let ssid = self.wifi_ssid.trim();
        let psk_len = self.wifi_psk.chars().count();
        if ssid.is_empty() && !self.wifi_psk.is_empty() {
            return Some("Enter the WiFi network name for this password.".into());
        }
        if !self.wifi_psk.is_empty() && !(8..=63).contains(&psk_len) {
            return Some(format!(
                "A WiFi password has 8 to 63 characters; this one has {psk_len}."
            ));
        }
        if ssid.len() > 32 {
            return Some("A WiFi network name has at most 32 bytes.".into());
        }
        None
    }
}

/// A running check; the app keeps only the newest, so older results are dropped.
pub struct ConfigCheck {
    rx: Receiver<Result<Option<Configured>, String>>,
}

impl ConfigCheck {
    /// Validates `form` against `source` on a thread named `config-check`.
    pub fn start(form: &ConfigForm, source: &ImageSource, ctx: &egui::Context) -> ConfigCheck {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let args = form.to_args();
        let source = source.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("config-check".into())
            .spawn({
                let tx = tx.clone();
                move || {
                    let _ = tx.send(crate::cli::configure::prepare(&source, &args));
                    ctx.request_repaint();
                }
            });
        if let Err(e) = spawned {
            let _ = tx.send(Err(format!("cannot check the configuration: {e}")));
        }
        ConfigCheck { rx }
    }

    /// The result, once it is there.
    pub fn poll(&self) -> Option<ConfigStatus> {
        match self.rx.try_recv() {
            Ok(Ok(Some(configured))) => Some(ConfigStatus::Valid(Box::new(configured))),
            Ok(Ok(None)) => Some(ConfigStatus::Unused),
            Ok(Err(message)) => Some(ConfigStatus::Invalid(message)),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => Some(ConfigStatus::Invalid(
                "The configuration could not be checked (internal error).".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wifi_passwords_are_checked_as_you_type() {
        let mut form = ConfigForm {
            config_path: Some("config.json".into()),
            wifi_ssid: "home".into(),
            wifi_psk: "short".into(),
        };
        assert!(form.local_error().unwrap().contains("8 to 63"));
        form.wifi_psk = "long enough".into();
        assert_eq!(form.local_error(), None);
        assert_eq!(form.to_args().wifi_psk.as_deref(), Some("long enough"));
        form.wifi_ssid.clear();
        assert!(form.local_error().unwrap().contains("network name"));
    }
}

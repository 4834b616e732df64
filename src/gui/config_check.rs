//! The "balenaOS configuration" form: a config.json and optional WiFi
//! credentials, validated against the selected image as the user types.
//!
//! Validation ([`request::configure`](crate::request::configure), as for the command line) reads the image's boot partition,
//! which for a compressed image means decompressing its start, so it runs on
//! a thread; each edit starts a new check and older results are dropped.

use std::path::PathBuf;

use crossbeam_channel::Receiver;

use super::message::{self, Problem};
use crate::bootcfg::{self, ConfigOptions, Configured};
use crate::source::ImageSource;

/// The state of the configuration, as the form shows it.
#[derive(Debug, Clone, Default)]
pub(super) enum ConfigStatus {
    /// Nothing to embed: the image is written as it is.
    #[default]
    Unused,
    Checking,
    /// Valid; the patch to stream.
    Valid(Box<Configured>),
    /// Invalid: why, and what to do. Flash stays disabled.
    Invalid(Problem),
}

/// What the user entered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ConfigForm {
    pub config_path: Option<PathBuf>,
    pub wifi_ssid: String,
    pub wifi_psk: String,
    /// The user ticked "Open network (no password)": an empty password is
    /// a choice, never an omission (an untyped password blocks Flash!).
    pub open_network: bool,
}

impl ConfigForm {
    /// The same options `imprint flash` takes.
    pub(super) fn to_options(&self) -> ConfigOptions {
        let ssid = self.wifi_ssid.trim();
        ConfigOptions {
            config: self.config_path.clone(),
            wifi_ssid: (!ssid.is_empty()).then(|| ssid.into()),
            wifi_psk: (!ssid.is_empty() && !self.open_network && !self.wifi_psk.is_empty())
                .then(|| self.wifi_psk.clone()),
        }
    }

    /// Why the WiFi settings cannot be written yet: a network named with
    /// neither a password nor the "open network" tick. An empty password
    /// means an open network, so it must be chosen, not left over.
    pub(super) fn wifi_blocker(&self) -> Option<&'static str> {
        let named = !self.wifi_ssid.trim().is_empty();
        (named && !self.open_network && self.wifi_psk.is_empty())
            .then_some("Type the WiFi password, or tick \"Open network (no password)\"")
    }

    /// The configuration in a line, for every place that shows what will be
    /// written (confirmation, station header, result): the config.json's
    /// name and the WiFi network with whether it is open. `None` when
    /// nothing is embedded.
    pub(super) fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(name) = self.config_path.as_ref().and_then(|p| p.file_name()) {
            parts.push(name.to_string_lossy().into_owned());
        }
        let ssid = self.wifi_ssid.trim();
        if !ssid.is_empty() {
            let security = if self.open_network {
                "open network, no password"
            } else if self.wifi_psk.is_empty() {
                "password not typed yet"
            } else {
                "with password"
            };
            parts.push(format!("WiFi \u{201c}{ssid}\u{201d} ({security})"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.config_path.is_none() && self.wifi_ssid.trim().is_empty()
    }

    /// Problems visible without reading the image, reported at once: the
    /// WiFi rules of [`ConfigOptions::check_wifi`], worded for the form.
    pub(super) fn local_error(&self) -> Option<String> {
        let ssid = self.wifi_ssid.trim();
        let options = ConfigOptions {
            config: None,
            wifi_ssid: (!ssid.is_empty()).then(|| ssid.into()),
            wifi_psk: (!self.open_network && !self.wifi_psk.is_empty())
                .then(|| self.wifi_psk.clone()),
        };
        let error = options.check_wifi().err()?;
        let message = match error {
            bootcfg::BootConfigError::InvalidWifi { reason } => reason,
            other => other.to_string(),
        };
        // The form's words, one for each thing: "WiFi password" (the
        // engine says "WiFi key" and "WPA passphrase", as the CLI's flags
        // do) and "network name" (not "SSID").
        let message = message
            .replace("the WiFi key", "the WiFi password")
            .replace(" (a WPA passphrase)", "")
            .replace("the SSID", "the WiFi network name");
        Some(message::sentence(&message))
    }
}

/// A running check; the app keeps only the newest, so older results are dropped.
pub(super) struct ConfigCheck {
    rx: Receiver<Result<Option<Configured>, (Problem, bool)>>,
}

impl ConfigCheck {
    /// Validates `form` against `source` on a thread named `config-check`.
    pub(super) fn start(
        form: &ConfigForm,
        source: &ImageSource,
        ctx: &egui::Context,
    ) -> ConfigCheck {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let options = form.to_options();
        let source = source.clone();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("config-check".into())
            .spawn({
                let tx = tx.clone();
                move || {
                    let result = crate::request::configure(&source, &options)
                        .map_err(|e| message::config_error(&e));
                    let _ = tx.send(result);
                    ctx.request_repaint();
                }
            });
        if let Err(e) = spawned {
            let problem = Problem::new(
                "The configuration could not be checked.",
                "Close other programs and try again.",
            )
            .with_details(e.to_string());
            let _ = tx.send(Err((problem, false)));
        }
        ConfigCheck { rx }
    }

    /// The result, once it is there: the configuration's status, or
    /// (`Err`) a fault of the image found while reading it, which belongs
    /// to the image card rather than to the configuration form.
    pub(super) fn poll(&self) -> Option<Result<ConfigStatus, Problem>> {
        match self.rx.try_recv() {
            Ok(Ok(Some(configured))) => Some(Ok(ConfigStatus::Valid(Box::new(configured)))),
            Ok(Ok(None)) => Some(Ok(ConfigStatus::Unused)),
            Ok(Err((problem, true))) => Some(Err(problem)),
            Ok(Err((problem, false))) => Some(Ok(ConfigStatus::Invalid(problem))),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                Some(Ok(ConfigStatus::Invalid(Problem::new(
                    "The configuration could not be checked.",
                    "Choose the config.json again.",
                ))))
            }
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
            open_network: false,
        };
        let error = form.local_error().unwrap();
        assert!(
            error.starts_with("The WiFi password must be 8 to 63"),
            "{error}"
        );
        form.wifi_psk = "long enough".into();
        assert_eq!(form.local_error(), None);
        assert_eq!(form.to_options().wifi_psk.as_deref(), Some("long enough"));
        form.wifi_ssid.clear();
        assert!(form.local_error().unwrap().contains("network's name"));
        form.wifi_ssid = "x".repeat(33);
        assert!(
            form.local_error()
                .unwrap()
                .starts_with("The WiFi network name must be 1 to 32 bytes")
        );
    }

    #[test]
    fn an_empty_password_is_an_open_network_only_when_ticked() {
        let mut form = ConfigForm {
            config_path: Some("dir/fleet.json".into()),
            wifi_ssid: "HomeNet".into(),
            ..ConfigForm::default()
        };
        assert!(form.wifi_blocker().unwrap().contains("Open network"));
        assert_eq!(
            form.summary().unwrap(),
            "fleet.json, WiFi \u{201c}HomeNet\u{201d} (password not typed yet)"
        );
        form.open_network = true;
        assert_eq!(form.wifi_blocker(), None);
        assert!(
            form.summary()
                .unwrap()
                .ends_with("(open network, no password)")
        );
        // A password typed before ticking is not written with the tick.
        form.wifi_psk = "long enough".into();
        assert_eq!(form.to_options().wifi_psk, None);
        form.open_network = false;
        assert_eq!(form.wifi_blocker(), None);
        assert!(form.summary().unwrap().ends_with("(with password)"));
        form.wifi_ssid.clear();
        assert_eq!(form.wifi_blocker(), None, "no network, nothing to block");
        assert_eq!(form.summary().unwrap(), "fleet.json");
    }
}

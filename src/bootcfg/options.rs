//! The configuration a user asks for, and its preparation against an image:
//! the entry point both front ends use.

use std::ffi::OsString;
use std::path::PathBuf;

use super::{BootConfigError, ConfigJson, ConfigRequest, Configured, WifiProfile, configure};
use crate::disk::DiskError;
use crate::source::ImageSource;

/// The configuration a user asks for, as plain options (the command line's
/// `--config`/`--wifi-*`, the app's form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigOptions {
    /// A balenaOS config.json to write into the boot partition.
    pub config: Option<PathBuf>,
    /// The WiFi network's name (any bytes, 1 to 32 of them).
    pub wifi_ssid: Option<OsString>,
    /// The WPA passphrase; none for an open network.
    pub wifi_psk: Option<String>,
}

impl ConfigOptions {
    /// Whether anything is asked for.
    pub fn is_empty(&self) -> bool {
        self.config.is_none() && self.wifi_ssid.is_none() && self.wifi_psk.is_none()
    }

    /// The WiFi settings checked on their own, before any file is read: how
    /// the app says what is wrong as the user types.
    pub fn check_wifi(&self) -> Result<Option<WifiProfile>, BootConfigError> {
        match &self.wifi_ssid {
            Some(ssid) =>
            // The bytes the user typed: on Unix an argument's bytes
            // as they are, which is what an SSID is.
            {
                WifiProfile::new(ssid.as_encoded_bytes(), self.wifi_psk.as_deref()).map(Some)
            }
            None if self.wifi_psk.is_some() => Err(BootConfigError::InvalidWifi {
                reason: "a WiFi password needs the network's name (SSID)".to_string(),
            }),
            None => Ok(None),
        }
    }
}

/// Validates `options` against `source` and builds the configured boot
/// partition; `Ok(None)` when no configuration is asked for. An error is a
/// refusal before anything is written.
pub fn prepare(
    source: &ImageSource,
    options: &ConfigOptions,
) -> Result<Option<Configured>, BootConfigError> {
    if options.is_empty() {
        return Ok(None);
    }
    let wifi = options.check_wifi()?;
    let config = options
        .config
        .as_deref()
        .map(ConfigJson::load)
        .transpose()?;
    let wifi_alone = config.is_none();
    let request = ConfigRequest { config, wifi };
    configure(source, &request)
        .map(Some)
        .map_err(|cause| match cause {
            // WiFi alone on an image with no configured balenaOS boot
            // partition: the fix is a config.json, whatever was missing.
            BootConfigError::WifiWithoutConfig
            | BootConfigError::Disk(DiskError::NoPartitionTable)
            | BootConfigError::NoBootPartition { .. }
            | BootConfigError::DeviceTypePartitionMissing { .. }
            | BootConfigError::NotFat { .. }
                if wifi_alone =>
            {
                BootConfigError::WifiWithoutConfig
            }
            cause => BootConfigError::InImage {
                image: source.path().to_path_buf(),
                cause: Box::new(cause),
            },
        })
}

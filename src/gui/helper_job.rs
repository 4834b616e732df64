//! What the privileged helper is asked to do, and the `imprint flash`
//! command line that asks it (docs/architecture.md §5).

use std::ffi::OsString;
use std::path::PathBuf;

use super::run_options::RunOptions;
use crate::request::ConfigOptions;

/// What the helper is asked to do.
#[derive(Debug, Clone)]
pub(super) struct HelperJob {
    pub image: PathBuf,
    pub targets: Vec<PathBuf>,
    pub config: ConfigOptions,
    pub options: RunOptions,
}

impl HelperJob {
    /// The helper's arguments after the executable.
    pub(super) fn args(&self) -> Vec<OsString> {
        // An image at a URL comes through standard input (see `url_feed`).
        let image = if crate::source::is_url(&self.image) {
            OsString::from(crate::source::STDIN_NAME)
        } else {
            self.image.clone().into()
        };
        let mut args = vec![OsString::from("flash"), image];
        for target in &self.targets {
            args.push("-t".into());
            args.push(target.clone().into());
        }
        if let Some(config) = &self.config.config {
            args.push("--config".into());
            args.push(config.clone().into());
        }
        if let Some(ssid) = &self.config.wifi_ssid {
            args.push("--wifi-ssid".into());
            args.push(ssid.into());
            if let Some(psk) = &self.config.wifi_psk {
                args.push("--wifi-psk".into());
                args.push(psk.into());
            }
        }
        if !self.options.verify {
            args.push("--no-verify".into());
        }
        if self.options.full {
            args.push("--full".into());
        }
        if self.options.eject {
            args.push("--eject".into());
        }
        // The app shows the image's SHA-256 (what publishers list), as its
        // in-process run takes it; the command line takes it only when asked.
        args.push("--image-sha256".into());
        args.push("--json".into());
        args.push("--yes".into());
        args
    }
}

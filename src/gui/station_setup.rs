//! What the user sets up on the Station view before starting it: which
//! drives to take, whether a drive is flashed again and drives over 128 GB
//! are taken, and where the record goes (by default in the user's
//! documents folder); as options for the station in this process, or as the
//! helper's `imprint station` arguments.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::request::ConfigOptions;

/// What the user set up on the Station view.
#[derive(Debug, Clone)]
pub(super) struct StationSetup {
    pub image: PathBuf,
    pub config: ConfigOptions,
    /// `--match` globs, separated by spaces.
    pub matches: String,
    /// Where each drive's record is appended.
    pub report: PathBuf,
    /// Flash a drive again when it comes back (`--again`).
    pub again: bool,
    /// Take drives over 128 GB too (`--allow-large`).
    pub allow_large: bool,
}

impl StationSetup {
    pub(super) fn matches(&self) -> Vec<String> {
        self.matches
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// `imprint station …` arguments for the helper.
    pub(super) fn helper_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["station".into(), self.image.clone().into()];
        if let Some(config) = &self.config.config {
            args.extend(["--config".into(), config.clone().into()]);
        }
        if let Some(ssid) = &self.config.wifi_ssid {
            args.extend(["--wifi-ssid".into(), ssid.clone()]);
            if let Some(psk) = &self.config.wifi_psk {
                args.extend(["--wifi-psk".into(), psk.into()]);
            }
        }
        for pattern in self.matches() {
            args.extend(["--match".into(), pattern.into()]);
        }
        if self.again {
            args.push("--again".into());
        }
        if self.allow_large {
            args.push("--allow-large".into());
        }
        args.extend([
            "--report".into(),
            self.report.clone().into(),
            "--json".into(),
        ]);
        args
    }
}

/// The report file a station writes unless the user names another:
/// `imprint-station.jsonl` in the home folder (the current one without).
pub(super) fn default_report() -> PathBuf {
    // The user's documents (else home): where people look for a record.
    super::file_dialog::user_folder()
        .unwrap_or_default()
        .join("imprint-station.jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boxes_become_the_helpers_flags() {
        let mut setup = StationSetup {
            image: "os.img".into(),
            config: ConfigOptions::default(),
            matches: "/dev/sd* /dev/mmcblk*".into(),
            report: "/tmp/r.jsonl".into(),
            again: false,
            allow_large: false,
        };
        let plain = setup.helper_args();
        assert!(!plain.contains(&"--again".into()) && !plain.contains(&"--allow-large".into()));
        setup.again = true;
        setup.allow_large = true;
        let args = setup.helper_args();
        assert!(args.contains(&"--again".into()), "{args:?}");
        assert!(args.contains(&"--allow-large".into()), "{args:?}");
        assert_eq!(args.iter().filter(|a| *a == "--match").count(), 2);
    }
}

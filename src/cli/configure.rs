//! `imprint configure`, and the `--config` / `--wifi-*` options of `flash`
//! and `verify`.

use crate::bootcfg::Configured;
use crate::source::ImageSource;

use super::args::{ConfigArgs, ConfigureArgs};

/// Validates the configuration options against `source` and builds the
/// configured boot partition; `Ok(None)` without `--config`. An error is a
/// complete message for the user (exit code 2: nothing was written).
pub fn prepare(source: &ImageSource, args: &ConfigArgs) -> Result<Option<Configured>, String> {
    let _ = source;
    if args.config.is_none() && args.wifi_ssid.is_none() {
        return Ok(None);
    }
    Err("--config is not available yet".to_string())
}

pub fn run(args: ConfigureArgs) -> u8 {
    let _ = args;
    eprintln!("imprint configure: not available yet");
    super::EXIT_REFUSED
}

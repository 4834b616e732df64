//! Customisation in the one preparation path (docs/architecture.md §4a):
//! the plain options become a plan — the validated model, its password
//! hashed once with a random salt, the format asked for and the balenaOS
//! base config.json — before the image is read, and the plan is applied to
//! the image for the run, for each drive (`per_drive`) or for `configure`.

use crate::bootcfg::{ConfigJson, ConfigOptions, Configured};
use crate::customise::{self, CustomiseError, CustomiseOptions, Format, Model};
use crate::source::ImageSource;
use crate::target::RunInput;

/// A customisation ready to apply: everything that decides its bytes.
#[derive(Debug, Clone)]
pub struct CustomisePlan {
    pub model: Model,
    /// `--format`; `None`: the format is detected from the image.
    pub format: Option<Format>,
    /// `--config`: the base of balenaOS's config.json.
    pub balena_config: Option<ConfigJson>,
}

/// The plan `customise` (with the WiFi and `--config` of `config`) asks
/// for; `None` when no customisation is asked for (`--config` and WiFi
/// alone are balenaOS's configuration, as before).
pub fn plan(
    config: &ConfigOptions,
    customise: &CustomiseOptions,
) -> Result<Option<CustomisePlan>, CustomiseError> {
    if customise.is_empty() {
        return Ok(None);
    }
    let wifi = config.check_wifi()?;
    let balena_config = config.config.as_deref().map(ConfigJson::load).transpose()?;
    Ok(Some(CustomisePlan {
        model: Model::new(customise, wifi)?,
        format: customise.format,
        balena_config,
    }))
}

impl CustomisePlan {
    /// The image of `source` customised, with `hostname` for a drive of
    /// its own (`None`: the plan's, when it needs no drive to fill it).
    /// `balena_base` replaces the plan's `--config` (a drive's own
    /// config.json, from `--each`).
    pub fn apply(
        &self,
        source: &ImageSource,
        hostname: Option<String>,
        balena_base: Option<&ConfigJson>,
    ) -> Result<Configured, CustomiseError> {
        let model = match hostname {
            Some(hostname) => self.model.for_drive(Some(hostname))?,
            // A hostname with {n}/{serial}: each drive gets its own patch
            // (`per_drive`); the shared one names none.
            None if self.model.is_per_drive() => self.model.for_drive(None)?,
            None => self.model.clone(),
        };
        let base = balena_base.or(self.balena_config.as_ref());
        customise::customise(source, &model, self.format, base)
    }

    /// The hostname of drive number `n` with serial `serial`, or with a
    /// CSV row's `row_hostname`.
    pub fn hostname_for(&self, row_hostname: Option<&str>, n: u64, serial: &str) -> Option<String> {
        let template = row_hostname.or(self.model.hostname.as_deref())?;
        Some(customise::fill_hostname(template, n, serial))
    }
}

/// The files the customisation reads, which no target may be.
pub(super) fn inputs(customise: &CustomiseOptions) -> Vec<RunInput> {
    customise
        .ssh_key_files
        .iter()
        .map(|path| RunInput::new("the --ssh-key file", path))
        .collect()
}

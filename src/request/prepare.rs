//! From options to a [`FlashJob`]: open the image once, prepare the
//! configuration, and assemble the job — the same for `flash`, `verify` and
//! the app.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ConfigOptions;
use super::customise::{self, CustomisePlan};
use crate::bootcfg::{self, BootConfigError, Configured};
use crate::customise::{CustomiseError, CustomiseOptions};
use crate::engine::FlashJob;
use crate::map::bmap::{self, Bmap, BmapError, BmapMismatch};
use crate::protocol::ErrorKind;
use crate::source::{ImageSource, SourceError};
use crate::target::RunInput;
use crate::target::probe::ProbeMode;

/// What a flash (or verify) run is asked to do.
#[derive(Debug, Clone, Default)]
pub struct FlashOptions {
    /// An image file, a block device, or `-` for standard input.
    pub image: PathBuf,
    /// Block devices or files, in the order the user named them.
    pub targets: Vec<PathBuf>,
    pub config: ConfigOptions,
    /// Hostname, user, SSH, WiFi country, locale… in the image's own
    /// customisation format (`crate::customise`); empty: none.
    pub customise: CustomiseOptions,
    /// Read every target back and compare it with the image.
    pub verify: bool,
    /// The SHA-256 the decompressed image must have, as the user typed it.
    pub expected_sha256: Option<String>,
    /// Write and verify every byte, not only the used ones (`--full`).
    pub full: bool,
    /// Eject each drive that succeeded (`--eject`; the app's default).
    pub eject: bool,
    /// Which bmap file describes the image.
    pub bmap: BmapChoice,
}

/// Which bmap file describes the image (`crate::map::bmap`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BmapChoice {
    /// The one beside the image, if any (`os.img.bmap` for `os.img.xz`).
    #[default]
    Beside,
    /// This file (`--bmap FILE`).
    File(PathBuf),
    /// None, even if one lies beside the image (`--no-bmap`).
    Ignore,
}

/// A job ready to run, with the configuration it carries.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub job: FlashJob,
    pub configured: Option<Configured>,
    /// The customisation, for the drives that get their own (`per_drive`).
    pub customise: Option<CustomisePlan>,
}

/// Why a request was refused before anything was written.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Image(SourceError),
    #[error(transparent)]
    Config(BootConfigError),
    #[error("{0}")]
    Customise(CustomiseError),
    #[error("the expected SHA-256 must be 64 hexadecimal digits, got {0:?}")]
    Sha256(String),
    #[error(transparent)]
    Bmap(BmapError),
    /// The bmap describes an image of another size than the source's known
    /// one: found before any target is opened.
    #[error(transparent)]
    BmapSize(BmapMismatch),
}

impl RequestError {
    /// The kind of the protocol's `error` event.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RequestError::Image(_) => ErrorKind::Image,
            RequestError::Config(_) | RequestError::Customise(_) => ErrorKind::Config,
            RequestError::Bmap(_) | RequestError::BmapSize(_) => ErrorKind::Image,
            RequestError::Sha256(_) => ErrorKind::Usage,
        }
    }
}

/// Opens the image, checks the expected SHA-256 and prepares the
/// configuration; returns the job to run. The one path from plain options
/// to a job: `flash`, `verify`, the app's helper (which runs `flash`) and,
/// for its shared part, the station (docs/architecture.md §1).
pub fn prepare(options: &FlashOptions) -> Result<Prepared, RequestError> {
    let expected_sha256 = expected_sha256(options)?;
    let source = ImageSource::open(&options.image).map_err(RequestError::Image)?;
    from_source(source, expected_sha256, options)
}

/// As [`prepare`], for an image the caller has opened from `options.image`
/// to look at it first (the station refuses a stream before anything
/// else is read).
pub fn prepare_source(
    source: ImageSource,
    options: &FlashOptions,
) -> Result<Prepared, RequestError> {
    let expected_sha256 = expected_sha256(options)?;
    from_source(source, expected_sha256, options)
}

fn from_source(
    source: ImageSource,
    expected_sha256: Option<String>,
    options: &FlashOptions,
) -> Result<Prepared, RequestError> {
    let bmap = bmap_for(&options.image, &options.bmap, &source)?;
    let plan =
        customise::plan(&options.config, &options.customise).map_err(|e| in_image(e, &source))?;
    let configured = configure_planned(&source, &options.config, plan.as_ref())?;
    let mut prepared = assemble(source, configured, bmap, expected_sha256, options);
    prepared.customise = plan;
    Ok(prepared)
}

/// The configured boot partition of `source`: customised by `plan` when
/// there is one, else balenaOS's configuration of `config`.
fn configure_planned(
    source: &ImageSource,
    config: &ConfigOptions,
    plan: Option<&CustomisePlan>,
) -> Result<Option<Configured>, RequestError> {
    match plan {
        Some(plan) => Ok(Some(
            plan.apply(source, None, None)
                .map_err(|e| in_image(e, source))?,
        )),
        None => configure(source, config).map_err(RequestError::Config),
    }
}

/// As [`configure`], with a customisation (`imprint configure -o`): one
/// configured image, so a hostname with `{n}` or `{serial}` is refused.
pub fn configure_customised(
    source: &ImageSource,
    config: &ConfigOptions,
    customise: &CustomiseOptions,
) -> Result<Option<Configured>, RequestError> {
    let plan = customise::plan(config, customise).map_err(|e| in_image(e, source))?;
    if plan.as_ref().is_some_and(|p| p.model.is_per_drive()) {
        return Err(RequestError::Customise(CustomiseError::Invalid {
            setting: "--hostname",
            reason: "{n} and {serial} name a drive of a flash run; configure writes one image: give the hostname itself".to_string(),
        }));
    }
    configure_planned(source, config, plan.as_ref())
}

/// A customisation error, naming the image when it came from reading it.
fn in_image(error: CustomiseError, source: &ImageSource) -> RequestError {
    match error {
        CustomiseError::Boot(cause) => RequestError::Config(BootConfigError::InImage {
            image: source.path().to_path_buf(),
            cause: Box::new(cause),
        }),
        other => RequestError::Customise(other),
    }
}

/// As [`prepare`], for an image the caller has already opened and probed
/// and a configuration it has already prepared from it (the app, which
/// checks the configuration as the user types): the same bmap, `--sha256`
/// and `--full` rules. `options.image` and `options.config` are not read
/// again; the bmap beside `source`'s path is.
pub fn prepare_opened(
    source: ImageSource,
    configured: Option<Configured>,
    options: &FlashOptions,
) -> Result<Prepared, RequestError> {
    let expected_sha256 = expected_sha256(options)?;
    let image = source.path().to_path_buf();
    let bmap = bmap_for(&image, &options.bmap, &source)?;
    Ok(assemble(source, configured, bmap, expected_sha256, options))
}

/// The configured boot partition `options` ask for in `source`, if any:
/// the one place a configuration is checked and made (the runs, `imprint
/// configure`, the app's check as the user types).
pub fn configure(
    source: &ImageSource,
    options: &ConfigOptions,
) -> Result<Option<Configured>, BootConfigError> {
    bootcfg::prepare(source, options)
}

/// The expected SHA-256 of `options`, normalised.
fn expected_sha256(options: &FlashOptions) -> Result<Option<String>, RequestError> {
    options
        .expected_sha256
        .as_deref()
        .map(normalise_sha256)
        .transpose()
}

/// The bmap `choice` names for `image`, loaded and checked against `source`.
fn bmap_for(
    image: &Path,
    choice: &BmapChoice,
    source: &ImageSource,
) -> Result<Option<Arc<Bmap>>, RequestError> {
    let bmap = load_bmap(image, choice).map_err(RequestError::Bmap)?;
    if let Some(bmap) = &bmap {
        check_bmap_size(bmap, source)?;
    }
    Ok(bmap.map(Arc::new))
}

fn assemble(
    source: ImageSource,
    configured: Option<Configured>,
    bmap: Option<Arc<Bmap>>,
    expected_sha256: Option<String>,
    options: &FlashOptions,
) -> Prepared {
    let mut job = job(
        source,
        options.targets.clone(),
        configured.as_ref(),
        options.verify,
        expected_sha256,
    );
    job.full = options.full;
    job.bmap = bmap;
    job.inputs = run_inputs(options, job.bmap.as_deref());
    job.inputs.extend(customise::inputs(&options.customise));
    Prepared {
        job,
        configured,
        customise: None,
    }
}

/// The run's own files a target must never be (docs/architecture.md §3).
fn run_inputs(options: &FlashOptions, bmap: Option<&Bmap>) -> Vec<RunInput> {
    let config = options.config.config.as_deref();
    let config = config.map(|path| RunInput::new("the --config file", path));
    let bmap = bmap.map(|bmap| RunInput::new("the bmap file", &bmap.path));
    config.into_iter().chain(bmap).collect()
}

/// The bmap `choice` names for `image`, read and checked: a malformed one
/// refuses the run, even when it was only found beside the image (the user
/// may not know it is there; `--no-bmap` ignores it).
fn load_bmap(image: &Path, choice: &BmapChoice) -> Result<Option<Bmap>, BmapError> {
    let path = match choice {
        BmapChoice::Ignore => return Ok(None),
        BmapChoice::File(path) => path.clone(),
        BmapChoice::Beside => match bmap::beside(image) {
            Some(path) => {
                bmap::check_is_file(&path)?;
                path
            }
            None => return Ok(None),
        },
    };
    Bmap::load(&path).map(Some)
}

/// A bmap for an image of another size belongs to another image: refused
/// now (exit 2), before any target is opened, not after the drives were
/// erased. Only a size the source knows exactly is compared.
fn check_bmap_size(bmap: &Bmap, source: &ImageSource) -> Result<(), RequestError> {
    match source.size_hint() {
        Some(actual) if actual != bmap.image_size => {
            Err(RequestError::BmapSize(BmapMismatch::Size {
                path: bmap.path.clone(),
                expected: bmap.image_size,
                actual,
            }))
        }
        _ => Ok(()),
    }
}

/// The job that writes `source` (with `configured` in it) to `targets`: the
/// one place a [`FlashJob`] is assembled.
fn job(
    source: ImageSource,
    targets: Vec<PathBuf>,
    configured: Option<&Configured>,
    verify: bool,
    expected_sha256: Option<String>,
) -> FlashJob {
    FlashJob {
        source,
        // Every target alike here; the station gives each its own.
        patches: vec![configured.map(|c| c.patch.clone()); targets.len()],
        targets,
        verify,
        expected_sha256,
        // The app and the station show it; the CLI asks only when needed.
        hash_image: true,
        full: false,
        bmap: None,
        inputs: Vec::new(),
        probe: ProbeMode::default(),
    }
}

/// 64 hexadecimal digits, lower-cased.
pub(crate) fn normalise_sha256(hex: &str) -> Result<String, RequestError> {
    let hex = hex.trim().to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(RequestError::Sha256(hex))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_must_be_64_hex_digits() {
        let good = "0786AD1FDCBA31A3F03EE80EB1D6E8C7EE2F4647A2B4B6F1855C9FE0719784DE";
        assert_eq!(normalise_sha256(good).unwrap(), good.to_ascii_lowercase());
        assert!(normalise_sha256("abc").is_err());
        assert!(normalise_sha256(&"g".repeat(64)).is_err());
    }
}

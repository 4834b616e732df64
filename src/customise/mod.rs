//! Customising any image before its first boot — hostname, user and
//! password hash, SSH, WiFi with its country, locale, timezone, keyboard —
//! in the format the image itself expects, found from its bytes
//! (docs/architecture.md §4a).
//!
//! One model ([`Model`], from plain [`CustomiseOptions`]) and one writer per
//! format ([`Format`]: `systemd`, `cloudinit`, `cloudinit-rpi`, `balena`),
//! each turning the model into files of the boot partition. The edit is
//! `bootcfg`'s (its FAT checks and writes, read back), and the result a
//! [`crate::patch::Patch`] the engine streams in place of the image's bytes,
//! so verification covers it and the same model always gives the same
//! bytes. The entry points for a front end: [`detect()`] (the format and the
//! evidence) and [`customise`] (a model applied).

mod balena;
mod cloudinit;
mod cmdline;
mod countries;
mod detect;
mod format;
mod model;
pub(crate) mod password;
mod quote;
mod ssh_key;
mod systemd;
mod validate;
mod wpa_psk;
mod yaml_blocks;

use std::io::{self, Read};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub use detect::Detection;
pub use format::Format;
pub use model::{
    CustomiseOptions, HOSTNAME_PLACEHOLDERS, Model, Secret, User, Wifi, fill_hostname,
};

use crate::bootcfg::fat::FileToWrite;
use crate::bootcfg::{
    self, BootBytes, BootConfigError, ConfigJson, ConfigRequest, Configured, Customisation,
    partition_memory_limit_bytes,
};
use crate::disk::DiskError;
use crate::source::ImageSource;

/// Why a customisation cannot be made: a refusal before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum CustomiseError {
    #[error("{setting}: {reason}")]
    Invalid {
        setting: &'static str,
        reason: String,
    },
    #[error("cannot read the {what} {path}: {cause}")]
    ReadFile {
        what: &'static str,
        path: PathBuf,
        cause: io::Error,
    },
    #[error("{reason}")]
    Unknown { reason: String },
    #[error(
        "the {format} format writes {file}, but the image's boot partition has none; give --format NAME if this is another kind of image"
    )]
    MissingFile {
        file: &'static str,
        format: &'static str,
    },
    #[error("cannot merge the customisation into the image's {file}: {reason}")]
    CannotMerge { file: String, reason: String },
    #[error(
        "--config is a balenaOS config.json, but this image is customised by the {format} format; leave --config out"
    )]
    ConfigOnOtherFormat { format: Format },
    #[error(transparent)]
    Boot(#[from] BootConfigError),
}

/// A file to write into the boot partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileOut {
    pub path: String,
    pub contents: Vec<u8>,
}

impl FileOut {
    fn new(path: &str, contents: Vec<u8>) -> FileOut {
        FileOut {
            path: path.to_string(),
            contents,
        }
    }
}

/// The format of `source` and the evidence, read from its boot partition.
pub fn detect(source: &ImageSource) -> Result<Detection, CustomiseError> {
    let limit = partition_memory_limit_bytes();
    let boot = bootcfg::read_boot(&mut probe(source, limit), limit)?;
    Ok(detect::detect(&boot))
}

/// `source` customised by `model`, in `forced` format or the one detected;
/// `balena_config` (a `--config` file) is the base of balenaOS's config.json.
pub fn customise(
    source: &ImageSource,
    model: &Model,
    forced: Option<Format>,
    balena_config: Option<&ConfigJson>,
) -> Result<Configured, CustomiseError> {
    let limit = partition_memory_limit_bytes();
    customise_streams(
        &mut probe(source, limit),
        model,
        forced,
        balena_config,
        limit,
    )
}

fn probe<'a>(
    source: &'a ImageSource,
    limit: u64,
) -> impl FnMut() -> Result<Box<dyn Read + Send + 'a>, BootConfigError> + 'a {
    move || {
        source.probe(limit).map_err(|e| {
            BootConfigError::from(DiskError::ReadImage {
                offset: 0,
                cause: io::Error::other(e),
            })
        })
    }
}

/// As [`customise`], on the image `open_stream` streams from its first byte.
pub(crate) fn customise_streams<R: Read>(
    open_stream: &mut dyn FnMut() -> Result<R, BootConfigError>,
    model: &Model,
    forced: Option<Format>,
    balena_config: Option<&ConfigJson>,
    memory_limit_bytes: u64,
) -> Result<Configured, CustomiseError> {
    let mut boot = bootcfg::read_boot(open_stream, memory_limit_bytes)?;
    let (format, evidence) = match forced {
        Some(format) => (format, vec![format!("--format {format}")]),
        None => {
            let detection = detect::detect(&boot);
            let format = detection
                .format
                .map_err(|reason| CustomiseError::Unknown { reason })?;
            (format, detection.evidence)
        }
    };
    if format == Format::Balena {
        return balena(
            open_stream,
            &boot,
            model,
            balena_config,
            evidence,
            memory_limit_bytes,
        );
    }
    if balena_config.is_some() {
        return Err(CustomiseError::ConfigOnOtherFormat { format });
    }
    let files = match format {
        Format::Systemd => systemd::files(model, boot.file("cmdline.txt"))?,
        _ => cloudinit::files(model, &|name| boot.file(name))?,
    };
    let to_write: Vec<FileToWrite<'_>> = files
        .iter()
        .map(|f| FileToWrite {
            path: &f.path,
            contents: &f.contents,
        })
        .collect();
    let patch = bootcfg::patch_with_files(open_stream, &mut boot, &to_write)?;
    Ok(Configured {
        patch,
        partition: boot.boot_partition(),
        config_sha256: files_sha256(&files),
        warnings: Vec::new(),
        config_kept: false,
        customisation: Some(Customisation {
            format: format.name().to_string(),
            evidence,
            files: files.iter().map(|f| f.path.clone()).collect(),
        }),
    })
}

/// balenaOS: config.json (the `--config` file, else the image's) with the
/// model merged, written by `bootcfg` as any configuration.
fn balena<R: Read>(
    open_stream: &mut dyn FnMut() -> Result<R, BootConfigError>,
    boot: &BootBytes,
    model: &Model,
    balena_config: Option<&ConfigJson>,
    evidence: Vec<String>,
    memory_limit_bytes: u64,
) -> Result<Configured, CustomiseError> {
    let base = match balena_config {
        Some(config) => config.clone(),
        None => {
            let bytes = boot
                .file(bootcfg::CONFIG_PATH)
                .ok_or(BootConfigError::WifiWithoutConfig)?;
            ConfigJson::parse(&bytes, std::path::Path::new(bootcfg::CONFIG_PATH))?
        }
    };
    let (config, mut warnings) = balena::config_json(model, &base)?;
    let request = ConfigRequest {
        config: Some(config),
        wifi: model.wifi.as_ref().map(|w| w.profile.clone()),
    };
    let mut configured = bootcfg::configure_streams(open_stream, &request, memory_limit_bytes)?;
    configured.warnings.append(&mut warnings);
    let mut files = vec![bootcfg::CONFIG_PATH.to_string()];
    if request.wifi.is_some() {
        files.push(format!(
            "{}/{}",
            bootcfg::wifi::CONNECTIONS_DIR,
            bootcfg::wifi::PROFILE_NAME
        ));
    }
    configured.customisation = Some(Customisation {
        format: Format::Balena.name().to_string(),
        evidence,
        files,
    });
    Ok(configured)
}

/// One SHA-256 over the files written: each path, a NUL, its bytes, a NUL.
fn files_sha256(files: &[FileOut]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.path.as_bytes());
        hasher.update([0]);
        hasher.update(&file.contents);
        hasher.update([0]);
    }
    crate::hex::hex(&hasher.finalize())
}

//! balenaOS configuration: find the boot partition of an image, and produce
//! the configured bytes of that partition (`/config.json`, optional WiFi
//! profile) as a [`crate::patch::Patch`] that the engine streams in place
//! of the original bytes.
//!
//! The image is only ever read as a stream from its first byte (it may be
//! compressed): the partition table, the FAT partitions when
//! `/device-type.json` must be found, and the boot partition, which is the
//! only part held in memory. The source file is never modified.

mod config_json;
pub(crate) mod device_type;
mod dir_fix;
mod error;
mod exact_json;
pub(crate) mod fat;
mod fat_check;
mod find_boot;
mod memory;
mod options;
mod overlay;
pub(crate) mod wifi;

use std::io::{self, Read};

pub use config_json::{CONFIG_LIMIT_BYTES, ConfigJson};
pub use error::BootConfigError;
pub use exact_json::{Json, JsonMap};
pub use find_boot::{BOOT_LABELS, BootRule};
pub use memory::partition_memory_limit_bytes;
pub use options::{ConfigOptions, prepare};
pub use overlay::PatchedReader;
pub use wifi::WifiProfile;

use crate::disk::{DiskError, ForwardReader, Partition, PartitionTable, read_partition_table};
use crate::patch::{self, Patch, PatchBuilder};
use crate::source::ImageSource;
use device_type::{DEVICE_TYPE_PATH, DeviceType};
use fat::{FatEditError, FileToWrite};

/// Path of the configuration in the boot partition.
pub const CONFIG_PATH: &str = "config.json";

/// The boot partition a configuration was written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootPartition {
    /// 1-based partition number (logical MBR partitions from 5).
    pub number: u32,
    /// FAT volume label or GPT partition name, when it has one.
    pub label: Option<String>,
    /// Byte offset of the partition in the image.
    pub offset: u64,
    pub size_bytes: u64,
    /// Which rule chose it.
    pub rule: BootRule,
}

/// A configured boot partition, ready to stream.
#[derive(Debug, Clone)]
pub struct Configured {
    pub patch: Patch,
    pub partition: BootPartition,
    /// SHA-256 (hex) of the config.json as written.
    pub config_sha256: String,
    /// Things the user should know that do not stop the run (a deviceType
    /// that differs from the image's).
    pub warnings: Vec<String>,
    /// The image's own config.json was kept (only WiFi was added).
    pub config_kept: bool,
    /// A customisation (`crate::customise`): its format and why.
    pub customisation: Option<Customisation>,
}

/// Which customisation format was written, and the evidence that chose it:
/// plain data for `--json`'s `start` and the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customisation {
    /// `systemd`, `cloudinit`, `cloudinit-rpi` or `balena`.
    pub format: String,
    /// What was found in the image (or `--format`), one fact a line.
    pub evidence: Vec<String>,
    /// The files written into the boot partition.
    pub files: Vec<String>,
}

/// What to write into the boot partition, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRequest {
    /// The config.json to write; `None` keeps the one the boot partition
    /// already holds (an image configured by balenaCloud), so that WiFi
    /// alone can be added. Without one there, the request is refused.
    pub config: Option<ConfigJson>,
    pub wifi: Option<WifiProfile>,
}

/// Reads the partition table at the start of `stream` (the image from its
/// first byte), each partition classified as FAT or not.
pub fn partition_table<R: Read>(stream: R) -> Result<PartitionTable, BootConfigError> {
    Ok(read_partition_table(&mut ForwardReader::new(stream))?)
}

/// Configures the image of `source`: see [`configure_streams`].
pub fn configure(
    source: &ImageSource,
    request: &ConfigRequest,
) -> Result<Configured, BootConfigError> {
    let memory_limit_bytes = partition_memory_limit_bytes();
    configure_streams(
        &mut || {
            source.probe(memory_limit_bytes).map_err(|e| {
                BootConfigError::from(DiskError::ReadImage {
                    offset: 0,
                    cause: io::Error::other(e),
                })
            })
        },
        request,
        memory_limit_bytes,
    )
}

/// Finds the boot partition of the image that `open_stream` streams (a
/// fresh reader from byte 0 on each call), and returns its bytes with
/// `request` written into them. Holds at most one partition no larger than
/// `memory_limit_bytes` (two while a directory is created).
pub fn configure_streams<R: Read>(
    open_stream: &mut dyn FnMut() -> Result<R, BootConfigError>,
    request: &ConfigRequest,
    memory_limit_bytes: u64,
) -> Result<Configured, BootConfigError> {
    let BootBytes {
        partition,
        rule,
        label,
        mut bytes,
        device_type,
    } = read_boot(open_stream, memory_limit_bytes)?;

    // WiFi alone: the config.json already in the partition stays as it is.
    let kept = match &request.config {
        Some(_) => None,
        None => {
            let existing = fat::read_file(&bytes, CONFIG_PATH)
                .ok()
                .flatten()
                .ok_or(BootConfigError::WifiWithoutConfig)?;
            Some(ConfigJson::parse(
                &existing,
                std::path::Path::new(CONFIG_PATH),
            )?)
        }
    };
    let Some(config) = request.config.as_ref().or(kept.as_ref()) else {
        return Err(BootConfigError::WifiWithoutConfig);
    };

    write_request(&mut bytes, request, &partition)?;
    let patch = diff_with_image(open_stream()?, partition.offset, &bytes)?;
    drop(bytes);

    let warnings = device_type_warnings(config, device_type.as_ref());
    Ok(Configured {
        patch,
        partition: BootPartition {
            number: partition.number,
            label,
            offset: partition.offset,
            size_bytes: partition.size_bytes,
            rule,
        },
        config_sha256: config.sha256_hex(),
        warnings,
        config_kept: kept.is_some(),
        customisation: None,
    })
}

/// The boot partition of an image, read into memory by the rules of
/// `find_boot` (docs/architecture.md §4): what every configuration edits,
/// balenaOS's and the customisations' (`crate::customise`) alike.
#[derive(Debug)]
pub(crate) struct BootBytes {
    pub partition: Partition,
    pub rule: BootRule,
    /// The GPT name or FAT label.
    pub label: Option<String>,
    pub bytes: Vec<u8>,
    /// The image's `/device-type.json`, when the partition holds one.
    pub device_type: Option<DeviceType>,
}

impl BootBytes {
    /// The file at `path` in the partition, `None` when it has none (or
    /// the FAT cannot be read, which the edit then reports).
    pub(crate) fn file(&self, path: &str) -> Option<Vec<u8>> {
        fat::read_file(&self.bytes, path).ok().flatten()
    }

    /// How the command line and `--json` name this partition.
    pub(crate) fn boot_partition(&self) -> BootPartition {
        BootPartition {
            number: self.partition.number,
            label: self.label.clone(),
            offset: self.partition.offset,
            size_bytes: self.partition.size_bytes,
            rule: self.rule,
        }
    }
}

/// Finds and reads the boot partition of the image `open_stream` streams
/// (a fresh reader from byte 0 on each call), holding at most one partition
/// no larger than `memory_limit_bytes`.
pub(crate) fn read_boot<R: Read>(
    open_stream: &mut dyn FnMut() -> Result<R, BootConfigError>,
    memory_limit_bytes: u64,
) -> Result<BootBytes, BootConfigError> {
    let table = read_partition_table(&mut ForwardReader::new(open_stream()?))?;
    let choice = find_boot::find_boot_partition(&table, open_stream, memory_limit_bytes)?;
    let partition = choice.partition;
    if partition.size_bytes > memory_limit_bytes {
        // A partition table pointing past the image's end (a truncated
        // image) must not be reported as a lack of memory.
        let end = partition.offset.saturating_add(partition.size_bytes);
        let mut reader = ForwardReader::new(open_stream()?);
        if let Err(DiskError::ImageTooShort { image_len, .. }) =
            reader.read_exact_at(end - 1, &mut [0u8])
        {
            return Err(BootConfigError::PartitionPastImageEnd {
                number: partition.number,
                offset: partition.offset,
                size_bytes: partition.size_bytes,
                image_len,
            });
        }
        return Err(BootConfigError::PartitionTooLarge {
            number: partition.number,
            size_bytes: partition.size_bytes,
            limit_bytes: memory_limit_bytes,
        });
    }
    let bytes = match choice.held_bytes {
        Some(bytes) => bytes,
        None => find_boot::read_partition(&mut ForwardReader::new(open_stream()?), &partition)?,
    };
    let device_type = match choice.device_type {
        Some(device_type) => Some(device_type),
        None => fat::read_file(&bytes, DEVICE_TYPE_PATH)
            .ok()
            .flatten()
            .map(|json| DeviceType::parse(&json)),
    };
    let label = partition
        .label()
        .map(str::to_string)
        .or_else(|| fat::root_dir_label(&bytes));
    Ok(BootBytes {
        partition,
        rule: choice.rule,
        label,
        bytes,
        device_type,
    })
}

/// Writes `files` into `boot` (its FAT's chains checked first) and returns
/// the patch that turns the image (streamed again by `open_stream`) into
/// the edited partition.
pub(crate) fn patch_with_files<R: Read>(
    open_stream: &mut dyn FnMut() -> Result<R, BootConfigError>,
    boot: &mut BootBytes,
    files: &[FileToWrite<'_>],
) -> Result<Patch, BootConfigError> {
    write_checked(&mut boot.bytes, files, &boot.partition)?;
    diff_with_image(open_stream()?, boot.partition.offset, &boot.bytes)
}

/// The patch that turns the image's bytes at `offset` (read again from
/// `stream`, the image from its first byte) into `configured`: only the
/// blocks that differ, so that a patch per target costs KiBs, not the whole
/// partition. Reading again, rather than copying the partition before the
/// edit, keeps one partition in memory.
fn diff_with_image<R: Read>(
    stream: R,
    offset: u64,
    configured: &[u8],
) -> Result<Patch, BootConfigError> {
    let mut reader = ForwardReader::new(stream);
    let mut builder = PatchBuilder::new(offset, configured.len() as u64);
    let mut old = vec![0u8; patch::BLOCK];
    for (i, new) in configured.chunks(patch::BLOCK).enumerate() {
        let at = offset + (i * patch::BLOCK) as u64;
        let old = &mut old[..new.len()];
        reader.read_exact_at(at, old)?;
        builder.block(at, old, new);
    }
    Ok(builder.finish())
}

/// Writes the files of `request` (config.json, the WiFi profile) into
/// `bytes`, the FAT filesystem of boot partition `partition`: the one edit,
/// also what the FAT fuzz target runs.
pub(crate) fn write_request(
    bytes: &mut [u8],
    request: &ConfigRequest,
    partition: &Partition,
) -> Result<(), BootConfigError> {
    let keyfile = request.wifi.as_ref().map(WifiProfile::keyfile);
    let wifi_path = format!("{}/{}", wifi::CONNECTIONS_DIR, wifi::PROFILE_NAME);
    let mut files: Vec<FileToWrite<'_>> = request
        .config
        .iter()
        .map(|config| FileToWrite {
            path: CONFIG_PATH,
            contents: &config.bytes,
        })
        .collect();
    if let Some(keyfile) = &keyfile {
        files.push(FileToWrite {
            path: &wifi_path,
            contents: keyfile.as_bytes(),
        });
    }
    write_checked(bytes, &files, partition)
}

/// Writes `files` into `bytes`, the FAT filesystem of `partition`, after
/// checking its cluster chains.
fn write_checked(
    bytes: &mut [u8],
    files: &[FileToWrite<'_>],
    partition: &Partition,
) -> Result<(), BootConfigError> {
    // fatfs trusts the FAT; a damaged one would make the edit destroy
    // other files. Nothing is written unless every chain is sound.
    let replaced: Vec<&str> = files.iter().map(|f| f.path).collect();
    fat_check::check_chains(bytes, &replaced).map_err(|problem| BootConfigError::DamagedFat {
        number: partition.number,
        offset: partition.offset,
        problem,
    })?;
    fat::write_files(bytes, files).map_err(|e| edit_error(e, partition, files))
}

fn edit_error(
    error: FatEditError,
    partition: &Partition,
    files: &[FileToWrite<'_>],
) -> BootConfigError {
    let (number, offset) = (partition.number, partition.offset);
    match error {
        FatEditError::NotFat(source) => BootConfigError::NotFat {
            number,
            offset,
            cause: source,
        },
        FatEditError::NoSpace {
            file,
            free_bytes,
            source,
        } => BootConfigError::DoesNotFit {
            file_len: files
                .iter()
                .find(|f| f.path == file)
                .map_or(0, |f| f.contents.len() as u64),
            file,
            number,
            offset,
            free_bytes,
            cause: source,
        },
        FatEditError::Write { file, source } => BootConfigError::EditFat {
            file,
            number,
            offset,
            cause: source,
        },
    }
}

fn device_type_warnings(config: &ConfigJson, image: Option<&DeviceType>) -> Vec<String> {
    let wanted = config.device_type.as_deref();
    let image_slug = image.and_then(|d| d.slug.as_deref());
    match (wanted, image_slug) {
        (Some(wanted), Some(slug)) if wanted != slug => vec![format!(
            "config.json is for deviceType \"{wanted}\", but the image is for \"{slug}\" (its /device-type.json); the device may not join its fleet"
        )],
        (None, image) => vec![format!(
            "config.json has no \"deviceType\", so Imprint cannot check that it is for this image{}; download the fleet's config.json from balenaCloud, which has one",
            image
                .map(|slug| format!(" (for \"{slug}\")"))
                .unwrap_or_default()
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

//! `imprint configure`.
//!
//! `configure` streams the image (any input format) into a new raw image
//! file with the configured boot partition in place of the original: the
//! same bytes `flash --config` writes to a drive.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::args::ConfigureArgs;
use super::refuse;
use crate::bootcfg::{Configured, PatchedReader};
use crate::platform::{self, UserOpen};
use crate::protocol::{ErrorKind, WireBootPartition, WireEvent};
use crate::request::Exit;
use crate::source::ImageSource;

/// Bytes copied per read while writing the configured image.
const COPY_BUFFER_LEN: usize = 4 << 20;

/// Whether `output` names the same file as `input` (only possible when it
/// exists already).
fn is_same_file(input: &Path, output: &Path) -> bool {
    match (fs::canonicalize(input), fs::canonicalize(output)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `imprint configure IMAGE --config FILE [--wifi-ssid S [--wifi-psk K]] -o OUT`.
pub(super) fn run(args: ConfigureArgs) -> Exit {
    let mut config = (&args.config).into();
    let customise = match args.customisation.to_options(&mut config) {
        Ok(customise) => customise,
        Err(message) => return refuse(args.json, ErrorKind::Config, &message),
    };
    if let Err(why) = check_paths(&args, customise.is_empty()) {
        return refuse(args.json, ErrorKind::Refused, &why);
    }
    let source = match ImageSource::open(&args.image) {
        Ok(source) => source,
        Err(e) => return refuse(args.json, ErrorKind::Image, &e.to_string()),
    };
    let configured = match crate::request::configure_customised(&source, &config, &customise) {
        Ok(Some(configured)) => configured,
        Ok(None) => {
            return refuse(args.json, ErrorKind::Usage, "configure needs --config FILE");
        }
        Err(e) => return refuse(args.json, e.kind(), &e.to_string()),
    };
    super::terminal::print_customisation(&configured);
    for warning in &configured.warnings {
        eprintln!("imprint: warning: {warning}");
    }
    // As the user: run through pkexec, root must not create or overwrite a
    // file the user could not (docs/architecture.md §3).
    let output = match platform::open_as_user(&args.output, UserOpen::Create) {
        Ok(file) => file,
        Err(e) => {
            return refuse(
                args.json,
                ErrorKind::Refused,
                &format!("cannot create {}: {e}", args.output.display()),
            );
        }
    };
    match write_configured(&source, &configured, output, &args.output) {
        Ok((image_bytes, image_sha256)) => {
            report(&args, &configured, image_bytes, &image_sha256);
            Exit::Ok
        }
        Err(message) => {
            // A partial image must not pass for a configured one.
            let _ = fs::remove_file(&args.output);
            if args.json {
                super::json_lines::emit(&WireEvent::error(ErrorKind::Write, &message));
            }
            eprintln!("imprint: {message}");
            Exit::Failed
        }
    }
}

/// Refuses a run without a configuration, or whose output would overwrite
/// the image, the configuration or something other than a regular file.
fn check_paths(args: &ConfigureArgs, no_customisation: bool) -> Result<(), String> {
    if args.config.config.is_none() && no_customisation {
        return Err("configure needs --config FILE (a balenaOS config.json) or customisation options (--hostname, --user, --ssh-key, …)".into());
    }
    let output = args.output.display();
    if is_same_file(&args.image, &args.output) {
        return Err(format!(
            "-o {output} names the input image; Imprint never modifies the source, choose another output file"
        ));
    }
    if let Some(config) = &args.config.config
        && is_same_file(config, &args.output)
    {
        return Err(format!(
            "-o {output} names the config file; choose another output file"
        ));
    }
    if let Ok(metadata) = fs::metadata(&args.output)
        && !metadata.is_file()
    {
        return Err(format!(
            "-o {output} is not a regular file; to write a drive, use `imprint flash … --config`, which checks the drive first"
        ));
    }
    Ok(())
}

fn report(args: &ConfigureArgs, configured: &Configured, image_bytes: u64, image_sha256: &str) {
    let partition = &configured.partition;
    if args.json {
        super::json_lines::emit(&WireEvent::Done {
            ok: 1,
            failed: 0,
            image_sha256: Some(image_sha256.to_string()),
            image_bytes: Some(image_bytes),
            output: Some(args.output.display().to_string()),
            boot_partition: Some(WireBootPartition::from(partition)),
            config_sha256: Some(configured.config_sha256.clone()),
            warnings: configured.warnings.clone(),
            customisation: configured
                .customisation
                .as_ref()
                .map(|c| Box::new(crate::protocol::WireCustomisation::from(c))),
        });
    } else {
        let what = match &configured.customisation {
            Some(c) => format!("{} ({}) sha256", c.format, c.files.join(", ")),
            None => "config.json sha256".to_string(),
        };
        println!(
            "Configured boot partition {}{} at byte {}; {what} {}",
            partition.number,
            partition
                .label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default(),
            partition.offset,
            configured.config_sha256
        );
        println!(
            "Wrote {} ({} bytes), sha256 {}",
            args.output.display(),
            image_bytes,
            image_sha256
        );
    }
}

/// Streams the image with the configured partition into `output`; returns
/// its size and SHA-256.
fn write_configured(
    source: &ImageSource,
    configured: &Configured,
    file: File,
    output: &Path,
) -> Result<(u64, String), String> {
    let stream = source
        .stream()
        .map_err(|e| format!("cannot read {}: {e}", source.path().display()))?;
    let mut reader = PatchedReader::new(stream, configured.patch.clone());
    let mut writer = BufWriter::with_capacity(COPY_BUFFER_LEN, file);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; COPY_BUFFER_LEN];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(format!(
                    "cannot read {} at byte offset {}: {e}",
                    source.path().display(),
                    reader.position()
                ));
            }
        };
        hasher.update(&buffer[..n]);
        writer.write_all(&buffer[..n]).map_err(|e| {
            format!(
                "cannot write {} at byte offset {}: {e}",
                output.display(),
                reader.position() - n as u64
            )
        })?;
    }
    if !reader.patch_complete() {
        return Err(format!(
            "{} ended at byte {}, inside its boot partition",
            source.path().display(),
            reader.position()
        ));
    }
    let file = writer
        .into_inner()
        .map_err(|e| format!("cannot write {}: {}", output.display(), e.error()))?;
    file.sync_all()
        .map_err(|e| format!("cannot write {} (fsync): {e}", output.display()))?;
    let sha = crate::engine::hex(&hasher.finalize());
    Ok((reader.position(), sha))
}

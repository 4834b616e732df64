//! The command-line contract (docs/architecture.md §5), as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::request::ConfigOptions;

#[derive(Debug, Parser)]
#[command(
    name = "imprint",
    version,
    about = "Flash OS images to SD cards and USB drives, many at once, verified",
    long_about = "Flash OS images (raw, xz, gzip, zstd, bzip2, zip) to SD cards and USB drives, \
                  many at once, and verify every byte by reading it back. Without a command, \
                  the desktop app opens."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the desktop app, with IMAGE preselected.
    Gui { image: Option<PathBuf> },
    /// Write IMAGE to every target, then read each back and verify it.
    Flash(FlashArgs),
    /// Compare targets with IMAGE, byte for byte.
    Verify(VerifyArgs),
    /// Write a configured copy of IMAGE (config.json, WiFi) to a new raw image file.
    Configure(ConfigureArgs),
    /// List drives (by default the ones a user would flash).
    List(ListArgs),
    /// Print the SHA-256 of the decompressed image.
    Hash { image: PathBuf },
}

/// balenaOS configuration to embed into the image's boot partition.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// A balenaOS config.json to write into the boot partition.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// WiFi network to provision (NetworkManager profile in the boot partition).
    /// An SSID is bytes, not necessarily UTF-8.
    #[arg(long, value_name = "SSID")]
    pub wifi_ssid: Option<std::ffi::OsString>,
    /// WiFi passphrase (8–63 characters); omit for an open network.
    #[arg(long, value_name = "KEY", requires = "wifi_ssid")]
    pub wifi_psk: Option<String>,
}

impl From<&ConfigArgs> for ConfigOptions {
    fn from(args: &ConfigArgs) -> ConfigOptions {
        ConfigOptions {
            config: args.config.clone(),
            wifi_ssid: args.wifi_ssid.clone(),
            wifi_psk: args.wifi_psk.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct FlashArgs {
    /// The image: raw, or compressed with xz, gzip, zstd, bzip2, or a zip archive.
    pub image: PathBuf,
    /// A block device or file to write (repeat for several drives at once).
    #[arg(short = 't', long = "target", value_name = "TARGET", required = true)]
    pub targets: Vec<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Do not read the targets back after writing.
    #[arg(long)]
    pub no_verify: bool,
    /// The SHA-256 the decompressed image must have.
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print one JSON object per line on stdout, nothing else.
    #[arg(long)]
    pub json: bool,
    /// Run every check, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write and verify every byte of the image, free space included.
    #[arg(long)]
    pub full: bool,
    /// Eject each drive once it is written and verified: flushed, and
    /// powered off when it is a USB drive and udisks2 is installed.
    #[arg(long)]
    pub eject: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    pub image: PathBuf,
    #[arg(short = 't', long = "target", value_name = "TARGET", required = true)]
    pub targets: Vec<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[arg(long)]
    pub json: bool,
    /// Compare every byte of the image, free space included.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    pub image: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The configured raw image to write (must not be the input).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include system, fixed and virtual (loop) drives, each marked.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

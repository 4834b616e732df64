//! The command-line contract (docs/architecture.md §5), as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub(super) use super::customise_args::CustomiseArgs;
use crate::request::IdentityOptions;
use crate::request::{BmapChoice, ConfigOptions};

#[derive(Debug, Parser)]
#[command(
    name = "imprint",
    version,
    about = "Flash OS images to SD cards and USB drives, many at once, verified",
    long_about = "Flash OS images (raw, xz, gzip, zstd, bzip2, zip) to SD cards and USB drives, \
                  many at once, and verify every byte by reading it back. Without a command, \
                  the desktop app opens (with IMAGE, that image preselected).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Open the desktop app with IMAGE preselected (as `imprint gui IMAGE`,
    /// and as a file manager's "Open with" runs it).
    #[arg(value_name = "IMAGE")]
    pub image: Option<PathBuf>,
}

// One value, parsed once at start: boxing the large variants would only
// make every match on it noisier.
#[allow(clippy::large_enum_variant)]
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
    /// A flashing station: flash every drive plugged in from now on, each
    /// alone and at its own pace, until Ctrl-C (or --count drives).
    Station(StationArgs),
    /// Signing keys (minisign's format) for signed --report records.
    Key(super::key::KeyArgs),
    /// Check a drive against its signed record, range by range, without the image.
    VerifyDrive(super::verify_drive::VerifyDriveArgs),
    /// Save a drive as an image reading only its used bytes, compressed as
    /// the name says, with a .bmap and a .sha256 beside it.
    Backup(super::backup::BackupArgs),
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

/// Which bmap file describes the image.
#[derive(Debug, Clone, Default, Args)]
pub struct BmapArgs {
    /// A bmap file (bmaptool's block map) for the image; by default one
    /// beside it is used (os.img.bmap or os.img.xz.bmap for os.img.xz).
    /// Its ranges are written as well, and their checksums checked.
    #[arg(long, value_name = "FILE", conflicts_with = "no_bmap")]
    pub bmap: Option<PathBuf>,
    /// Ignore a bmap file beside the image.
    #[arg(long)]
    pub no_bmap: bool,
}

impl From<&BmapArgs> for BmapChoice {
    fn from(args: &BmapArgs) -> BmapChoice {
        match (&args.bmap, args.no_bmap) {
            (_, true) => BmapChoice::Ignore,
            (Some(path), false) => BmapChoice::File(path.clone()),
            (None, false) => BmapChoice::Beside,
        }
    }
}

/// Each drive its own configuration, and a record of what went where.
#[derive(Debug, Clone, Default, Args)]
pub struct IdentityArgs {
    /// A CSV file whose header names config.json keys (e.g.
    /// uuid,deviceApiKey,hostname): each drive takes the next unused row,
    /// merged into --config. Rows already written ok or claimed (as
    /// --report records) are not used again.
    #[arg(long, value_name = "FILE.csv")]
    pub each: Option<PathBuf>,
    // Not a doc comment: clap turns `{n}` in help text into a line break,
    // so the text is built by `placeholder_help`.
    #[arg(long, help = placeholder_help())]
    pub new_uuid: bool,
    /// Append one JSON line per drive to FILE: times, drive, image and
    /// config SHA-256, uuid/hostname/row, bytes, MB/s, result. Locked for
    /// the whole run; each drive's row is claimed in it before writing.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Sign each --report record with this minisign secret key (`imprint
    /// key new`): each drive is read back once more for a SHA-256 of each
    /// piece of its used ranges, and its record is written alone beside
    /// FILE with a .minisig that `minisign -V` and `imprint verify-drive`
    /// check.
    #[arg(long, value_name = "KEY", requires = "report")]
    pub sign: Option<PathBuf>,
}

/// The help of `--new-uuid`, naming the placeholders. clap replaces `{n}`
/// in help text with a line break and has no escape for it; an ANSI reset
/// code between `{` and `n}` keeps it whole, and clap strips that code
/// where the output is not a colour terminal (a pipe, a file).
fn placeholder_help() -> String {
    let n = "{\x1b[0mn}";
    format!(
        "Give each drive a fresh random device uuid (32 hexadecimal digits). \
         String values of --config may use {{serial}}, {n} (the drive's number \
         in the run, from 1, going on from --report) and {{uuid}}"
    )
}

impl From<&IdentityArgs> for IdentityOptions {
    fn from(args: &IdentityArgs) -> IdentityOptions {
        IdentityOptions {
            each: args.each.clone(),
            new_uuid: args.new_uuid,
        }
    }
}

#[derive(Debug, Args)]
pub struct StationArgs {
    /// The image: raw, or compressed with xz, gzip, zstd, bzip2, or a zip archive (a file, not a stream).
    pub image: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub customisation: CustomiseArgs,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Do not read the drives back after writing.
    #[arg(long)]
    pub no_verify: bool,
    /// Skip the counterfeit probe of each drive (on by default; a probed
    /// fake fails as `fake` before anything is written to it).
    #[arg(long)]
    pub no_probe: bool,
    /// The SHA-256 the decompressed image must have.
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Write and verify every byte of the image, free space included.
    #[arg(long)]
    pub full: bool,
    /// Print one JSON object per line on stdout, nothing else.
    #[arg(long)]
    pub json: bool,
    /// Stop after N drives finished (ok or failed).
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
    /// Flash only drives whose device path, serial or (loop devices) backing
    /// file matches this glob; the only way to flash loop devices and fixed
    /// drives. Repeatable.
    #[arg(long = "match", value_name = "GLOB")]
    pub matches: Vec<String>,
    /// Flash a drive again when it is plugged in again.
    #[arg(long)]
    pub again: bool,
    /// Flash drives larger than 128 GB too.
    #[arg(long)]
    pub allow_large: bool,
    /// Leave each drive as it is when done; by default it is flushed and,
    /// when it is a USB drive and udisks2 is installed, powered off.
    #[arg(long)]
    pub no_eject: bool,
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
    #[command(flatten)]
    pub customisation: CustomiseArgs,
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub signed: super::signed_image::SignedImageArgs,
    /// Do not read the targets back after writing.
    #[arg(long)]
    pub no_verify: bool,
    /// The SHA-256 the decompressed image must have.
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Report the image's SHA-256 (and each configured drive's) without
    /// comparing it: one more pass over every byte, so off by default.
    #[arg(long)]
    pub image_sha256: bool,
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
    #[command(flatten)]
    pub bmap: BmapArgs,
    /// Skip the counterfeit probe of each drive (on by default for drives).
    #[arg(long, conflicts_with = "probe")]
    pub no_probe: bool,
    /// `full`: probe every free byte of each drive for a counterfeit,
    /// f3write-style (slow; the free space is overwritten); `quick`: the
    /// default, a few hundred KiB.
    #[arg(long, value_name = "MODE", value_parser = ["quick", "full"])]
    pub probe: Option<String>,
}

impl FlashArgs {
    /// The counterfeit probe the options ask for.
    pub(crate) fn probe_mode(&self) -> crate::target::probe::ProbeMode {
        use crate::target::probe::ProbeMode;
        match (self.no_probe, self.probe.as_deref()) {
            (true, _) => ProbeMode::Off,
            (false, Some("full")) => ProbeMode::Full,
            _ => ProbeMode::Quick,
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    pub image: PathBuf,
    #[arg(short = 't', long = "target", value_name = "TARGET", required = true)]
    pub targets: Vec<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Taken only to refuse them with the way to verify such drives: each
    /// drive got its own config.json, which one --config cannot match.
    #[arg(long, hide = true, value_name = "FILE.csv")]
    pub each: Option<PathBuf>,
    #[arg(long, hide = true)]
    pub new_uuid: bool,
    #[arg(long)]
    pub json: bool,
    /// Compare every byte of the image, free space included.
    #[arg(long)]
    pub full: bool,
    #[command(flatten)]
    pub bmap: BmapArgs,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    pub image: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub customisation: CustomiseArgs,
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};

    #[test]
    fn an_image_alone_opens_the_app_and_commands_stay_commands() {
        let cli = Cli::try_parse_from(["imprint", "raspios.img.xz"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.image.unwrap().to_str(), Some("raspios.img.xz"));
        let cli = Cli::try_parse_from(["imprint", "hash", "a.img"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Hash { .. })));
        assert!(cli.image.is_none());
        let cli = Cli::try_parse_from(["imprint"]).unwrap();
        assert!(cli.command.is_none() && cli.image.is_none());
        // A command's own arguments are not taken for an image.
        assert!(Cli::try_parse_from(["imprint", "a.img", "--json"]).is_err());
    }
}

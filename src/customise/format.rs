//! The customisation formats Imprint writes, by the names Raspberry Pi
//! Imager's catalogue uses for them (`init_format`).

use std::fmt;
use std::str::FromStr;

/// How an image expects to be set up before its first boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// balenaOS: `config.json` on the boot partition.
    Balena,
    /// Raspberry Pi OS Bookworm: `firstrun.sh`, run by systemd from
    /// `cmdline.txt`.
    Systemd,
    /// cloud-init's NoCloud seed on the boot partition (Ubuntu for Pi and
    /// others).
    CloudInit,
    /// Raspberry Pi OS Trixie: NoCloud as `cloudinit`, on an image whose
    /// firmware reads `cmdline.txt`.
    CloudInitRpi,
}

impl Format {
    /// Every format, in the order `--format`'s help lists them.
    pub const ALL: [Format; 4] = [
        Format::Systemd,
        Format::CloudInitRpi,
        Format::CloudInit,
        Format::Balena,
    ];

    /// The name `--format` takes and `--json` prints.
    pub fn name(self) -> &'static str {
        match self {
            Format::Balena => "balena",
            Format::Systemd => "systemd",
            Format::CloudInit => "cloudinit",
            Format::CloudInitRpi => "cloudinit-rpi",
        }
    }

    /// The list of names, for messages.
    pub fn names() -> String {
        Format::ALL.map(Format::name).join(", ")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(name: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown customisation format {name:?}: use one of {}",
                    Format::names()
                )
            })
    }
}

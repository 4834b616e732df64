//! Which customisation format an image expects, told from its own bytes:
//! the files of its boot partition (balenaOS's `device-type.json` and
//! `config.json` or its boot label, cloud-init's NoCloud seed files,
//! Raspberry Pi OS's first-boot hook in `cmdline.txt` and its `issue.txt`).
//! Every fact that decided is kept as evidence for the user; an image none
//! of them fits is refused with what was looked for — never guessed.

use super::format::Format;
use crate::bootcfg::{BootBytes, BootRule};

/// Raspberry Pi OS's first-boot hook (Bookworm): `init=` in cmdline.txt.
const FIRSTBOOT_HOOK: &str = "init=/usr/lib/raspberrypi-sys-mods/firstboot";
/// The first line of Raspberry Pi OS's `issue.txt`.
const RPI_ISSUE: &str = "Raspberry Pi reference";
/// cloud-init's NoCloud seed files.
const SEEDS: [&str; 3] = ["user-data", "meta-data", "network-config"];

/// What detection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// `Err(reason)` when no format fits: what was looked for, and the way out.
    pub format: Result<Format, String>,
    /// The facts found, one a line, whatever the result.
    pub evidence: Vec<String>,
}

/// The format of the image whose boot partition is `boot`.
pub(crate) fn detect(boot: &BootBytes) -> Detection {
    let place = format!(
        "boot partition {}{}",
        boot.partition.number,
        boot.label
            .as_deref()
            .map(|l| format!(" ({l:?})"))
            .unwrap_or_default()
    );
    let mut evidence = Vec::new();
    let has = |file: &str| boot.file(file).is_some();
    if boot.rule == BootRule::Label {
        evidence.push(format!("{place} carries balenaOS's boot label"));
    }
    for file in ["device-type.json", "config.json"] {
        if has(file) {
            evidence.push(format!("{place} has /{file} (balenaOS)"));
        }
    }
    if !evidence.is_empty() {
        return Detection {
            format: Ok(Format::Balena),
            evidence,
        };
    }
    if has("rpi-preseed.toml") {
        evidence.push(format!("{place} has /rpi-preseed.toml (rpi-preseed)"));
        return Detection {
            format: Err("the image is set up by rpi-preseed (rpi-preseed.toml), which Imprint does not write yet".to_string()),
            evidence,
        };
    }
    let cmdline = boot
        .file("cmdline.txt")
        .map(|c| String::from_utf8_lossy(&c).into_owned());
    let hook = cmdline
        .as_deref()
        .is_some_and(|c| c.split_whitespace().any(|w| w == FIRSTBOOT_HOOK));
    let issue = boot
        .file("issue.txt")
        .map(|t| {
            String::from_utf8_lossy(&t)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .filter(|line| line.starts_with(RPI_ISSUE));
    if hook {
        evidence.push(format!(
            "{place}'s cmdline.txt has {FIRSTBOOT_HOOK} (Raspberry Pi OS's first-boot hook)"
        ));
    }
    if let Some(issue) = &issue {
        evidence.push(format!(
            "{place}'s issue.txt says {issue:?} (Raspberry Pi OS)"
        ));
    }
    let raspberry_pi_os = hook || issue.is_some();
    let seeds: Vec<&str> = SEEDS.into_iter().filter(|s| has(s)).collect();
    if !seeds.is_empty() {
        evidence.push(format!(
            "{place} has cloud-init's NoCloud seed: {}",
            seeds.join(", ")
        ));
        let format = if raspberry_pi_os {
            Format::CloudInitRpi
        } else {
            Format::CloudInit
        };
        return Detection {
            format: Ok(format),
            evidence,
        };
    }
    if raspberry_pi_os {
        return Detection {
            format: Ok(Format::Systemd),
            evidence,
        };
    }
    Detection {
        format: Err(format!(
            "cannot tell how this image is customised: {place} has none of balenaOS's \
             device-type.json or config.json, cloud-init's seed files ({}), Raspberry Pi OS's \
             first-boot hook ({FIRSTBOOT_HOOK} in cmdline.txt) or issue.txt, or rpi-preseed.toml; \
             if you know the format, give --format NAME (one of {})",
            SEEDS.join(", "),
            Format::names()
        )),
        evidence,
    }
}

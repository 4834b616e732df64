//! A drive as the station sees it: its stable id, what `--match` is tested
//! against, and whether it may be flashed (docs/architecture.md §11 "Station identity
//! and safety").

use super::glob;
use crate::drives::Bus;
pub(crate) use crate::request::SeenDrive;

/// Drives above this are skipped unless `--allow-large`: a fleet's cards
/// are small, and a big disk is more likely someone's backup.
pub(crate) const LARGE_DRIVE_BYTES: u64 = 128_000_000_000;

// `SeenDrive` itself is the request layer's (`flash --each` names drives
// too); what the station adds is its `--match` test.
impl SeenDrive {
    /// Whether a `--match` pattern names this drive: its device path, its
    /// serial, or a loop device's backing file.
    pub fn matches(&self, patterns: &[String]) -> bool {
        let mut names = vec![self.drive.path.to_string_lossy().into_owned()];
        names.extend(self.drive.serial.clone());
        names.extend(
            self.media
                .backing_file
                .as_ref()
                .map(|f| f.to_string_lossy().into_owned()),
        );
        patterns
            .iter()
            .any(|pattern| names.iter().any(|name| glob::matches(pattern, name)))
    }
}

/// The rules a station applies before flashing a newly inserted drive.
#[derive(Debug, Clone, Default)]
pub(crate) struct Eligibility {
    /// `--match`: when given, only drives it names; it is also the only way
    /// to flash a loop device or a fixed drive.
    pub matches: Vec<String>,
    /// `--allow-large`.
    pub allow_large: bool,
}

impl Eligibility {
    /// Why `drive` is not flashed, or `None` when it may be (the target
    /// checks of docs/architecture.md §3 still follow).
    pub(crate) fn refusal(&self, seen: &SeenDrive) -> Option<String> {
        let drive = &seen.drive;
        if let Some(reason) = &drive.system {
            return Some(format!("a system drive ({reason})"));
        }
        if self.matches.is_empty() {
            if drive.bus == Bus::Virtual {
                return Some(
                    "a virtual drive (loop device); name it with --match to flash it".into(),
                );
            }
            if !drive.is_flashable_by_default() {
                return Some(
                    "a fixed drive, not removable; name it with --match to flash it".into(),
                );
            }
        } else if !seen.matches(&self.matches) {
            return Some("not named by --match".into());
        }
        if drive.size_bytes > LARGE_DRIVE_BYTES && !self.allow_large {
            return Some(format!(
                "larger than 128 GB ({}); --allow-large flashes it",
                crate::humanize::bytes(drive.size_bytes)
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::drives::Drive;
    use crate::platform::MediaIdentity;

    fn drive(path: &str, bus: Bus, removable: bool, serial: Option<&str>, size: u64) -> Drive {
        Drive {
            path: PathBuf::from(path),
            size_bytes: size,
            vendor: None,
            model: None,
            serial: serial.map(str::to_string),
            bus,
            removable,
            read_only: false,
            partitions: vec![],
            mount_points: vec![],
            system: None,
        }
    }

    fn loop_drive(file: &str) -> SeenDrive {
        let media = MediaIdentity {
            cid: None,
            backing_file: Some(PathBuf::from(file)),
        };
        SeenDrive::new(
            drive("/dev/loop3", Bus::Virtual, false, None, 8 << 20),
            media,
            1,
            false,
        )
    }

    #[test]
    fn ids_follow_the_medium() {
        let card = MediaIdentity {
            cid: Some("035344534c3634".into()),
            backing_file: None,
        };
        let sd = SeenDrive::new(
            drive("/dev/mmcblk0", Bus::Mmc, false, Some("0x1"), 64),
            card,
            1,
            false,
        );
        assert_eq!(sd.id, "cid:035344534c3634");
        assert_eq!(loop_drive("/tmp/a.img").id, "loop:/tmp/a.img");
        let stick = drive("/dev/sdb", Bus::Usb, true, Some("AA12"), 64);
        assert_eq!(
            SeenDrive::new(stick.clone(), MediaIdentity::default(), 1, false).id,
            SeenDrive::new(stick, MediaIdentity::default(), 2, false).id
        );
        // A card reader: the serial is the reader's, so each card in the
        // slot is a new drive; a card with a CID is itself wherever it is.
        let reader = drive("/dev/sdd", Bus::Usb, true, Some("READER1"), 64);
        assert_ne!(
            SeenDrive::new(reader.clone(), MediaIdentity::default(), 3, true).id,
            SeenDrive::new(reader.clone(), MediaIdentity::default(), 4, true).id
        );
        let card = MediaIdentity {
            cid: Some("c1".into()),
            backing_file: None,
        };
        assert_eq!(
            SeenDrive::new(reader.clone(), card.clone(), 3, true).id,
            SeenDrive::new(reader, card, 4, true).id
        );
        let anonymous = drive("/dev/sdc", Bus::Usb, true, None, 64);
        assert_ne!(
            SeenDrive::new(anonymous.clone(), MediaIdentity::default(), 1, false).id,
            SeenDrive::new(anonymous, MediaIdentity::default(), 2, false).id
        );
    }

    #[test]
    fn loop_and_fixed_drives_need_match_and_match_filters() {
        let rules = Eligibility::default();
        let l = loop_drive("/tmp/station/card-1.img");
        assert!(rules.refusal(&l).unwrap().contains("--match"));
        let fixed = SeenDrive::new(
            drive("/dev/sda", Bus::Sata, false, Some("S1"), 64),
            MediaIdentity::default(),
            1,
            false,
        );
        assert!(rules.refusal(&fixed).unwrap().contains("fixed"));
        let stick = SeenDrive::new(
            drive("/dev/sdb", Bus::Usb, true, Some("S2"), 64),
            MediaIdentity::default(),
            1,
            false,
        );
        assert_eq!(rules.refusal(&stick), None);

        let by_file = Eligibility {
            matches: vec!["/tmp/station/*".into()],
            allow_large: false,
        };
        assert_eq!(by_file.refusal(&l), None);
        assert!(by_file.refusal(&stick).unwrap().contains("--match"));
        let by_serial = Eligibility {
            matches: vec!["S?".into()],
            allow_large: false,
        };
        assert_eq!(by_serial.refusal(&fixed), None);
    }

    #[test]
    fn system_and_large_drives_are_skipped() {
        let rules = Eligibility {
            matches: vec!["*".into()],
            allow_large: false,
        };
        let mut system = drive("/dev/sda", Bus::Sata, false, Some("S"), 64);
        system.system = Some("holds /".into());
        let system = SeenDrive::new(system, MediaIdentity::default(), 1, false);
        assert!(rules.refusal(&system).unwrap().contains("system"));
        let big = SeenDrive::new(
            drive("/dev/sdb", Bus::Usb, true, Some("B"), 256_000_000_000),
            MediaIdentity::default(),
            1,
            false,
        );
        assert!(rules.refusal(&big).unwrap().contains("--allow-large"));
        let allowed = Eligibility {
            allow_large: true,
            ..rules
        };
        assert_eq!(allowed.refusal(&big), None);
        assert_eq!(loop_drive("/x/card.img").serial_text(), "card.img");
        assert_eq!(
            Path::new(loop_drive("/x/c").path()),
            Path::new("/dev/loop3")
        );
    }
}

//! A drive as a run sees it: its stable id and what `{serial}` stands for
//! (docs/architecture.md §11 "Station identity and safety"). The station
//! meets drives as they are inserted; `flash --each` finds them with
//! [`seen_at`].

use std::path::{Path, PathBuf};

use crate::drives::Drive;
use crate::platform::MediaIdentity;

/// A drive present now, with what identifies its medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenDrive {
    /// Stable across insertions of the same medium: `cid:…` (an SD card's
    /// CID), `loop:FILE`, `serial:SERIAL:SIZE`; a drive with none of these
    /// gets `dev:NAME:SIZE#K`, new at every insertion, since nothing tells
    /// two such cards apart — and so does a card in a reader slot whose
    /// serial is the reader's (`serial:SERIAL:SIZE#K`).
    pub id: String,
    pub drive: Drive,
    pub media: MediaIdentity,
}

impl SeenDrive {
    /// `insertion` numbers the drives seen by this station, to tell apart
    /// drives with no identity of their own; `reader_slot` says the device
    /// stayed while its medium was changed (a card reader), so its serial
    /// names the reader, not the card (docs/architecture.md §11).
    pub fn new(drive: Drive, media: MediaIdentity, insertion: u64, reader_slot: bool) -> SeenDrive {
        let id = if let Some(cid) = &media.cid {
            format!("cid:{cid}")
        } else if let Some(file) = &media.backing_file {
            format!("loop:{}", file.display())
        } else if let Some(serial) = &drive.serial {
            if reader_slot {
                format!("serial:{serial}:{}#{insertion}", drive.size_bytes)
            } else {
                format!("serial:{serial}:{}", drive.size_bytes)
            }
        } else {
            format!(
                "dev:{}:{}#{insertion}",
                drive.path.display(),
                drive.size_bytes
            )
        };
        SeenDrive { id, drive, media }
    }

    pub fn path(&self) -> &PathBuf {
        &self.drive.path
    }

    /// What `{serial}` stands for: the serial, else the card's CID, else a
    /// loop device's backing file name, else the device name.
    pub fn serial_text(&self) -> String {
        if let Some(serial) = &self.drive.serial {
            return serial.clone();
        }
        if let Some(cid) = &self.media.cid {
            return cid.clone();
        }
        let named = self.media.backing_file.as_ref().unwrap_or(&self.drive.path);
        named
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// What the drive list knows of the block device at `path` (any name of
/// it: `/dev/disk/by-id/…` too), as the station would see it; `None` for a
/// file or a device the list leaves out. For `flash --report` and `{serial}`.
pub fn seen_at(path: &Path) -> Option<SeenDrive> {
    let wanted = std::fs::canonicalize(path).ok()?;
    let drive = crate::drives::list()
        .ok()?
        .into_iter()
        .find(|d| std::fs::canonicalize(&d.path).is_ok_and(|p| p == wanted))?;
    let media = crate::platform::media_identity(&drive.path).ok()?;
    Some(SeenDrive::new(drive, media, 0, false))
}

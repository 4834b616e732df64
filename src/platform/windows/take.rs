//! Taking a physical disk for writing the way proven Windows flashers do
//! (Raspberry Pi Imager, bb-imager): every volume with bytes on the disk is
//! opened and locked (`FSCTL_LOCK_VOLUME`, retried for a moment), and only
//! when all are locked is each dismounted (`FSCTL_DISMOUNT_VOLUME`). A
//! volume that stays in use refuses the whole disk before anything is
//! dismounted, so a refusal changes nothing. The held volume handles keep
//! Windows from mounting the disk's filesystems again mid-write.

use std::fmt;
use std::io;

use super::drives::{disk_path, system_reason, volumes_on};
use super::seam::Win32;

/// How many times a lock is tried before the volume counts as in use.
pub(crate) const LOCK_ATTEMPTS: u32 = 10;

/// Why a disk could not be taken: carried inside an `io::Error` (kind
/// `ResourceBusy` or `PermissionDenied`), so `io_failure` and the messages
/// built on it read it as any other OS error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TakeRefused {
    #[error(
        "volume {volume} on {disk} is in use by another program (Windows refused to lock it {attempts} times: {cause}); close the files, Explorer windows and programs using it, then try again"
    )]
    InUse {
        volume: String,
        disk: String,
        attempts: u32,
        cause: io::Error,
    },
    #[error("{disk} is the system disk ({reason}): Imprint never writes it")]
    System { disk: String, reason: String },
}

/// The locked, dismounted volumes of a disk: held until dropped.
pub(crate) struct TakenDisk<V> {
    pub(crate) volumes: Vec<V>,
}

impl<V> fmt::Debug for TakenDisk<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TakenDisk({} volumes)", self.volumes.len())
    }
}

/// Locks every volume on physical disk `disk`, then dismounts them all.
pub(crate) fn take_disk<W: Win32>(os: &W, disk: u32) -> io::Result<TakenDisk<W::Volume>> {
    let volumes = os.volumes()?;
    let system = os.system_volume().ok();
    if let Some(reason) = system_reason(disk, &volumes, system.as_deref()) {
        let refused = TakeRefused::System {
            disk: disk_path(disk).display().to_string(),
            reason,
        };
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, refused));
    }
    let mut held = Vec::new();
    for volume in volumes_on(&volumes, disk) {
        let handle = os.open_volume(&volume.name)?;
        lock_with_retries(os, &handle).map_err(|cause| {
            let refused = TakeRefused::InUse {
                volume: volume.label(),
                disk: disk_path(disk).display().to_string(),
                attempts: LOCK_ATTEMPTS,
                cause,
            };
            io::Error::new(io::ErrorKind::ResourceBusy, refused)
        })?;
        held.push(handle);
    }
    for handle in &held {
        os.dismount_volume(handle)?;
    }
    Ok(TakenDisk { volumes: held })
}

fn lock_with_retries<W: Win32>(os: &W, volume: &W::Volume) -> io::Result<()> {
    let mut attempt = 1;
    loop {
        match os.lock_volume(volume) {
            Ok(()) => return Ok(()),
            Err(e) if attempt >= LOCK_ATTEMPTS => return Err(e),
            Err(_) => {
                attempt += 1;
                os.pause();
            }
        }
    }
}

#[cfg(test)]
#[path = "take_tests.rs"]
mod tests;

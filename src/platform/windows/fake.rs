//! Recorded Win32 answers for the tests of the Windows drive logic: a
//! machine described as data, whose lock, dismount and close calls are
//! logged so a test can say what happened and in which order.

use std::cell::RefCell;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;

use super::seam::{DiskAnswer, Extent, VolumeAnswer, Win32, bus};

/// What a fake volume handle saw.
pub(crate) type Log = Rc<RefCell<Vec<String>>>;

/// A machine: its disks, its volumes, which volumes refuse to lock.
#[derive(Default)]
pub(crate) struct FakeWindows {
    pub(crate) disks: Vec<DiskAnswer>,
    pub(crate) volumes: Vec<VolumeAnswer>,
    pub(crate) system_volume: Option<String>,
    /// Volumes whose lock fails this many times (u32::MAX: always).
    pub(crate) lock_failures: Vec<(String, u32)>,
    pub(crate) log: Log,
}

/// An open fake volume: logs its closing.
pub(crate) struct FakeVolume {
    name: String,
    log: Log,
}

impl Drop for FakeVolume {
    fn drop(&mut self) {
        self.log.borrow_mut().push(format!("close {}", self.name));
    }
}

impl Win32 for FakeWindows {
    type Volume = FakeVolume;

    fn disks(&self) -> io::Result<Vec<DiskAnswer>> {
        Ok(self.disks.clone())
    }
    fn volumes(&self) -> io::Result<Vec<VolumeAnswer>> {
        Ok(self.volumes.clone())
    }
    fn system_volume(&self) -> io::Result<String> {
        self.system_volume
            .clone()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }
    fn open_volume(&self, name: &str) -> io::Result<FakeVolume> {
        self.log.borrow_mut().push(format!("open {name}"));
        Ok(FakeVolume {
            name: name.to_string(),
            log: self.log.clone(),
        })
    }
    fn lock_volume(&self, volume: &FakeVolume) -> io::Result<()> {
        self.log.borrow_mut().push(format!("lock {}", volume.name));
        let failures = self.lock_failures.iter().find(|(n, _)| *n == volume.name);
        let tried = self
            .log
            .borrow()
            .iter()
            .filter(|l| **l == format!("lock {}", volume.name))
            .count() as u32;
        match failures {
            // ERROR_ACCESS_DENIED, what FSCTL_LOCK_VOLUME answers while
            // another handle has files open on the volume.
            Some((_, n)) if tried <= *n => Err(io::Error::from_raw_os_error(5)),
            _ => Ok(()),
        }
    }
    fn dismount_volume(&self, volume: &FakeVolume) -> io::Result<()> {
        self.log
            .borrow_mut()
            .push(format!("dismount {}", volume.name));
        Ok(())
    }
    fn pause(&self) {
        self.log.borrow_mut().push("pause".to_string());
    }
}

/// A disk answer with the given number, size and bus.
pub(crate) fn disk(number: u32, size_bytes: u64, bus_type: i32, removable: bool) -> DiskAnswer {
    DiskAnswer {
        number,
        size_bytes,
        sector_size: 512,
        bus_type,
        removable,
        read_only: false,
        vendor: Some("Generic".to_string()),
        model: Some(format!("Disk {number}")),
        serial: Some(format!("SN{number}")),
    }
}

/// A volume on one disk at `offset`, `length` bytes, mounted at `mounts`.
pub(crate) fn volume(
    guid: &str,
    disk: u32,
    offset: u64,
    length: u64,
    mounts: &[&str],
) -> VolumeAnswer {
    VolumeAnswer {
        name: format!(r"\\?\Volume{{{guid}}}\"),
        extents: vec![Extent {
            disk,
            offset,
            length,
        }],
        mount_points: mounts.iter().map(PathBuf::from).collect(),
    }
}

/// A laptop: disk 0 is the system SSD (NVMe, EFI + C:), disk 1 a card in a
/// USB reader with a FAT boot volume (E:) and a data volume (F:) placed
/// after it but listed first by Windows.
pub(crate) fn laptop() -> FakeWindows {
    let gib = 1 << 30;
    let c = volume("c", 0, 1 << 20, 400 * gib, &[r"C:\"]);
    FakeWindows {
        disks: vec![
            disk(1, 32 * gib, bus::USB, true),
            disk(0, 512 * gib, bus::NVME, false),
        ],
        volumes: vec![
            volume("f", 1, 300 << 20, 2 * gib, &[r"F:\"]),
            c.clone(),
            volume("efi", 0, 0, 1 << 20, &[]),
            volume("e", 1, 4 << 20, 256 << 20, &[r"E:\", r"C:\mnt\boot\"]),
        ],
        system_volume: Some(c.name),
        ..FakeWindows::default()
    }
}

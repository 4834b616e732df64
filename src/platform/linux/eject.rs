//! Leaving a flashed drive safe to pull out: its buffers flushed, and a
//! removable USB drive powered off through udisks2 when the machine has it
//! (as Raspberry Pi Imager does), so the desktop does not mount the fresh
//! partitions and the user sees the drive go away.

// System calls need unsafe: the eject ioctls through libc.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::drive_list::bus_of;
use super::sysfs::block_of_path;
use crate::platform::{Bus, Ejected};

// From <linux/fs.h>: `_IO(0x12, 97)`, flush the device's buffer cache.
const BLKFLSBUF: libc::c_ulong = 0x1261;
/// udisks2 waits for the drive to spin down; a stuck bus must not hold the
/// run's end for long.
const POWER_OFF_TIMEOUT: Duration = Duration::from_secs(20);

/// Flushes the whole disk `device` belongs to and, when it is a USB drive
/// and `udisksctl` is installed, powers it off.
pub fn eject(device: &Path) -> io::Result<Ejected> {
    let disk = block_of_path(device)?.whole_disk()?;
    let node = disk.dev_path();
    flush(&node)?;
    let bus = bus_of(&disk.name, &disk.device_dir()?);
    match power_off_plan(bus, find_in_path("udisksctl")) {
        Some(command) if run_with_timeout(&command, &node) => Ok(Ejected::PoweredOff),
        _ => Ok(Ejected::Flushed),
    }
}

/// The `udisksctl` to power the drive off with, when that is right for it:
/// only USB drives (sticks, card readers, disks) can be powered off; a
/// built-in card reader or a virtual disk stays, flushed.
fn power_off_plan(bus: Bus, udisksctl: Option<PathBuf>) -> Option<PathBuf> {
    (bus == Bus::Usb).then_some(udisksctl).flatten()
}

/// `fsync` and `BLKFLSBUF` on the disk: nothing of it stays in the cache.
fn flush(node: &Path) -> io::Result<()> {
    let file = File::open(node)?;
    file.sync_all()?;
    // SAFETY: BLKFLSBUF takes no argument. It needs CAP_SYS_ADMIN; without
    // it (a user's own loop device) the fsync above already made it durable.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), BLKFLSBUF as _, 0) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EACCES) && e.raw_os_error() != Some(libc::EPERM) {
            return Err(e);
        }
    }
    Ok(())
}

/// Runs `udisksctl power-off -b NODE` without asking anything; true when it
/// succeeded within the timeout.
fn run_with_timeout(udisksctl: &Path, node: &Path) -> bool {
    let child = Command::new(udisksctl)
        .args(["power-off", "--no-user-interaction", "-b"])
        .arg(node)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let deadline = Instant::now() + POWER_OFF_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_usb_drives_are_powered_off_and_only_with_udisks() {
        let udisks = Some(PathBuf::from("/usr/bin/udisksctl"));
        assert_eq!(power_off_plan(Bus::Usb, udisks.clone()), udisks);
        assert_eq!(power_off_plan(Bus::Usb, None), None);
        assert_eq!(power_off_plan(Bus::Mmc, udisks.clone()), None);
        assert_eq!(power_off_plan(Bus::Sata, udisks.clone()), None);
        assert_eq!(power_off_plan(Bus::Virtual, udisks), None);
    }
}

//! The port a drive hangs on (`/dev/disk/by-path`: the USB port or card
//! reader slot), for a record to say where a card was written.

use std::path::Path;

/// The name in `/dev/disk/by-path` of the whole device `device` (e.g.
/// `pci-0000:00:14.0-usb-0:2:1.0-scsi-0:0:0:0`), if udev made one.
pub fn reader_port(device: &Path) -> Option<String> {
    let wanted = std::fs::canonicalize(device).ok()?;
    let mut names: Vec<String> = std::fs::read_dir("/dev/disk/by-path")
        .ok()?
        .flatten()
        .filter(|entry| std::fs::canonicalize(entry.path()).is_ok_and(|p| p == wanted))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    // udev may make two names for one port (with and without `-usbv2`);
    // the shortest is the plain one, and the choice is stable.
    names.sort_by_key(|n| (n.len(), n.clone()));
    names.into_iter().next()
}

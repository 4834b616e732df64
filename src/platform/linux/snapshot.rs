//! A cheap fingerprint of the machine's drives and mounts, compared by the
//! drive watcher to decide whether listing the drives again is worth it.

use std::fs;
use std::io;
use std::path::Path;

use super::io_context::at;
use super::sysfs::SysBlock;

/// The block devices (name, size, read-only, a loop device's backing file)
/// and the text of the mount and
/// swap tables. Equal snapshots mean an unchanged drive list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSnapshot {
    devices: Vec<(String, u64, bool, Option<std::path::PathBuf>)>,
    mountinfo: String,
    swaps: String,
}

/// Takes a [`BlockSnapshot`] now.
pub fn block_snapshot() -> io::Result<BlockSnapshot> {
    let dir = Path::new("/sys/class/block");
    let mut devices = Vec::new();
    for entry in fs::read_dir(dir).map_err(at("list", dir))? {
        let entry = entry.map_err(at("list", dir))?;
        let block = SysBlock::new(entry.file_name().to_string_lossy());
        // A device that vanished mid-read is simply absent from this one.
        let (Ok(size_bytes), Ok(read_only)) = (block.size_bytes(), block.read_only()) else {
            continue;
        };
        // A loop device detached and attached to another file of the same
        // size between two polls is another drive.
        let backing_file = block.loop_backing_file().ok().flatten();
        devices.push((block.name, size_bytes, read_only, backing_file));
    }
    devices.sort();
    let read = |path: &str| fs::read_to_string(path).map_err(at("read", Path::new(path)));
    Ok(BlockSnapshot {
        devices,
        mountinfo: read("/proc/self/mountinfo")?,
        swaps: read("/proc/swaps").unwrap_or_default(),
    })
}

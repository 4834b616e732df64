//! Where the backup goes, against what it reads: "one storage, one name"
//! (docs/architecture.md §11). An output on a filesystem of the source
//! drive (or stored there through a loop device) is refused — it would
//! change the drive while it is read and copy itself — but another
//! partition's filesystem of the same disk is fine when only a partition is
//! backed up. Also the words that tell the user what each partition holds.

use std::path::{Path, PathBuf};

use crate::humanize;
use crate::map::device::DeviceMap;
use crate::platform;

/// The folder the output will be created in, resolved; it must exist.
pub(super) fn folder_of(output: &Path) -> Result<PathBuf, String> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    parent.canonicalize().map_err(|e| {
        format!(
            "{}: cannot use its folder {} ({e}); create the folder first or choose another place",
            output.display(),
            parent.display()
        )
    })
}

/// Refuses an output folder stored on the source.
pub(super) fn check_apart(source: &Path, folder: &Path) -> Result<(), String> {
    let unknown = |e: std::io::Error| {
        format!(
            "cannot tell whether {} is stored on {} ({e}); refusing to write there",
            folder.display(),
            source.display()
        )
    };
    let from = platform::storage_of(source).map_err(unknown)?;
    let to = platform::storage_of(folder).map_err(unknown)?;
    if to.is_stored_on(&from) || to.shares_bytes_with(&from) {
        return Err(format!(
            "{} is stored on {} (on a filesystem of it, or through a loop device), so the backup would change the drive it reads and copy itself; write it to another drive",
            folder.display(),
            source.display()
        ));
    }
    Ok(())
}

/// One line per partition: its filesystem and used bytes, or that it is
/// copied whole because its filesystem is not one the map reads.
pub(super) fn describe(map: &DeviceMap, size: u64) -> Vec<String> {
    let mut notes = Vec::new();
    if map.partitions.is_empty() {
        notes.push(format!(
            "no partition table or filesystem the map reads: all {} are copied",
            humanize::bytes(size)
        ));
    }
    for (i, part) in map.partitions.iter().enumerate() {
        let len = part.range.end - part.range.start;
        let name = if part.range == (0..size) && map.partitions.len() == 1 {
            "the whole device".to_string()
        } else {
            format!(
                "partition {} ({} at byte {})",
                i + 1,
                humanize::bytes(len),
                part.range.start
            )
        };
        notes.push(match part.filesystem {
            Some(fs) if part.used_bytes < len => format!(
                "{name}: {fs}, {} used (only those are read)",
                humanize::bytes(part.used_bytes)
            ),
            Some(fs) => format!(
                "{name}: {fs} whose free space could not be trusted (unknown features or checksums that fail): copied whole"
            ),
            None => format!(
                "{name}: a filesystem Imprint does not read (not ext2/3/4 or FAT): copied whole, {}",
                humanize::bytes(len)
            ),
        });
    }
    notes
}

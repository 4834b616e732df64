//! The drives of the machine as a station watches them: polled, each
//! medium with a stable id while it stays in, a card reader's slot told
//! apart from its card (docs/architecture.md §11 "Station identity and
//! safety").

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use super::SeenDrive;

/// How the drives changed since the last poll.
pub(super) enum Change {
    Inserted(SeenDrive),
    Removed(SeenDrive),
}

/// The drives of the machine, polled: a cheap sysfs snapshot each time,
/// the full list only when it changed (as `drives::DriveWatcher` does; the
/// station also needs each medium's identity, which the snapshot covers for
/// loop devices).
pub(super) struct Watch {
    snapshot: crate::platform::BlockSnapshot,
    pub(super) current: BTreeMap<PathBuf, SeenDrive>,
    insertions: u64,
    /// Paths whose medium was taken out while the device stayed: card
    /// reader slots, whose serial is the reader's, not the card's.
    reader_slots: HashSet<PathBuf>,
}

impl Watch {
    pub(super) fn start() -> std::io::Result<Watch> {
        let snapshot = crate::platform::block_snapshot()?;
        let mut watch = Watch {
            snapshot,
            current: BTreeMap::new(),
            insertions: 0,
            reader_slots: HashSet::new(),
        };
        watch.current = watch.list()?;
        Ok(watch)
    }

    /// The drives now, each with its id (a drive already known keeps its
    /// id while the same medium is in it).
    fn list(&mut self) -> std::io::Result<BTreeMap<PathBuf, SeenDrive>> {
        let mut now = BTreeMap::new();
        for drive in crate::drives::list()? {
            // A drive that vanished between the list and this look is left
            // for the next poll.
            let Ok(media) = crate::platform::media_identity(&drive.path) else {
                continue;
            };
            let known = self
                .current
                .get(&drive.path)
                .filter(|seen| seen.media == media && same_medium(&seen.drive, &drive));
            let seen = match known {
                Some(seen) => SeenDrive {
                    drive,
                    ..seen.clone()
                },
                None => {
                    self.insertions += 1;
                    let slot = self.reader_slots.contains(&drive.path);
                    SeenDrive::new(drive, media, self.insertions, slot)
                }
            };
            now.insert(seen.path().clone(), seen);
        }
        Ok(now)
    }

    /// What changed since the last call; nothing when the drives cannot be
    /// listed right now (tried again at the next poll).
    pub(super) fn poll(&mut self) -> Vec<Change> {
        let Ok(snapshot) = crate::platform::block_snapshot() else {
            return Vec::new();
        };
        if snapshot == self.snapshot {
            return Vec::new();
        }
        let Ok(now) = self.list() else {
            return Vec::new();
        };
        self.snapshot = snapshot;
        let mut changes = Vec::new();
        for (path, seen) in &self.current {
            if now.get(path).is_none_or(|new| new.id != seen.id) {
                if crate::platform::is_empty_slot(path) {
                    self.reader_slots.insert(path.clone());
                }
                changes.push(Change::Removed(seen.clone()));
            }
        }
        let mut inserted: Vec<&SeenDrive> = now
            .iter()
            .filter(|(path, seen)| self.current.get(*path).is_none_or(|old| old.id != seen.id))
            .map(|(_, seen)| seen)
            .collect();
        // Several drives found in one poll start in the order people count
        // them (loop2 before loop10), as the drive list shows them.
        inserted.sort_by_key(|seen| crate::drives::natural_key(seen.path()));
        changes.extend(inserted.into_iter().cloned().map(Change::Inserted));
        self.current = now;
        changes
    }
}

/// Whether `old` and `new`, at the same path, hold the same medium as far
/// as the drive list tells.
fn same_medium(old: &crate::drives::Drive, new: &crate::drives::Drive) -> bool {
    old.serial == new.serial && old.size_bytes == new.size_bytes
}

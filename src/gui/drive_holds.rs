//! What a drive holds, so that people can tell drives apart before one is
//! erased: a loop device's backing file, and the names of the partitions on
//! it (GPT names, FAT and ext2/3/4 volume labels: "bootfs", "rootfs").
//!
//! Read on a thread named `drive-holds` whenever the drive list changes,
//! with the device opened read-only (a user without the rights to read it
//! simply sees no labels); only the first MiB and each partition's first
//! 2 KiB are read. Nothing here opens a device for writing.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use crossbeam_channel::Receiver;

use crate::disk::fat_boot::parse_fat_boot_sector;
use crate::disk::partitions::TABLE_PREFIX_LEN;
use crate::disk::read_tables;
use crate::drives::Drive;

/// More partitions than this are not worth a row's space.
const MAX_LABELS: usize = 8;
/// Where an ext2/3/4 superblock starts in its partition, and the offsets of
/// its magic number and volume name within it.
const EXT_SUPERBLOCK_AT: usize = 1024;
const EXT_MAGIC_AT: usize = 56;
const EXT_NAME_AT: usize = 120;
const EXT_NAME_LEN: usize = 16;

/// What one drive holds, as far as could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Holds {
    /// The file behind a loop device.
    pub backing_file: Option<PathBuf>,
    /// The partitions' names, in table order; empty when none is named or
    /// the drive cannot be read.
    pub labels: Vec<String>,
}

impl Holds {
    /// "holds bootfs, rootfs" / "backed by /tmp/a.img · holds …" (lower
    /// case: it continues a line), or `None` when nothing is known.
    pub(super) fn describe(&self) -> Option<String> {
        let labels = (!self.labels.is_empty()).then(|| format!("holds {}", self.labels.join(", ")));
        let file = self
            .backing_file
            .as_ref()
            .map(|f| format!("backed by {}", f.display()));
        let text = match (file, labels) {
            (Some(f), Some(l)) => format!("{f} · {l}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => return None,
        };
        Some(text)
    }
}

/// Reads what each of `drives` holds on a thread; the map arrives on the
/// returned channel.
pub(super) fn start(drives: &[Drive], ctx: &egui::Context) -> Receiver<HashMap<PathBuf, Holds>> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let paths: Vec<PathBuf> = drives.iter().map(|d| d.path.clone()).collect();
    let ctx = ctx.clone();
    let spawned = std::thread::Builder::new()
        .name("drive-holds".into())
        .spawn(move || {
            let holds = paths.into_iter().map(|p| (p.clone(), read(&p))).collect();
            let _ = tx.send(holds);
            ctx.request_repaint();
        });
    // Without a thread the rows just show no contents.
    drop(spawned);
    rx
}

fn read(device: &Path) -> Holds {
    Holds {
        backing_file: crate::drives::backing_file(device),
        labels: File::open(device).map(|f| labels(&f)).unwrap_or_default(),
    }
}

/// The names of the partitions on `device` (read-only).
fn labels(device: &File) -> Vec<String> {
    let mut prefix = vec![0u8; TABLE_PREFIX_LEN];
    let Ok(read) = crate::platform::read_at(device, &mut prefix, 0) else {
        return Vec::new();
    };
    prefix.truncate(read);
    let Ok(tables) = read_tables(&prefix) else {
        // A filesystem on the whole drive, with no partition table.
        return filesystem_label(device, 0).into_iter().collect();
    };
    tables
        .kernel_partitions()
        .iter()
        .take(MAX_LABELS)
        .filter_map(|p| {
            p.gpt_name
                .clone()
                .or_else(|| filesystem_label(device, p.offset))
        })
        .collect()
}

/// The FAT or ext2/3/4 volume label of the filesystem at `offset`.
fn filesystem_label(device: &File, offset: u64) -> Option<String> {
    let mut head = vec![0u8; EXT_SUPERBLOCK_AT + 256];
    crate::platform::read_exact_at(device, &mut head, offset).ok()?;
    if let Some(fat) = parse_fat_boot_sector(&head) {
        return fat.label;
    }
    ext_label(&head[EXT_SUPERBLOCK_AT..])
}

fn ext_label(superblock: &[u8]) -> Option<String> {
    if superblock.get(EXT_MAGIC_AT..EXT_MAGIC_AT + 2)? != [0x53, 0xEF] {
        return None;
    }
    let name = superblock.get(EXT_NAME_AT..EXT_NAME_AT + EXT_NAME_LEN)?;
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    let label = String::from_utf8_lossy(&name[..end]).trim().to_string();
    (!label.is_empty()).then_some(label)
}

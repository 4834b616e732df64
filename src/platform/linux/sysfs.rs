//! sysfs: the block devices of the machine, their partitions, holders and
//! attributes (size, removable, read-only, vendor, model, serial).
//!
//! Devices are identified by their kernel name (`sdb`, `sdb1`, `dm-0`), found
//! from a `/dev` path through its device number (`/sys/dev/block/MAJ:MIN`),
//! so `/dev/disk/by-id/…` links and renamed nodes resolve to the same device.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::io_context::{at, path_error};

/// Every block device and partition, by kernel name.
const SYS_CLASS_BLOCK: &str = "/sys/class/block";
/// Block devices by device number (`MAJ:MIN` links into `/sys/devices`).
const SYS_DEV_BLOCK: &str = "/sys/dev/block";
/// sysfs counts `size` in 512-byte units whatever the device's sector size.
const SYSFS_SECTOR_BYTES: u64 = 512;

/// A block device (whole disk or partition) as sysfs shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SysBlock {
    /// The kernel name: `sdb`, `sdb1`, `mmcblk0`, `dm-0`.
    pub name: String,
    /// `/sys/class/block`, or a directory shaped like it in unit tests.
    class_root: PathBuf,
}

impl SysBlock {
    /// The device `name` of this machine.
    pub(super) fn new(name: impl Into<String>) -> SysBlock {
        SysBlock::in_class_root(SYS_CLASS_BLOCK, name)
    }

    /// The device `name` in a directory laid out like `/sys/class/block`
    /// (symlinks into a `devices` tree), so the stacking logic can be tested
    /// on layouts this machine's kernel cannot build (dm, LVM).
    pub(super) fn in_class_root(
        class_root: impl Into<PathBuf>,
        name: impl Into<String>,
    ) -> SysBlock {
        SysBlock {
            name: name.into(),
            class_root: class_root.into(),
        }
    }

    /// Another device in the same sysfs.
    fn sibling(&self, name: impl Into<String>) -> SysBlock {
        SysBlock::in_class_root(self.class_root.clone(), name)
    }

    /// The device node: `/dev/sdb`.
    pub(super) fn dev_path(&self) -> PathBuf {
        Path::new("/dev").join(&self.name)
    }

    /// `/sys/class/block/NAME` (a symlink into `/sys/devices`).
    pub(super) fn class_dir(&self) -> PathBuf {
        self.class_root.join(&self.name)
    }

    /// The device's real directory under `/sys/devices`, whose path tells
    /// how the device is attached (`…/usb1/…`, `…/virtio1/…`).
    pub(super) fn device_dir(&self) -> io::Result<PathBuf> {
        let link = self.class_dir();
        fs::canonicalize(&link).map_err(at("resolve", &link))
    }

    /// An attribute file relative to the class directory, trimmed; `None`
    /// when the file does not exist (attributes vary by driver) or is empty.
    pub(super) fn attribute(&self, relative: &str) -> io::Result<Option<String>> {
        let path = self.class_dir().join(relative);
        match fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).trim().to_string();
                Ok((!text.is_empty()).then_some(text))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(path_error("read", &path, e)),
        }
    }

    fn flag(&self, relative: &str) -> io::Result<bool> {
        Ok(self.attribute(relative)?.as_deref() == Some("1"))
    }

    /// The size in bytes (0 for an empty card reader or a detached loop).
    pub(super) fn size_bytes(&self) -> io::Result<u64> {
        let sectors = self
            .attribute("size")?
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        Ok(sectors * SYSFS_SECTOR_BYTES)
    }

    /// Whether the kernel says the medium is removable (SD readers, most
    /// USB sticks; USB hard disks usually say no).
    pub(super) fn removable(&self) -> io::Result<bool> {
        self.flag("removable")
    }

    /// Whether the device is read-only (write-protect switch, `losetup -r`).
    pub(super) fn read_only(&self) -> io::Result<bool> {
        self.flag("ro")
    }

    /// Whether this is a partition of another block device.
    pub(super) fn is_partition(&self) -> bool {
        self.class_dir().join("partition").exists()
    }

    /// Hidden devices (e.g. the per-path nodes of multipath NVMe) have no
    /// usable `/dev` node.
    pub(super) fn is_hidden(&self) -> io::Result<bool> {
        self.flag("hidden")
    }

    /// The file a loop device reads and writes, or `None` when it is not a
    /// loop device or has nothing attached.
    pub(super) fn loop_backing_file(&self) -> io::Result<Option<PathBuf>> {
        Ok(self.attribute("loop/backing_file")?.map(PathBuf::from))
    }

    /// The whole disk this device belongs to (itself when it is one).
    pub(super) fn whole_disk(&self) -> io::Result<SysBlock> {
        if !self.is_partition() {
            return Ok(self.clone());
        }
        let dir = self.device_dir()?;
        let parent = dir.parent().and_then(Path::file_name).ok_or_else(|| {
            path_error(
                "find the disk of partition",
                &dir,
                io::Error::new(io::ErrorKind::NotFound, "no parent device directory"),
            )
        })?;
        Ok(self.sibling(parent.to_string_lossy()))
    }

    /// The partitions of this disk, in partition-number order.
    pub(super) fn partitions(&self) -> io::Result<Vec<SysBlock>> {
        let dir = self.device_dir()?;
        let mut numbered = Vec::new();
        for entry in fs::read_dir(&dir).map_err(at("list", &dir))? {
            let entry = entry.map_err(at("list", &dir))?;
            let number_file = entry.path().join("partition");
            if let Ok(number) = fs::read_to_string(&number_file) {
                let number = number.trim().parse::<u32>().unwrap_or(u32::MAX);
                numbered.push((number, entry.file_name().to_string_lossy().into_owned()));
            }
        }
        numbered.sort();
        Ok(numbered
            .into_iter()
            .map(|(_, name)| self.sibling(name))
            .collect())
    }

    /// Whether this is a device of the running machine (not of a
    /// sysfs-shaped test tree): only then does it have a node in `/dev`.
    pub(super) fn is_machine_sysfs(&self) -> bool {
        self.class_root == Path::new(SYS_CLASS_BLOCK)
    }

    /// Devices stacked directly on this one (dm, md, LVM, bcache).
    pub(super) fn holders(&self) -> io::Result<Vec<SysBlock>> {
        self.linked_devices("holders")
    }

    /// Devices this one is stacked on (the opposite of [`Self::holders`]):
    /// a dm or md device's underlying partitions or disks.
    pub(super) fn slaves(&self) -> io::Result<Vec<SysBlock>> {
        self.linked_devices("slaves")
    }

    /// The devices named in the directory `relative` (`holders`, `slaves`).
    fn linked_devices(&self, relative: &str) -> io::Result<Vec<SysBlock>> {
        let dir = self.class_dir().join(relative);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(path_error("list", &dir, e)),
        };
        let mut devices = Vec::new();
        for entry in entries {
            let entry = entry.map_err(at("list", &dir))?;
            devices.push(self.sibling(entry.file_name().to_string_lossy()));
        }
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(devices)
    }

    /// This device, its partitions, and everything stacked on any of them,
    /// transitively (an LVM volume on a LUKS mapping on `sda2` is in the
    /// family of `sda`): the kernel names whose mounts put this device in use.
    pub(super) fn family(&self) -> io::Result<BTreeSet<String>> {
        let mut family = BTreeSet::new();
        let mut pending = vec![self.clone()];
        while let Some(device) = pending.pop() {
            if !family.insert(device.name.clone()) {
                continue;
            }
            if !device.is_partition() {
                pending.extend(device.partitions()?);
            }
            pending.extend(device.holders()?);
        }
        Ok(family)
    }
}

impl SysBlock {
    /// The devices stacked on this disk or its partitions (dm, md, LVM,
    /// bcache), transitively, by kernel name: each holds the disk
    /// exclusively and is destroyed by writing it.
    pub(super) fn stacked(&self) -> io::Result<Vec<String>> {
        let disk = self.whole_disk()?;
        let mut own: BTreeSet<String> = disk.partitions()?.into_iter().map(|p| p.name).collect();
        own.insert(disk.name.clone());
        Ok(disk
            .family()?
            .into_iter()
            .filter(|name| !own.contains(name))
            .collect())
    }
}

/// The block device with device number `major:minor`, or `None` when there
/// is none (e.g. the anonymous device numbers of btrfs subvolumes, tmpfs).
pub(super) fn block_by_dev_number(major: u32, minor: u32) -> io::Result<Option<SysBlock>> {
    let link = Path::new(SYS_DEV_BLOCK).join(format!("{major}:{minor}"));
    match fs::read_link(&link) {
        Ok(target) => Ok(target
            .file_name()
            .map(|name| SysBlock::new(name.to_string_lossy()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(path_error("resolve", &link, e)),
    }
}

/// The sysfs device behind a device node such as `/dev/sdb1` or a
/// `/dev/disk/by-id/…` link.
pub(super) fn block_of_path(device: &Path) -> io::Result<SysBlock> {
    let metadata = fs::metadata(device).map_err(at("inspect", device))?;
    if !metadata.file_type().is_block_device() {
        return Err(path_error(
            "use as a drive",
            device,
            io::Error::new(io::ErrorKind::InvalidInput, "not a block device"),
        ));
    }
    let rdev = metadata.rdev();
    block_by_dev_number(libc::major(rdev), libc::minor(rdev))?.ok_or_else(|| {
        path_error(
            "find in /sys/dev/block",
            device,
            io::Error::new(
                io::ErrorKind::NotFound,
                "the kernel does not list this device",
            ),
        )
    })
}

/// The whole disk a device node belongs to: `/dev/sdb1` → `/dev/sdb`,
/// `/dev/mmcblk0p2` → `/dev/mmcblk0`, `/dev/sdb` → `/dev/sdb`.
pub fn whole_disk(device: &Path) -> io::Result<PathBuf> {
    Ok(block_of_path(device)?.whole_disk()?.dev_path())
}

/// Every block device of the machine that is not a partition, by name.
pub(super) fn whole_disk_blocks() -> io::Result<Vec<SysBlock>> {
    let dir = Path::new(SYS_CLASS_BLOCK);
    let mut disks = Vec::new();
    for entry in fs::read_dir(dir).map_err(at("list", dir))? {
        let entry = entry.map_err(at("list", dir))?;
        let block = SysBlock::new(entry.file_name().to_string_lossy());
        if !block.is_partition() {
            disks.push(block);
        }
    }
    disks.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(disks)
}

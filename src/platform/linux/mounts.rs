//! Mounts and swaps: which block devices back the running system, which
//! partitions of a device are mounted, and unmounting them.

// System calls need unsafe: umount2 through libc.
#![allow(unsafe_code)]

use std::collections::BTreeSet;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::io_context::{at, path_error};
use super::mount_table::{MOUNTINFO, MountTable, parse_mountinfo};
use super::sysfs::{SysBlock, block_of_path};
use crate::platform::Mount;

/// Mount points whose loss takes the running system down with it. `/boot`
/// and the EFI system partition count: overwriting them breaks the next boot.
const SYSTEM_MOUNT_POINTS: [&str; 7] = ["/", "/boot", "/usr", "/var", "/home", "/boot/efi", "/efi"];

/// Why `device` (a whole disk or a partition) must never be written, or
/// `None` when it does not back the running system: one of its partitions,
/// directly or through dm/md/LVM holders, is mounted at `/`, `/boot`, `/usr`,
/// `/var` or `/home` (or the EFI system partition), or is active swap.
///
/// A partition is judged by its whole disk: writing an image to `/dev/sda2`
/// is refused when `/` lives on `/dev/sda1`. Mounts are those of the calling
/// process's mount namespace.
pub fn system_drive_reason(device: &Path) -> io::Result<Option<String>> {
    let disk = block_of_path(device)?.whole_disk()?;
    system_reason_in(&disk, &MountTable::read()?)
}

/// [`system_drive_reason`] for a whole disk against a mount table already
/// read (listing every drive reads the table once).
pub(super) fn system_reason_in(disk: &SysBlock, table: &MountTable) -> io::Result<Option<String>> {
    let family = disk.family()?;
    let disk_path = disk.dev_path();
    for system_mount_point in SYSTEM_MOUNT_POINTS {
        let backing = table.mounts.iter().find(|mount| {
            mount.line.mount_point == Path::new(system_mount_point)
                && mount.blocks.iter().any(|b| family.contains(&b.name))
        });
        if let Some(mount) = backing {
            return Ok(Some(format!(
                "{} holds {} (mounted from {})",
                disk_path.display(),
                system_mount_point,
                mount.line.source.display()
            )));
        }
    }
    if let Some(swap) = table
        .swaps
        .iter()
        .find(|swap| swap.blocks.iter().any(|b| family.contains(&b.name)))
    {
        return Ok(Some(format!(
            "{} holds active swap ({})",
            disk_path.display(),
            swap.line.path.display()
        )));
    }
    Ok(None)
}

/// Every mounted filesystem on `device`, on one of its partitions (when it
/// is a whole disk), or on a device stacked on them — in the order to
/// unmount them: a filesystem mounted inside another comes first.
pub fn mounts_of(device: &Path) -> io::Result<Vec<Mount>> {
    let block = block_of_path(device)?;
    mounts_in(&block, &MountTable::read()?)
}

/// [`mounts_of`] against a mount table already read.
pub(super) fn mounts_in(block: &SysBlock, table: &MountTable) -> io::Result<Vec<Mount>> {
    let family = block.family()?;
    // mountinfo lists a mount after the one it is mounted on, so the
    // reverse order unmounts children before their parents.
    Ok(table
        .mounts
        .iter()
        .rev()
        .filter_map(|mount| {
            let block = mount.blocks.iter().find(|b| family.contains(&b.name))?;
            Some(Mount {
                device: block.dev_path(),
                mount_point: mount.line.mount_point.clone(),
            })
        })
        .collect())
}

/// The mount points of the filesystems on `device` (as [`mounts_of`])
/// mounted read-write: both the mount and its filesystem say `rw`.
pub fn writable_mounts_of(device: &Path) -> io::Result<Vec<PathBuf>> {
    let mountinfo = Path::new(MOUNTINFO);
    let text = std::fs::read_to_string(mountinfo).map_err(at("read", mountinfo))?;
    let writable = writable_mount_points(&text);
    Ok(mounts_of(device)?
        .into_iter()
        .map(|mount| mount.mount_point)
        .filter(|point| writable.contains(point))
        .collect())
}

/// The mount points of `/proc/self/mountinfo`'s text whose mount options
/// (field 6) and superblock options (the last field) both hold `rw`.
fn writable_mount_points(text: &str) -> BTreeSet<PathBuf> {
    let rw = |options: &str| options.split(',').any(|o| o == "rw");
    let writable_ids: BTreeSet<u64> = text
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fields: Vec<&str> = before.split(' ').collect();
            let super_options = after.split(' ').nth(2)?;
            (rw(fields.get(5)?) && rw(super_options)).then(|| fields[0].parse().ok())?
        })
        .collect();
    parse_mountinfo(text)
        .into_iter()
        .filter(|line| writable_ids.contains(&line.mount_id))
        .map(|line| line.mount_point)
        .collect()
}

/// The devices stacked on the drive of `device` or on its partitions, by
/// kernel name (`SysBlock::stacked`).
pub fn stacked_on(device: &Path) -> io::Result<Vec<String>> {
    block_of_path(device)?.stacked()
}

/// Unmounts `mount_point` (not lazily: a busy filesystem is an error, so a
/// device is never written while something still has files open on it).
pub fn unmount(mount_point: &Path) -> io::Result<()> {
    let c_path = CString::new(mount_point.as_os_str().as_bytes()).map_err(|_| {
        path_error(
            "unmount",
            mount_point,
            io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"),
        )
    })?;
    // SAFETY: `c_path` is a valid NUL-terminated string for the call.
    let rc = unsafe { libc::umount2(c_path.as_ptr(), 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(path_error(
            "unmount",
            mount_point,
            io::Error::last_os_error(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use super::*;
    use std::path::PathBuf;

    use super::super::mount_table::{MountInfoLine, ResolvedMount, ResolvedSwap, SwapLine};

    /// A sysfs-shaped tree: disk `sda` with partitions 1, 2 and 10, an LVM
    /// volume `dm-1` on a LUKS mapping `dm-0` on `sda2`, and a second disk
    /// `sdb` with nothing on it. Returns the `class/block` directory.
    fn fake_sysfs(root: &Path) -> PathBuf {
        let devices = root.join("devices");
        let class = root.join("class/block");
        fs::create_dir_all(&class).unwrap();
        let add = |name: &str, dir: &str, partition: Option<&str>, holders: &[&str]| {
            let device_dir = devices.join(dir);
            fs::create_dir_all(device_dir.join("holders")).unwrap();
            for holder in holders {
                fs::create_dir(device_dir.join("holders").join(holder)).unwrap();
            }
            if let Some(number) = partition {
                fs::write(device_dir.join("partition"), format!("{number}\n")).unwrap();
            }
            symlink(&device_dir, class.join(name)).unwrap();
        };
        add("sda", "pci/ata1/sda", None, &[]);
        add("sda1", "pci/ata1/sda/sda1", Some("1"), &[]);
        add("sda10", "pci/ata1/sda/sda10", Some("10"), &[]);
        add("sda2", "pci/ata1/sda/sda2", Some("2"), &["dm-0"]);
        add("dm-0", "virtual/dm-0", None, &["dm-1"]);
        add("dm-1", "virtual/dm-1", None, &[]);
        add("sdb", "pci/ata2/sdb", None, &[]);
        class
    }

    fn mounted(name: &str, source: &str, mount_point: &str) -> ResolvedMount {
        ResolvedMount {
            line: MountInfoLine {
                mount_id: 0,
                dev_major: 0,
                dev_minor: 0,
                mount_point: mount_point.into(),
                fs_type: "ext4".into(),
                source: source.into(),
            },
            blocks: vec![SysBlock::new(name)],
        }
    }

    #[test]
    fn the_family_of_a_disk_reaches_through_partitions_and_stacked_devices() {
        let dir = tempfile::tempdir().unwrap();
        let class = fake_sysfs(dir.path());
        let sda = SysBlock::in_class_root(&class, "sda");
        let names = |blocks: Vec<SysBlock>| blocks.into_iter().map(|b| b.name).collect::<Vec<_>>();
        assert_eq!(names(sda.partitions().unwrap()), ["sda1", "sda2", "sda10"]);
        assert_eq!(
            sda.family().unwrap().into_iter().collect::<Vec<_>>(),
            ["dm-0", "dm-1", "sda", "sda1", "sda10", "sda2"]
        );
        let sda2 = SysBlock::in_class_root(&class, "sda2");
        assert!(sda2.is_partition());
        assert_eq!(sda2.whole_disk().unwrap().name, "sda");
        assert_eq!(
            sda2.family().unwrap().into_iter().collect::<Vec<_>>(),
            ["dm-0", "dm-1", "sda2"]
        );
        // What is stacked on it, whichever partition is asked about.
        assert_eq!(sda.stacked().unwrap(), ["dm-0", "dm-1"]);
        let sda1 = SysBlock::in_class_root(&class, "sda1");
        assert_eq!(sda1.stacked().unwrap(), ["dm-0", "dm-1"]);
        let sdb = SysBlock::in_class_root(&class, "sdb");
        assert!(sdb.stacked().unwrap().is_empty());
        assert_eq!(sdb.whole_disk().unwrap().name, "sdb");
        assert_eq!(
            sdb.family().unwrap().into_iter().collect::<Vec<_>>(),
            ["sdb"]
        );
    }

    #[test]
    fn a_root_on_lvm_on_luks_makes_the_disk_under_it_a_system_drive() {
        let dir = tempfile::tempdir().unwrap();
        let class = fake_sysfs(dir.path());
        let table = MountTable {
            mounts: vec![
                mounted("dm-1", "/dev/mapper/vg-root", "/"),
                mounted("sdb", "/dev/sdb", "/media/usb"),
            ],
            swaps: Vec::new(),
        };
        let sda = SysBlock::in_class_root(&class, "sda");
        let sdb = SysBlock::in_class_root(&class, "sdb");
        assert_eq!(
            system_reason_in(&sda, &table).unwrap().as_deref(),
            Some("/dev/sda holds / (mounted from /dev/mapper/vg-root)")
        );
        assert_eq!(system_reason_in(&sdb, &table).unwrap(), None);
        // The engine unmounts what is mounted from a drive, stacked or not.
        let point = |m: Mount| m.mount_point;
        assert_eq!(
            mounts_in(&sda, &table)
                .unwrap()
                .into_iter()
                .map(point)
                .collect::<Vec<_>>(),
            [PathBuf::from("/")]
        );
        assert_eq!(
            mounts_in(&sdb, &table).unwrap(),
            [Mount {
                device: "/dev/sdb".into(),
                mount_point: "/media/usb".into()
            }]
        );
        let sda1 = SysBlock::in_class_root(&class, "sda1");
        assert_eq!(mounts_in(&sda1, &table).unwrap(), []);
    }

    #[test]
    fn active_swap_on_a_partition_makes_its_disk_a_system_drive() {
        let dir = tempfile::tempdir().unwrap();
        let class = fake_sysfs(dir.path());
        let table = MountTable {
            mounts: vec![mounted("sdb", "/dev/sdb", "/srv")],
            swaps: vec![ResolvedSwap {
                line: SwapLine {
                    path: "/dev/sda10".into(),
                    kind: "partition".into(),
                },
                blocks: vec![SysBlock::new("sda10")],
            }],
        };
        let sda = SysBlock::in_class_root(&class, "sda");
        assert_eq!(
            system_reason_in(&sda, &table).unwrap().as_deref(),
            Some("/dev/sda holds active swap (/dev/sda10)")
        );
        // A mount outside the system's mount points is no reason.
        let sdb = SysBlock::in_class_root(&class, "sdb");
        assert_eq!(system_reason_in(&sdb, &table).unwrap(), None);
    }

    #[test]
    fn later_mounts_come_first_so_children_unmount_before_parents() {
        let dir = tempfile::tempdir().unwrap();
        let class = fake_sysfs(dir.path());
        let table = MountTable {
            mounts: vec![
                mounted("sdb", "/dev/sdb", "/media/card"),
                mounted("sdb", "/dev/sdb", "/media/card/inner"),
            ],
            swaps: Vec::new(),
        };
        let sdb = SysBlock::in_class_root(&class, "sdb");
        let points: Vec<PathBuf> = mounts_in(&sdb, &table)
            .unwrap()
            .into_iter()
            .map(|m| m.mount_point)
            .collect();
        assert_eq!(
            points,
            [PathBuf::from("/media/card/inner"), "/media/card".into()]
        );
    }

    #[test]
    fn a_mount_is_writable_only_when_mount_and_filesystem_say_rw() {
        let text = concat!(
            "36 1 7:1 / /mnt/rw rw,relatime - ext4 /dev/loop1p1 rw\n",
            "37 1 7:2 / /mnt/ro ro,relatime - ext4 /dev/loop1p2 rw\n",
            r"38 1 7:3 / /mnt/ro\040sb rw,relatime - ext4 /dev/loop2 ro,errors=remount-ro",
            "\n",
        );
        assert_eq!(
            writable_mount_points(text),
            BTreeSet::from([PathBuf::from("/mnt/rw")])
        );
    }
}

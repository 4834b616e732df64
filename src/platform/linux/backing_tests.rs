//! What backs a file or a device: sysfs-shaped trees (LVM on LUKS, md RAID,
//! loop devices) and real files.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;

use super::*;

/// A sysfs-shaped tree: an LVM volume `dm-1` on a LUKS mapping `dm-0` on
/// partition `sdb2`; md RAID `md0` over `sdc` and `sdd`; loop device
/// `loop3` backed by `backing`. Returns the `class/block` directory.
fn fake_sysfs(root: &Path, backing: &Path) -> PathBuf {
    let devices = root.join("devices");
    let class = root.join("class/block");
    fs::create_dir_all(&class).unwrap();
    let add = |name: &str, dir: &str, partition: bool, slaves: &[&str]| {
        let device_dir = devices.join(dir);
        fs::create_dir_all(device_dir.join("slaves")).unwrap();
        for slave in slaves {
            fs::create_dir(device_dir.join("slaves").join(slave)).unwrap();
        }
        if partition {
            fs::write(device_dir.join("partition"), "1\n").unwrap();
        }
        symlink(&device_dir, class.join(name)).unwrap();
    };
    add("sdb", "pci/sdb", false, &[]);
    add("sdb1", "pci/sdb/sdb1", true, &[]);
    add("sdb2", "pci/sdb/sdb2", true, &[]);
    add("dm-0", "virtual/dm-0", false, &["sdb2"]);
    add("dm-1", "virtual/dm-1", false, &["dm-0"]);
    add("sdc", "pci/sdc", false, &[]);
    add("sdd", "pci/sdd", false, &[]);
    add("md0", "virtual/md0", false, &["sdc", "sdd"]);
    add("md0p1", "virtual/md0/md0p1", true, &[]);
    for name in ["loop3", "loop4"] {
        add(name, &format!("virtual/{name}"), false, &[]);
        let loop_dir = devices.join(format!("virtual/{name}/loop"));
        fs::create_dir_all(&loop_dir).unwrap();
        fs::write(
            loop_dir.join("backing_file"),
            format!("{}\n", backing.display()),
        )
        .unwrap();
    }
    class
}

fn disks(storage: &Storage) -> Vec<String> {
    storage
        .under
        .iter()
        .filter_map(|unit| match unit {
            StorageUnit::Disk(name) => Some(name.clone()),
            StorageUnit::File { .. } | StorageUnit::Partition { .. } => None,
        })
        .collect()
}

#[test]
fn a_volume_stacked_on_a_partition_is_stored_on_the_disk_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let class = fake_sysfs(dir.path(), Path::new("/nonexistent"));
    let lvm = storage_of_block(&SysBlock::in_class_root(&class, "dm-1")).unwrap();
    assert_eq!(lvm.top, BTreeSet::from([StorageUnit::Disk("dm-1".into())]));
    assert_eq!(disks(&lvm), ["dm-0", "dm-1", "sdb"]);
    let sdb = storage_of_block(&SysBlock::in_class_root(&class, "sdb")).unwrap();
    assert!(lvm.is_stored_on(&sdb));
    // Downward only: the disk is not stored on what is stacked on it.
    assert_eq!(disks(&sdb), ["sdb"]);
    assert!(!sdb.is_stored_on(&lvm));
}

#[test]
fn a_partition_of_raid_is_stored_on_every_member() {
    let dir = tempfile::tempdir().unwrap();
    let class = fake_sysfs(dir.path(), Path::new("/nonexistent"));
    let part = storage_of_block(&SysBlock::in_class_root(&class, "md0p1")).unwrap();
    assert_eq!(
        part.top,
        BTreeSet::from([StorageUnit::Partition {
            disk: "md0".into(),
            name: "md0p1".into()
        }])
    );
    assert_eq!(disks(&part), ["md0", "sdc", "sdd"]);
    let md0 = storage_of_block(&SysBlock::in_class_root(&class, "md0")).unwrap();
    assert!(part.is(&md0) && md0.is(&part), "a partition is its drive's");
}

#[test]
fn sibling_partitions_are_apart_but_both_on_their_disk() {
    let dir = tempfile::tempdir().unwrap();
    let class = fake_sysfs(dir.path(), Path::new("/nonexistent"));
    let sdb1 = storage_of_block(&SysBlock::in_class_root(&class, "sdb1")).unwrap();
    let sdb2 = storage_of_block(&SysBlock::in_class_root(&class, "sdb2")).unwrap();
    let sdb = storage_of_block(&SysBlock::in_class_root(&class, "sdb")).unwrap();
    assert!(!sdb1.is(&sdb2) && !sdb1.is_stored_on(&sdb2) && !sdb2.is_stored_on(&sdb1));
    assert!(!sdb1.shares_bytes_with(&sdb2));
    assert!(sdb1.is_stored_on(&sdb) && sdb2.is_stored_on(&sdb));
}

#[test]
fn two_loop_devices_over_one_file_share_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("backing.img");
    fs::write(&backing, b"bytes").unwrap();
    let class = fake_sysfs(dir.path(), &backing);
    let loop3 = storage_of_block(&SysBlock::in_class_root(&class, "loop3")).unwrap();
    let loop4 = storage_of_block(&SysBlock::in_class_root(&class, "loop4")).unwrap();
    assert!(!loop3.is(&loop4) && !loop3.is_stored_on(&loop4));
    assert!(loop3.shares_bytes_with(&loop4));
    assert!(loop3.shares_bytes_with(&storage_of(&backing).unwrap()));
    let sdc = storage_of_block(&SysBlock::in_class_root(&class, "sdc")).unwrap();
    assert!(!loop3.shares_bytes_with(&sdc));
}

#[test]
fn a_loop_device_is_stored_in_its_backing_file_by_inode() {
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("backing.img");
    fs::write(&backing, b"bytes").unwrap();
    let class = fake_sysfs(dir.path(), &backing);
    let loop3 = storage_of_block(&SysBlock::in_class_root(&class, "loop3")).unwrap();
    let file = storage_of(&backing).unwrap();
    assert!(loop3.is_stored_on(&file));
    assert!(!file.is_stored_on(&loop3), "{file:?} {loop3:?}");
    let metadata = fs::metadata(&backing).unwrap();
    assert!(file.top.contains(&StorageUnit::File {
        dev: metadata.dev(),
        ino: metadata.ino()
    }));
}

#[test]
fn a_pipe_is_stored_nowhere() {
    let (reader, _writer) = std::io::pipe().unwrap();
    let path = PathBuf::from(format!("/proc/self/fd/{}", reader.as_raw_fd()));
    assert_eq!(storage_of(&path).unwrap(), Storage::default());
}

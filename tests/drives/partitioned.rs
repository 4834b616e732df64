//! System drives below a filesystem that is not on the whole disk: a
//! partition mounted at boot (its disk is the system drive) and every
//! member of a btrfs RAID, on real loop devices given partitions by ioctl.

// Needs unsafe: loop-device ioctls through libc, on a device the test attached.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::Command;

use super::*;

/// `struct loop_info64` of <linux/loop.h>.
#[repr(C)]
struct LoopInfo64 {
    device: u64,
    inode: u64,
    rdevice: u64,
    offset: u64,
    size_limit: u64,
    number: u32,
    encrypt_type: u32,
    encrypt_key_size: u32,
    flags: u32,
    file_name: [u8; 64],
    crypt_name: [u8; 64],
    encrypt_key: [u8; 32],
    init: [u64; 2],
}

const LOOP_SET_STATUS64: libc::c_ulong = 0x4C04;
const LOOP_GET_STATUS64: libc::c_ulong = 0x4C05;
const LO_FLAGS_PARTSCAN: u32 = 8;

/// Gives an attached loop device partition nodes for the MBR on it. The
/// partition-scan flag lets the device have partitions at all; `partx`
/// then reads the table in user space (kernels built without partition
/// parsers, like this test VM's, find none on their own).
fn add_partitions(device: &Path) {
    let file = File::open(device).unwrap();
    let mut info: LoopInfo64 = unsafe { std::mem::zeroed() };
    // SAFETY: loop ioctls on a loop device this test attached, with a
    // buffer of the kernel's struct layout.
    unsafe {
        assert_eq!(
            libc::ioctl(file.as_raw_fd(), LOOP_GET_STATUS64, &mut info),
            0
        );
        info.flags |= LO_FLAGS_PARTSCAN;
        assert_eq!(libc::ioctl(file.as_raw_fd(), LOOP_SET_STATUS64, &info), 0);
    }
    run_ok(Command::new("partx").arg("-a").arg(device));
}

/// One Linux partition from sector 2048 to the end, as a DOS partition table.
fn write_mbr(image: &Path, size: u64) {
    use std::io::{Seek, SeekFrom, Write};
    let start_sector: u32 = 2048;
    let sectors = (size / 512) as u32 - start_sector;
    let mut entry = [0u8; 16];
    entry[4] = 0x83;
    entry[8..12].copy_from_slice(&start_sector.to_le_bytes());
    entry[12..16].copy_from_slice(&sectors.to_le_bytes());
    let mut file = std::fs::OpenOptions::new().write(true).open(image).unwrap();
    file.seek(SeekFrom::Start(446)).unwrap();
    file.write_all(&entry).unwrap();
    file.seek(SeekFrom::Start(510)).unwrap();
    file.write_all(&[0x55, 0xAA]).unwrap();
}

#[test]
fn a_partition_mounted_at_boot_makes_its_whole_disk_a_system_drive() {
    require_root!();
    if !have("mkfs.ext4") || !have("unshare") || !have("partx") {
        crate::support::skip_without("mkfs.ext4, unshare and partx");
        return;
    }
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let size = 16 * MIB;
    std::fs::write(&image, vec![0u8; size as usize]).unwrap();
    write_mbr(&image, size);
    let device = LoopDevice::attach(&image, false);
    add_partitions(&device.device);
    let disk = device.device.to_str().unwrap().to_string();
    let partition = PathBuf::from(format!("{disk}p1"));
    run_ok(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&partition));

    assert_eq!(whole_disk(&partition).unwrap(), device.device);
    assert_eq!(whole_disk(&device.device).unwrap(), device.device);

    // In a namespace where the partition is mounted at /boot: the listing
    // marks the disk, and the check the engine runs refuses the partition
    // and the disk (run in this test binary, through the helper below).
    let part = partition.to_str().unwrap();
    let script = format!(
        "mount {part} /boot || exit 99
         \"$IMPRINT\" list --all --json; rc=$?
         \"$TESTS\" --exact drives::print_system_drive_reason --ignored --nocapture -q >&2 || rc=98
         umount /boot; exit $rc"
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("IMPRINT", env!("CARGO_BIN_EXE_imprint"))
        .env("TESTS", std::env::current_exe().unwrap())
        .env("IMPRINT_TEST_DEVICES", format!("{part} {disk}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let expected_reason = format!("{disk} holds /boot (mounted from {part})");
    for device in [part, disk.as_str()] {
        assert!(
            stderr.contains(&format!(
                "system_drive_reason({device}) = Some({expected_reason:?})"
            )),
            "{stderr}"
        );
    }
    let drives: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let drive =
        drive_named(&drives, &device.device).expect("the partitioned loop device is listed");
    assert_eq!(drive["system"], expected_reason);
    assert_eq!(drive["partitions"][0]["path"], part);
    assert_eq!(drive["partitions"][0]["size_bytes"], size - 2048 * 512);
    assert_eq!(
        drive["partitions"][0]["mount_points"],
        serde_json::json!(["/boot"])
    );
    assert_eq!(drive["mount_points"], serde_json::json!([]));

    // In this namespace the partition is mounted elsewhere: it shows in the
    // disk's mounts, and the disk is no system drive.
    let mount_point = std::fs::canonicalize(dir.path()).unwrap().join("mnt");
    std::fs::create_dir(&mount_point).unwrap();
    let _mounted = TestMount::new(&partition, &mount_point);
    let expected = vec![Mount {
        device: partition.clone(),
        mount_point: mount_point.clone(),
    }];
    assert_eq!(mounts_of(&device.device).unwrap(), expected);
    assert_eq!(mounts_of(&partition).unwrap(), expected);
    assert_eq!(system_drive_reason(&partition).unwrap(), None);
    unmount(&mount_point).unwrap();
}

#[test]
fn every_member_of_a_btrfs_raid_mounted_at_boot_is_a_system_drive() {
    require_root!();
    if !have("mkfs.btrfs") || !have("unshare") {
        crate::support::skip_without("mkfs.btrfs (btrfs-progs) and unshare");
        return;
    }
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    // Sparse backing files: btrfs wants ~110 MiB per device, none written.
    let attach_sparse = |name: &str| {
        let backing = dir.path().join(name);
        File::create(&backing).unwrap().set_len(128 * MIB).unwrap();
        LoopDevice::attach(&backing, false)
    };
    let (first, second) = (attach_sparse("a.img"), attach_sparse("b.img"));
    let (a, b) = (
        first.device.to_str().unwrap(),
        second.device.to_str().unwrap(),
    );
    run_ok(Command::new("mkfs.btrfs").args(["-q", "-f", "-d", "raid1", "-m", "raid1", a, b]));

    // mountinfo names only the first device; the second is found through
    // /sys/fs/btrfs. btrfs keeps scanned devices registered after unmount,
    // so they are forgotten before the loop devices go.
    let script = format!(
        "mount -o device={b} {a} /boot || exit 99
         \"$IMPRINT\" list --all --json; rc=$?
         \"$TESTS\" --exact drives::print_system_drive_reason --ignored --nocapture -q >&2 || rc=98
         umount /boot; btrfs device scan -u {a} {b} 2>/dev/null; exit $rc"
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("IMPRINT", env!("CARGO_BIN_EXE_imprint"))
        .env("TESTS", std::env::current_exe().unwrap())
        .env("IMPRINT_TEST_DEVICES", b)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let drives: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for device in [a, b] {
        let drive = drive_named(&drives, Path::new(device)).expect("both members are listed");
        let reason = drive["system"]
            .as_str()
            .unwrap_or_else(|| panic!("{device} is marked system"));
        assert!(
            reason.starts_with(&format!("{device} holds /boot (mounted from /dev/loop")),
            "{reason}"
        );
    }
    assert!(
        stderr.contains(&format!(
            "system_drive_reason({b}) = Some(\"{b} holds /boot"
        )),
        "{stderr}"
    );
}

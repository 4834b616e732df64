use std::path::{Path, PathBuf};

use super::*;
use crate::platform::windows::fake::{FakeWindows, laptop};

#[test]
fn the_system_disk_is_named_and_the_card_is_not() {
    let drives = drive_facts(&laptop()).unwrap();
    let paths: Vec<&Path> = drives.iter().map(|d| d.path.as_path()).collect();
    assert_eq!(
        paths,
        [
            Path::new(r"\\.\PhysicalDrive0"),
            Path::new(r"\\.\PhysicalDrive1")
        ]
    );
    assert_eq!(
        drives[0].system.as_deref(),
        Some(r"it holds C:\, the volume of the running Windows")
    );
    assert_eq!(drives[0].bus, Bus::Nvme);
    assert!(!drives[0].removable);
    assert_eq!(drives[1].system, None);
}

#[test]
fn a_card_with_two_volumes_lists_both_in_disk_order_with_their_mount_points() {
    let drives = drive_facts(&laptop()).unwrap();
    let card = &drives[1];
    assert_eq!(card.bus, Bus::Usb);
    assert!(card.removable);
    assert_eq!(card.size_bytes, 32 << 30);
    let names: Vec<&Path> = card.partitions.iter().map(|p| p.path.as_path()).collect();
    assert_eq!(
        names,
        [Path::new(r"\\?\Volume{e}\"), Path::new(r"\\?\Volume{f}\")]
    );
    assert_eq!(card.partitions[0].size_bytes, 256 << 20);
    assert_eq!(
        card.partitions[0].mount_points,
        [PathBuf::from(r"E:\"), PathBuf::from(r"C:\mnt\boot\")]
    );
    assert_eq!(card.partitions[1].mount_points, [PathBuf::from(r"F:\")]);
    assert!(card.mount_points.is_empty());
}

#[test]
fn mounts_are_every_mount_point_of_every_volume_on_the_disk() {
    let os = laptop();
    let points: Vec<PathBuf> = mounts_on(&os.volumes, 1)
        .into_iter()
        .map(|m| m.mount_point)
        .collect();
    assert_eq!(
        points,
        [
            PathBuf::from(r"E:\"),
            PathBuf::from(r"C:\mnt\boot\"),
            PathBuf::from(r"F:\")
        ]
    );
    // The EFI volume has no mount point: it is on disk 0, not mounted.
    assert_eq!(mounts_on(&os.volumes, 0).len(), 1);
}

#[test]
fn without_a_known_system_volume_no_disk_is_called_the_system() {
    // Wine: no real volumes, no system volume.
    let os = FakeWindows {
        system_volume: None,
        ..laptop()
    };
    assert!(drive_facts(&os).unwrap().iter().all(|d| d.system.is_none()));
}

#[test]
fn physical_drive_paths_are_read_in_any_spelling() {
    assert_eq!(disk_number(Path::new(r"\\.\PhysicalDrive3")), Some(3));
    assert_eq!(disk_number(Path::new(r"\\?\physicaldrive12")), Some(12));
    assert_eq!(disk_number(Path::new("//./PHYSICALDRIVE0")), Some(0));
    assert_eq!(disk_number(Path::new(r"\\.\PhysicalDrive")), None);
    assert_eq!(disk_number(Path::new(r"\\.\C:")), None);
    assert_eq!(disk_number(Path::new(r"C:\out.img")), None);
}

#[test]
fn bus_types_map_to_the_buses_the_drive_list_knows() {
    use super::bus;
    assert_eq!(bus_of(bus::SD), Bus::Mmc);
    assert_eq!(bus_of(bus::MMC), Bus::Mmc);
    assert_eq!(bus_of(bus::USB), Bus::Usb);
    assert_eq!(bus_of(bus::SATA), Bus::Sata);
    assert_eq!(bus_of(bus::NVME), Bus::Nvme);
    assert_eq!(bus_of(bus::FILE_BACKED_VIRTUAL), Bus::Virtual);
    assert_eq!(bus_of(99), Bus::Other);
}

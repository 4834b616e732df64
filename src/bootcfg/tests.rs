//! Tests of `bootcfg` (beside it, so the production file stays short).

use std::io::{Cursor, Seek, SeekFrom, Write};

use super::*;

const MIB: usize = 1 << 20;

/// An MBR image in memory: partition 1, FAT16 of 5 MiB at 1 MiB,
/// labelled `label`, holding a device-type.json for `slug`.
fn image(label: &[u8; 11], slug: &str) -> Vec<u8> {
    let mut disk = Cursor::new(vec![0u8; 8 * MIB]);
    let mut mbr = mbrman::MBR::new_from(&mut disk, 512, [9, 9, 9, 9]).unwrap();
    mbr[1] = mbrman::MBRPartitionEntry {
        boot: mbrman::BOOT_INACTIVE,
        first_chs: mbrman::CHS::empty(),
        sys: 0x0e,
        last_chs: mbrman::CHS::empty(),
        starting_lba: 2048,
        sectors: 10240,
    };
    mbr.write_into(&mut disk).unwrap();
    let mut bytes = disk.into_inner();
    let partition = &mut bytes[MIB..6 * MIB];
    fatfs::format_volume(
        Cursor::new(&mut *partition),
        fatfs::FormatVolumeOptions::new()
            .fat_type(fatfs::FatType::Fat16)
            .bytes_per_cluster(1024)
            .volume_label(*label),
    )
    .unwrap();
    let fs = fatfs::FileSystem::new(Cursor::new(partition), fatfs::FsOptions::new()).unwrap();
    let mut file = fs.root_dir().create_file("device-type.json").unwrap();
    write!(file, "{{\"slug\":\"{slug}\"}}").unwrap();
    drop(file);
    fs.unmount().unwrap();
    bytes
}

fn request(config: &str, wifi: Option<WifiProfile>) -> ConfigRequest {
    ConfigRequest {
        config: Some(ConfigJson::parse(config.as_bytes(), std::path::Path::new("c.json")).unwrap()),
        wifi,
    }
}

fn configure_bytes(
    image: &[u8],
    request: &ConfigRequest,
    memory_limit_bytes: u64,
) -> Result<Configured, BootConfigError> {
    configure_streams(&mut || Ok(image), request, memory_limit_bytes)
}

#[test]
fn configures_the_labelled_boot_partition_of_an_in_memory_image() {
    let image = image(b"resin-boot ", "raspberrypi4-64");
    let wifi = WifiProfile::new(b"home", Some("password1")).unwrap();
    let configured = configure_bytes(
        &image,
        &request(r#"{"deviceType":"raspberrypi4-64"}"#, Some(wifi.clone())),
        1 << 30,
    )
    .unwrap();
    assert_eq!(configured.partition.number, 1);
    assert_eq!(configured.partition.label.as_deref(), Some("resin-boot"));
    assert_eq!(configured.partition.rule, BootRule::Label);
    assert_eq!(configured.patch.offset, MIB as u64);
    assert_eq!(configured.patch.len, 5 * MIB as u64);
    assert!(configured.warnings.is_empty());
    // The patch holds only what changed: a few blocks, not 5 MiB.
    assert!(configured.patch.changed_bytes() < 64 * 1024);
    let mut bytes = image[MIB..6 * MIB].to_vec();
    configured.patch.apply(MIB as u64, &mut bytes);
    let bytes = &bytes;
    assert_eq!(
        fat::read_file(bytes, "config.json").unwrap().unwrap(),
        br#"{"deviceType":"raspberrypi4-64"}"#
    );
    assert_eq!(
        fat::read_file(bytes, "system-connections/balena-wifi-01")
            .unwrap()
            .unwrap(),
        wifi.keyfile().as_bytes()
    );
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let image = image(b"resin-boot ", "x");
    let wifi = WifiProfile::new(b"home", None).unwrap();
    let request = request(r#"{"applicationId":1}"#, Some(wifi));
    let first = configure_bytes(&image, &request, 1 << 30).unwrap();
    let second = configure_bytes(&image, &request, 1 << 30).unwrap();
    assert!(first.patch == second.patch);
}

#[test]
fn a_device_type_mismatch_is_a_warning() {
    let image = image(b"resin-boot ", "intel-nuc");
    let configured = configure_bytes(
        &image,
        &request(r#"{"deviceType":"fincm3"}"#, None),
        1 << 30,
    )
    .unwrap();
    assert_eq!(configured.warnings.len(), 1);
    assert!(configured.warnings[0].contains("intel-nuc"));
}

#[test]
fn an_unlabelled_fat_is_found_by_its_device_type_json() {
    let image = image(b"NO NAME    ", "x");
    let configured = configure_bytes(&image, &request("{}", None), 1 << 30).unwrap();
    assert_eq!(configured.partition.rule, BootRule::DeviceTypeJson);
    assert_eq!(configured.partition.number, 1);
}

#[test]
fn a_boot_partition_larger_than_the_memory_limit_is_refused() {
    let image = image(b"resin-boot ", "x");
    let err = configure_bytes(&image, &request("{}", None), MIB as u64).unwrap_err();
    assert!(
        matches!(err, BootConfigError::PartitionTooLarge { size_bytes, .. } if size_bytes == 5 * MIB as u64),
        "{err}"
    );
}

#[test]
fn an_image_that_ends_inside_its_boot_partition_is_an_error() {
    let image = image(b"resin-boot ", "x");
    let err = configure_bytes(&image[..3 * MIB], &request("{}", None), 1 << 30).unwrap_err();
    assert!(
        matches!(err, BootConfigError::Disk(DiskError::ImageTooShort { .. })),
        "{err}"
    );
}

#[test]
fn a_corrupt_fat_is_an_error_not_a_panic() {
    let mut image = image(b"resin-boot ", "x");
    // Keep the boot sector (so the label rule picks it) but wreck the
    // FATs and the root directory.
    let mut disk = Cursor::new(&mut image);
    disk.seek(SeekFrom::Start(MIB as u64 + 512)).unwrap();
    disk.write_all(&[0xFF; 64 * 1024]).unwrap();
    let err = configure_bytes(&image, &request("{}", None), 1 << 30).unwrap_err();
    eprintln!("{err}");
    assert!(err.to_string().contains("boot partition 1"), "{err}");
}

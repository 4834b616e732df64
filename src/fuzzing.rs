//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz) and for the
//! stable replay tests of their corpus (`tests/fuzz_replay.rs`): one function
//! per parser of untrusted bytes, each taking the raw input.
//!
//! Not part of the API. Each function returns whether the parser accepted
//! the input (so tests can check that valid inputs still parse); it panics
//! when a parser panics or when an invariant that must hold for every input fails
//! (the hint a parser gives disagrees with what decoding yields, a file
//! written to a FAT cannot be read back), so the fuzzer reports both.
//!
//! Image-like inputs (partition tables, boot partitions) are extended with
//! zeros to a fixed length, so the fuzzer and the committed corpus need not
//! carry the long runs of zeros real tables and filesystems are made of.

use std::io::{Cursor, Read};
use std::path::Path;

use crate::bootcfg::{
    self, BootConfigError, CONFIG_PATH, ConfigJson, ConfigRequest, WifiProfile,
    device_type::{DEVICE_TYPE_PATH, DeviceType},
    fat, wifi,
};
use crate::disk::{Partition, PartitionTable, fat_boot::parse_fat_boot_sector};
use crate::source::{ImageFormat, archive, sniff, xz_index, zstd_frames};

/// Images for [`partition_table`] are zero-extended to this length: enough
/// for an MBR, a GPT with 128 entries, and a few EBRs.
pub const PARTITION_IMAGE_LEN: usize = 64 << 10;
/// Images for [`find_boot`] are zero-extended to this length.
pub const BOOT_IMAGE_LEN: usize = 256 << 10;
/// [`find_boot`] holds no boot partition larger than this.
pub const BOOT_MEMORY_LIMIT_BYTES: u64 = 1 << 20;
/// [`fat_configure`] zero-extends its input to the size the boot sector
/// states, up to this length.
pub const MAX_FAT_VOLUME_LEN: usize = 1 << 20;
/// Decoders in the differential checks stop after this many bytes.
const MAX_DECODED_BYTES: u64 = 16 << 20;

/// The config.json the configure targets write.
const CONFIG: &str = r#"{"applicationId":1234,"deviceType":"raspberrypi4-64","uuid":"fuzz"}"#;

fn zero_extended(data: &[u8], len: usize) -> Vec<u8> {
    let mut image = data.to_vec();
    if image.len() < len {
        image.resize(len, 0);
    }
    image
}

fn request() -> ConfigRequest {
    ConfigRequest {
        config: Some(
            ConfigJson::parse(CONFIG.as_bytes(), Path::new(CONFIG_PATH))
                .expect("the fuzz config is valid"),
        ),
        wifi: Some(WifiProfile::new(b"fuzz-net", Some("password1")).expect("valid WiFi")),
    }
}

/// Format sniffing: the format never depends on bytes past
/// `sniff::SNIFF_LEN_BYTES`. Accepted: anything but raw.
pub fn sniff(data: &[u8]) -> bool {
    let format = sniff::sniff(data);
    let head = &data[..data.len().min(sniff::SNIFF_LEN_BYTES)];
    assert_eq!(format, sniff::sniff(head), "sniff looked past its head");
    format != ImageFormat::Raw
}

/// The size hint of an .xz file from its indexes. When the file also
/// decodes completely, the hint must be the decoded length.
pub fn xz_index(data: &[u8]) -> bool {
    let hint = xz_index::uncompressed_size(&mut Cursor::new(data), data.len() as u64);
    let Some(hint) = hint else {
        return false;
    };
    let decoder = liblzma::read::XzDecoder::new_multi_decoder(data);
    if let Some(decoded) = decoded_len(decoder) {
        assert_eq!(hint, decoded, "xz index hint differs from the data");
    }
    true
}

/// The size hint of a .zst file from its frame headers. When the file also
/// decodes completely, the hint must be the decoded length.
pub fn zstd_frames(data: &[u8]) -> bool {
    let hint = zstd_frames::content_size(&mut Cursor::new(data), data.len() as u64);
    let Some(hint) = hint else {
        return false;
    };
    let Ok(decoder) = zstd::stream::read::Decoder::with_buffer(data) else {
        return true;
    };
    if let Some(decoded) = decoded_len(decoder) {
        assert_eq!(hint, decoded, "zstd frame hint differs from the data");
    }
    true
}

/// The length `reader` yields, or `None` on an error or more than
/// [`MAX_DECODED_BYTES`].
fn decoded_len(reader: impl Read) -> Option<u64> {
    let len = std::io::copy(
        &mut reader.take(MAX_DECODED_BYTES + 1),
        &mut std::io::sink(),
    )
    .ok()?;
    (len <= MAX_DECODED_BYTES).then_some(len)
}

/// A zip archive: choose its disk image (central directory, local header),
/// then read the entry as the engine would, through the size and CRC-32
/// checks. A complete read yields exactly the size the archive states.
pub fn zip_archive(data: &[u8]) -> bool {
    let path = Path::new("fuzz.zip");
    let Ok(entry) = archive::find_image_entry(path, Cursor::new(data)) else {
        return false;
    };
    assert!(archive::is_disk_image_name(&entry.name), "{}", entry.name);
    let Ok(reader) = archive::open_entry(path, &entry, Cursor::new(data.to_vec())) else {
        return true;
    };
    if let Some(len) = decoded_len(reader) {
        assert_eq!(len, entry.uncompressed_len_bytes, "zip entry length");
    }
    true
}

/// MBR, EBR chain and GPT parsing, with each partition's boot sector, on
/// `data` zero-extended to [`PARTITION_IMAGE_LEN`].
pub fn partition_table(data: &[u8]) -> bool {
    let image = zero_extended(data, PARTITION_IMAGE_LEN);
    let Ok(table) = bootcfg::partition_table(&image[..]) else {
        return false;
    };
    check_table(&table);
    true
}

fn check_table(table: &PartitionTable) {
    assert!(!table.partitions.is_empty());
    for pair in table.partitions.windows(2) {
        assert!(pair[0].number < pair[1].number, "{}", table.describe());
    }
    let _ = table.describe();
}

/// The whole configure path on an image: partition table, boot partition
/// (label, `/device-type.json`, partition 1), FAT edit. `data` is
/// zero-extended to [`BOOT_IMAGE_LEN`].
pub fn find_boot(data: &[u8]) -> bool {
    let image = zero_extended(data, BOOT_IMAGE_LEN);
    let request = request();
    let result = bootcfg::configure_streams(
        &mut || Ok::<_, BootConfigError>(&image[..]),
        &request,
        BOOT_MEMORY_LIMIT_BYTES,
    );
    let Ok(configured) = result else {
        return false;
    };
    let partition = &configured.partition;
    assert_eq!(configured.patch.len, partition.size_bytes);
    assert!(partition.offset + partition.size_bytes <= image.len() as u64);
    let range = partition.offset as usize..(partition.offset + partition.size_bytes) as usize;
    let mut bytes = image[range].to_vec();
    configured.patch.apply(partition.offset, &mut bytes);
    check_written(&bytes, &request);
    true
}

/// The FAT edit of the configure path on a boot partition: classify its
/// boot sector, read `/device-type.json` and the label, write config.json
/// and a WiFi profile (creating their directory), then read both back.
/// `data` is zero-extended to the size its boot sector states, at most
/// [`MAX_FAT_VOLUME_LEN`].
pub fn fat_configure(data: &[u8]) -> bool {
    let mut partition = zero_extended(data, stated_volume_len(data));
    let _ = parse_fat_boot_sector(&partition);
    if let Ok(Some(json)) = fat::read_file(&partition, DEVICE_TYPE_PATH) {
        let _ = DeviceType::parse(&json);
    }
    let _ = fat::root_dir_label(&partition);
    let request = request();
    let boot = Partition {
        number: 1,
        offset: 0,
        size_bytes: partition.len() as u64,
        gpt_name: None,
        mbr_type: None,
        fat: None,
    };
    if bootcfg::write_request(&mut partition, &request, &boot).is_err() {
        return false;
    }
    check_written(&partition, &request);
    true
}

/// The total sectors times the sector size a FAT boot sector states, capped
/// at [`MAX_FAT_VOLUME_LEN`]; 0 without a boot sector.
fn stated_volume_len(data: &[u8]) -> usize {
    let Some(geometry) = crate::disk::FatGeometry::read(data) else {
        return 0;
    };
    let len = geometry
        .total_sectors
        .saturating_mul(geometry.bytes_per_sector);
    usize::try_from(len.min(MAX_FAT_VOLUME_LEN as u64)).unwrap_or(MAX_FAT_VOLUME_LEN)
}

/// A configured partition holds exactly the files the request wrote.
fn check_written(partition: &[u8], request: &ConfigRequest) {
    let config = fat::read_file(partition, CONFIG_PATH);
    assert_eq!(
        config.ok().flatten().as_deref(),
        request.config.as_ref().map(|c| &c.bytes[..]),
        "config.json reads back differently"
    );
    if let Some(wifi) = &request.wifi {
        let path = format!("{}/{}", wifi::CONNECTIONS_DIR, wifi::PROFILE_NAME);
        let keyfile = fat::read_file(partition, &path);
        assert_eq!(
            keyfile.ok().flatten().as_deref(),
            Some(wifi.keyfile().as_bytes()),
            "the WiFi profile reads back differently"
        );
    }
}

/// config.json validation (and the image's `/device-type.json`, the other
/// JSON read from untrusted bytes). A valid config's compact form is valid
/// and unchanged by a second pass.
pub fn config_json(data: &[u8]) -> bool {
    let _ = DeviceType::parse(data);
    let Ok(config) = ConfigJson::parse(data, Path::new(CONFIG_PATH)) else {
        return false;
    };
    let again = ConfigJson::parse(&config.bytes, Path::new(CONFIG_PATH))
        .expect("a validated config.json stays valid");
    assert_eq!(again, config);
    true
}

/// Images for [`used_map`] are zero-extended to this length: room for an
/// MBR, a small FAT or ext filesystem and its data.
pub const MAP_IMAGE_LEN: usize = 4 << 20;

/// The map of used bytes (`crate::map`) over an image streamed in chunks
/// whose size the first byte chooses (so chunk boundaries move): it never
/// panics, every used range lies in its chunk, in order, starting on a
/// 4 KiB boundary, and the image's first sector (the table) is always used.
/// Accepted when some range was found free.
pub fn used_map(data: &[u8]) -> bool {
    // From 1 MiB (the table is read from the first MiB, as the engine's
    // 4 MiB chunks hold it) in 4 KiB steps.
    let chunk = (1 << 20) + 4096 * usize::from(data.first().copied().unwrap_or(0) % 64);
    let image = zero_extended(data, MAP_IMAGE_LEN);
    let mut mapper = crate::map::Mapper::new(Vec::new());
    let mut used = 0;
    for (i, bytes) in image.chunks(chunk).enumerate() {
        let offset = (i * chunk) as u64;
        let end = offset + bytes.len() as u64;
        let ranges = mapper.used_in(offset, bytes);
        let mut last = offset;
        for r in &ranges {
            assert!(
                last <= r.start && r.start < r.end && r.end <= end,
                "{r:?} in {offset}..{end}"
            );
            assert_eq!(r.start % crate::map::ALIGN, 0, "{r:?}");
            last = r.end;
        }
        if offset == 0 {
            assert!(
                ranges.first().is_some_and(|r| r.start == 0),
                "the table is used"
            );
        }
        used += crate::map::total(&ranges);
    }
    used < image.len() as u64
}

/// [`bmap`] checks ranges against a zero image only up to this size.
const MAX_BMAP_CHECK_BYTES: u64 = 1 << 20;

/// A bmap file (`crate::map::bmap`): parsed both as it is and without its
/// own checksum (which the fuzzer cannot forge, and which would hide the
/// rest of the parser); never a panic. What parses has sorted, disjoint
/// ranges inside the image, and its checker runs over a zero image of that
/// size (up to 1 MiB) in chunks the first byte chooses, failing cleanly or
/// not at all. Accepted when the file parses with its own checksum.
pub fn bmap(data: &[u8]) -> bool {
    use crate::map::bmap::{Bmap, BmapChecker, OwnChecksum};
    let path = Path::new("fuzz.bmap");
    let sealed = Bmap::parse(path, data);
    let unsealed = Bmap::parse_with(path, data, OwnChecksum::Skip);
    if sealed.is_ok() {
        assert!(
            unsealed.is_ok(),
            "the checksum check only ever refuses more"
        );
    }
    if let Ok(bmap) = &unsealed {
        let mut previous_end = 0;
        for range in bmap.byte_ranges() {
            assert!(
                previous_end <= range.start && range.start < range.end,
                "{range:?}"
            );
            assert!(range.end <= bmap.image_size, "{range:?}");
            previous_end = range.end;
        }
        if bmap.image_size <= MAX_BMAP_CHECK_BYTES {
            let chunk = 1 + usize::from(data.first().copied().unwrap_or(0)) * 97;
            let image = vec![0u8; bmap.image_size as usize];
            let mut checker = BmapChecker::new(bmap);
            let mut result = Ok(());
            for (i, bytes) in image.chunks(chunk).enumerate() {
                result = checker.feed((i * chunk) as u64, bytes);
                if result.is_err() {
                    break;
                }
            }
            if result.is_ok() {
                checker.finish(image.len() as u64).unwrap();
            }
        }
    }
    sealed.is_ok()
}

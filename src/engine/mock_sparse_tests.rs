//! Sparse flashes against [`super::MockDisk`]: only the used ranges of a
//! mostly free FAT image are written and read back, a bmap's odd ranges
//! joined to them, every call aligned as O_DIRECT wants.

use super::tests::assert_no_violations;
use super::*;
use crate::target::probe::ProbeMode;

const MIB: usize = 1 << 20;

/// Sparse writing through the real writer and verifier: an image whose FAT
/// partition is mostly free and whose length is no multiple of a sector.
/// Only used ranges are written and read back, every call aligned; the free
/// space keeps the disk's old bytes.
#[test]
fn a_sparse_flash_writes_and_reads_back_only_used_ranges_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let (path, image, part_at, fat_len) = sparse_image(dir.path());
    let len = image.len();
    for block in [512, 4096] {
        let job = FlashJob {
            source: ImageSource::open(&path).unwrap(),
            targets: vec![PathBuf::from("/dev/mock0")],
            verify: true,
            expected_sha256: None,
            hash_image: true,
            patches: Vec::new(),
            full: false,
            bmap: None,
            inputs: Vec::new(),
            probe: ProbeMode::Off,
        };
        let mock = MockDisk::new(len + CHUNK_BYTES, block);
        let scratch = tempfile::tempdir().unwrap();
        let (events, _received) = crossbeam_channel::unbounded();
        let report = crate::engine::write_targets(
            &job,
            vec![mock.info(scratch.path())],
            &events,
            &AtomicBool::new(false),
            &mock,
            &SpoolConfig::for_targets(1),
        );
        let outcome = &report.targets[0];
        assert_eq!(outcome.result, Ok(()), "block size {block}");
        assert_no_violations(&mock);
        let disk = mock.state();
        // The first two writes clear the first and last MiB.
        let image_writes = &disk.writes[2..];
        let written: u64 = image_writes.iter().map(|w| w.1 as u64).sum();
        assert_eq!(outcome.written_bytes, written);
        assert_eq!(outcome.verified_bytes, written);
        assert!(written < len as u64 / 4, "{written} of {len} bytes written");
        // Reads back exactly what was written, after at most two
        // compare-before-write samples (a fresh disk, engine::compare_first).
        let samples = disk.reads.len() - image_writes.len();
        assert!(samples <= 2, "{:?}", disk.reads);
        assert_eq!(disk.reads[samples..], *image_writes);
        for (i, (now, img)) in disk.bytes[..len].iter().zip(&image).enumerate() {
            let in_write = image_writes
                .iter()
                .any(|&(at, n)| (at as usize..at as usize + n).contains(&i));
            if in_write {
                assert_eq!(now, img, "byte {i}");
            } else if i < MIB {
                assert_eq!(*now, 0, "byte {i} of the first MiB was not cleared");
            } else {
                assert_eq!(*now, OLD_BYTE, "byte {i} was not written");
                assert!(i >= part_at && i < part_at + fat_len, "byte {i} skipped");
            }
        }
        // The image hash is the whole image's.
        let sha = hex(&Sha256::digest(&image));
        assert_eq!(report.image_sha256.as_deref(), Some(sha.as_str()));
    }
}

/// An image file with a mostly free FAT16 partition at 1 MiB and a length
/// no multiple of a sector: (its path, its bytes, the partition's offset
/// and length).
fn sparse_image(dir: &Path) -> (PathBuf, Vec<u8>, usize, usize) {
    let fat = dir.join("fat.img");
    let made = std::process::Command::new("mkfs.vfat")
        .args(["-F", "16", "-C"])
        .arg(&fat)
        .arg("20000")
        .output()
        .expect("mkfs.vfat (dosfstools) is needed");
    assert!(made.status.success());
    let fat = std::fs::read(&fat).unwrap();
    let part_at = 1 << 20;
    let len = part_at + fat.len() + 4096 + 77;
    let mut image = vec![0u8; len];
    image[446 + 4] = 0x0e;
    image[446 + 8..446 + 12].copy_from_slice(&((part_at / 512) as u32).to_le_bytes());
    image[446 + 12..446 + 16].copy_from_slice(&((fat.len() / 512) as u32).to_le_bytes());
    image[510..512].copy_from_slice(&[0x55, 0xAA]);
    image[part_at..part_at + fat.len()].copy_from_slice(&fat);
    image[len - 50..].fill(0x42);
    let path = dir.join("image.img");
    std::fs::write(&path, &image).unwrap();
    (path, image, part_at, fat.len())
}

/// A bmap with an odd block size (1000 bytes) whose second range lies in
/// the FAT's free space, over a deleted file's bytes: that range is written
/// and read back too (the union of the maps), every call still aligned; a
/// range whose checksum does not match fails the target, naming it.
#[test]
fn a_bmaps_unaligned_ranges_are_written_aligned_and_checked() {
    use crate::map::bmap::{Bmap, BmapRange, ChecksumType};
    let dir = tempfile::tempdir().unwrap();
    let (path, mut image, part_at, _) = sparse_image(dir.path());
    let deleted = part_at + (6 << 20) + 1234..part_at + (6 << 20) + 4234;
    image[deleted.clone()].fill(0x5A);
    std::fs::write(&path, &image).unwrap();
    let block = 1000;
    let range = |first: usize, last: usize| BmapRange {
        first: first as u64,
        last: last as u64,
        checksum: Some(Sha256::digest(&image[first * block..(last + 1) * block]).to_vec()),
    };
    let bmap = Bmap {
        path: dir.path().join("image.img.bmap"),
        version: "2.0".to_string(),
        image_size: image.len() as u64,
        block_size: block as u64,
        mapped_blocks: 0,
        checksum_type: Some(ChecksumType::Sha256),
        ranges: vec![
            range(0, 1),
            range(deleted.start / block, deleted.end / block),
        ],
    };
    let flash = |bmap: Option<Bmap>| {
        let job = FlashJob {
            source: ImageSource::open(&path).unwrap(),
            targets: vec![PathBuf::from("/dev/mock0")],
            verify: true,
            expected_sha256: None,
            hash_image: true,
            patches: Vec::new(),
            full: false,
            bmap: bmap.map(Arc::new),
            inputs: Vec::new(),
            probe: ProbeMode::Off,
        };
        let mock = MockDisk::new(image.len() + CHUNK_BYTES, 4096);
        let scratch = tempfile::tempdir().unwrap();
        let (events, _received) = crossbeam_channel::unbounded();
        let report = crate::engine::write_targets(
            &job,
            vec![mock.info(scratch.path())],
            &events,
            &AtomicBool::new(false),
            &mock,
            &SpoolConfig::for_targets(1),
        );
        (report, mock)
    };
    // Without the bmap the deleted bytes are free space, not written.
    let (report, mock) = flash(None);
    assert_eq!(report.targets[0].result, Ok(()));
    assert!(
        mock.state().bytes[deleted.clone()]
            .iter()
            .all(|&b| b == OLD_BYTE)
    );

    let (report, mock) = flash(Some(bmap.clone()));
    assert_eq!(report.targets[0].result, Ok(()));
    assert!(report.targets[0].verified);
    assert_no_violations(&mock);
    assert!(mock.state().bytes[deleted.clone()] == image[deleted.clone()]);

    let mut damaged = bmap;
    damaged.ranges[1].checksum.as_mut().unwrap()[0] ^= 1;
    let (report, mock) = flash(Some(damaged));
    let failure = report.targets[0].result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Checksum);
    let name = format!(
        "bmap range {}-{} ",
        deleted.start / block,
        deleted.end / block
    );
    assert!(failure.message.contains(&name), "{}", failure.message);
    assert_no_violations(&mock);
}

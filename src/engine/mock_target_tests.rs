//! The engine's data path against [`super::MockDisk`]: flashes, verifies,
//! patches, sparse maps and bmaps, each call checked against O_DIRECT's rules.

use super::*;
use crate::target::probe::ProbeMode;

/// An image of three whole chunks and a tail that is no multiple of 4096
/// (nor of 512), with a chunk of zeros; and a patch across the first two
/// chunks, as a configured boot partition would be.
struct TestImage {
    _dir: tempfile::TempDir,
    job: FlashJob,
    /// The image as the targets must hold it: patched.
    expected: Vec<u8>,
    /// The image as its file holds it.
    original: Vec<u8>,
}

const IMAGE_LEN: usize = 3 * CHUNK_BYTES + 2 * 4096 + 123;
const MIB: usize = 1 << 20;

fn test_image(verify: bool) -> TestImage {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut image: Vec<u8> = (0..IMAGE_LEN)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    // Not the magic of any compressed format: the image is raw.
    image[..8].copy_from_slice(b"IMPRINT!");
    image[2 * CHUNK_BYTES..3 * CHUNK_BYTES].fill(0);
    let path = dir.path().join("image.img");
    std::fs::write(&path, &image).unwrap();
    let original = image.clone();
    let patch = patch_of(&image, CHUNK_BYTES - 1000, &[0xAB; 3000]);
    patch.apply(0, &mut image);
    let job = FlashJob {
        source: ImageSource::open(&path).unwrap(),
        targets: vec![PathBuf::from("/dev/mock0")],
        verify,
        expected_sha256: None,
        hash_image: true,
        patches: vec![Some(patch)],
        full: false,
        bmap: None,
        inputs: Vec::new(),
        probe: ProbeMode::Off,
    };
    TestImage {
        _dir: dir,
        job,
        expected: image,
        original,
    }
}

/// The patch that writes `bytes` at `at` into `image`, as a configured boot
/// partition spanning 2 MiB from 4 KiB before `at` would be.
fn patch_of(image: &[u8], at: usize, bytes: &[u8]) -> Patch {
    let region = at - 4096..at - 4096 + (2 << 20);
    let mut configured = image[region.clone()].to_vec();
    configured[4096..4096 + bytes.len()].copy_from_slice(bytes);
    Patch::diff(region.start as u64, &image[region], &configured)
}

/// Flashes the test image to `mock` through the real writer and verifier.
fn flash_to(mock: &MockDisk, image: &TestImage) -> FlashReport {
    let scratch = tempfile::tempdir().unwrap();
    let (events, _received) = crossbeam_channel::unbounded();
    let cancel = AtomicBool::new(false);
    crate::engine::write_targets(
        &image.job,
        vec![mock.info(scratch.path())],
        &events,
        &cancel,
        mock,
        &SpoolConfig::for_targets(1),
    )
}

pub(super) fn assert_no_violations(mock: &MockDisk) {
    let disk = mock.state();
    assert!(
        disk.violations.is_empty(),
        "O_DIRECT rules broken:\n{}",
        disk.violations.join("\n")
    );
}

#[test]
fn a_flash_writes_and_verifies_every_byte_with_aligned_calls_only() {
    for block in [512, 4096] {
        let image = test_image(true);
        let mock = MockDisk::new(IMAGE_LEN + 3 * CHUNK_BYTES, block);
        let report = flash_to(&mock, &image);
        let outcome = &report.targets[0];
        assert_eq!(outcome.result, Ok(()), "block size {block}");
        assert!(outcome.verified);
        assert_eq!(outcome.bytes_written, IMAGE_LEN as u64);
        assert_eq!(report.image_bytes, Some(IMAGE_LEN as u64));
        // The image's hash is of the image as published, without the patch.
        let sha = hex(&Sha256::digest(&image.original));
        assert_eq!(report.image_sha256.as_deref(), Some(sha.as_str()));
        assert_no_violations(&mock);
        let disk = mock.state();
        assert!(
            disk.bytes[..IMAGE_LEN] == image.expected[..],
            "bytes differ"
        );
        // The device's last MiB was cleared (a stale backup GPT), in whole
        // sectors; the rest after the image keeps its bytes.
        let end = disk.bytes.len() / block * block;
        let last_mib = end - MIB;
        assert!(
            disk.bytes[IMAGE_LEN..last_mib]
                .iter()
                .all(|&b| b == OLD_BYTE)
        );
        assert!(disk.bytes[last_mib..end].iter().all(|&b| b == 0));
        assert_eq!(disk.finished, Some(IMAGE_LEN as u64));
        // The first and last MiB cleared, then one write per chunk in
        // order but for the first MiB, written last; every one read back,
        // the first MiB last.
        let chunks: Vec<(u64, usize)> = (0..IMAGE_LEN)
            .step_by(CHUNK_BYTES)
            .map(|at| {
                (
                    at.max(MIB) as u64,
                    CHUNK_BYTES.min(IMAGE_LEN - at) - (MIB - at.min(MIB)),
                )
            })
            .chain([(0, MIB)])
            .collect();
        assert_eq!(disk.writes[..2], [(0, MIB), (last_mib as u64, MIB)]);
        assert_eq!(disk.writes[2..], chunks);
        // Compare-before-write samples first (a fresh disk: two misses
        // pause it, engine::compare_first), then every chunk read back.
        let samples = disk.reads.len() - chunks.len();
        assert!(samples <= 2, "{:?}", disk.reads);
        assert!(disk.reads[..samples].iter().all(|r| r.1 <= 128 << 10));
        assert_eq!(disk.reads[samples..], chunks);
        assert_eq!(disk.unaligned_ends, vec![IMAGE_LEN as u64]);
    }
}

#[test]
fn a_byte_changed_on_the_card_fails_verification_naming_its_chunk() {
    let image = test_image(true);
    let mock = MockDisk::new(IMAGE_LEN, 512);
    let flipped = (CHUNK_BYTES + 4321) as u64;
    mock.state().flip_on_read = Some(flipped);
    let report = flash_to(&mock, &image);
    let failure = report.targets[0].result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Verify);
    assert_eq!(failure.offset, Some(CHUNK_BYTES as u64));
    assert!(
        failure
            .message
            .contains(&format!("from byte {CHUNK_BYTES} differ")),
        "{failure}"
    );
    assert!(!report.targets[0].verified);
    assert_no_violations(&mock);
}

#[test]
fn imprint_verify_names_the_exact_byte_the_card_changed() {
    let image = test_image(false);
    let mock = MockDisk::new(IMAGE_LEN + 4096, 4096);
    mock.state().bytes[..IMAGE_LEN].copy_from_slice(&image.expected);
    let flipped = (3 * CHUNK_BYTES + 4096 + 7) as u64;
    mock.state().flip_on_read = Some(flipped);
    let scratch = tempfile::tempdir().unwrap();
    let (events, _received) = crossbeam_channel::unbounded();
    let compare = |mock: &MockDisk| {
        crate::engine::compare_targets(
            &image.job,
            vec![mock.info(scratch.path())],
            &events,
            &AtomicBool::new(false),
            mock,
        )
    };
    let report = compare(&mock);
    let failure = report.targets[0].result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Verify);
    assert_eq!(failure.offset, Some(flipped));
    assert!(
        failure.message.contains(&format!("at byte {flipped} ")),
        "{failure}"
    );
    assert_no_violations(&mock);
    // The same card, unchanged, compares equal.
    mock.state().flip_on_read = None;
    assert_eq!(compare(&mock).targets[0].result, Ok(()));
    assert_no_violations(&mock);
}

#[test]
fn a_write_that_fails_names_the_4_kib_piece_it_failed_in() {
    let image = test_image(true);
    let mock = MockDisk::new(IMAGE_LEN, 512);
    let bad = (2 * CHUNK_BYTES + 5 * 4096 + 100) as u64;
    mock.state().fail_write_at = Some(bad);
    let report = flash_to(&mock, &image);
    let failure = report.targets[0].result.clone().unwrap_err();
    let piece = bad / 4096 * 4096;
    assert_eq!(failure.kind, FailureKind::Write);
    assert_eq!(failure.offset, Some(piece));
    assert!(
        failure
            .message
            .contains(&format!("failed at byte {piece}:")),
        "{failure}"
    );
    assert_eq!(report.targets[0].bytes_written, 2 * CHUNK_BYTES as u64);
    assert_no_violations(&mock);
    // After the first and last MiB were cleared, nothing was written after
    // the failing piece, and the partition table never was.
    let disk = mock.state();
    assert!(
        disk.writes[2..]
            .iter()
            .all(|&(at, _)| at <= bad && at >= MIB as u64),
        "{:?}",
        disk.writes
    );
    assert!(disk.bytes[..MIB].iter().all(|&b| b == 0));
    assert!(
        failure
            .message
            .contains(super::super::table_last::LEFT_BLANK),
        "{failure}"
    );
}

#[test]
fn the_mock_catches_what_o_direct_would_refuse() {
    let mock = MockDisk::new(3 * 4096, 512);
    let mut target: Box<dyn BlockTarget> = Box::new(mock.clone());
    let buf = AlignedBuf::zeroed(2 * 4096);
    target.write_at(100, &buf[..512]).unwrap();
    target.write_at(0, &buf[1..513]).unwrap();
    target.write_at(0, &buf[..700]).unwrap();
    target.finish(1000).unwrap();
    let mut small = AlignedBuf::zeroed(512);
    target.read_at(0, &mut small, 513).unwrap();
    target.read_at(4, &mut small, 256).unwrap();
    let violations = mock.state().violations.clone();
    assert_eq!(violations.len(), 5, "{violations:#?}");
    for (found, expected) in violations.iter().zip([
        "offset not a multiple of 512",
        "not 4096-aligned",
        "not only at the image's end 1000",
        "buffer of 512 bytes for 513 bytes",
        "offset not a multiple of 512",
    ]) {
        assert!(found.contains(expected), "{found}");
    }
}

/// Two targets, each with its own configured boot partition (as two CSV
/// rows give): each holds and verifies its own bytes, its `target_done`
/// hash is of those, and the image's hash is the image's alone.
#[test]
fn each_target_is_written_and_verified_with_its_own_patch() {
    let image = test_image(true);
    let patch_a = patch_of(&image.original, CHUNK_BYTES - 1000, &[0xAA; 3000]);
    let patch_b = patch_of(&image.original, CHUNK_BYTES - 1000, b"{\"uuid\":\"b\"}");
    let mut job = image.job.clone();
    job.targets = vec!["/dev/mockA".into(), "/dev/mockB".into()];
    job.patches = vec![Some(patch_a.clone()), Some(patch_b.clone())];
    let disks = MockDisks(vec![
        MockDisk::named(IMAGE_LEN, 512, "/dev/mockA"),
        MockDisk::named(IMAGE_LEN, 4096, "/dev/mockB"),
    ]);
    let scratch = tempfile::tempdir().unwrap();
    let infos = disks.0.iter().map(|d| d.info(scratch.path())).collect();
    let (events, received) = crossbeam_channel::unbounded();
    let report = crate::engine::write_targets(
        &job,
        infos,
        &events,
        &AtomicBool::new(false),
        &disks,
        &SpoolConfig::for_targets(2),
    );
    drop(events);
    let image_sha = hex(&Sha256::digest(&image.original));
    assert_eq!(report.image_sha256.as_deref(), Some(image_sha.as_str()));
    let mut shas = vec![None; 2];
    for event in received {
        if let crate::engine::FlashEvent::TargetDone { target, sha256, .. } = event {
            shas[target] = sha256;
        }
    }
    for (i, (disk, patch)) in disks.0.iter().zip([&patch_a, &patch_b]).enumerate() {
        assert_eq!(report.targets[i].result, Ok(()), "target {i}");
        assert!(report.targets[i].verified);
        assert_no_violations(disk);
        let mut expected = image.original.clone();
        patch.apply(0, &mut expected);
        assert!(
            disk.state().bytes == expected,
            "target {i} holds its own bytes"
        );
        let own = hex(&Sha256::digest(&expected));
        assert_eq!(shas[i].as_deref(), Some(own.as_str()), "target {i}");
        assert_ne!(own, image_sha);
    }
    // The patches cost what they change, not the region they belong to.
    assert_eq!(patch_b.changed_bytes(), 4096);
}

/// A card that loses a byte of its configuration fails, though the byte
/// is in a range no other target's check would notice.
#[test]
fn a_target_whose_configured_bytes_read_back_wrong_fails() {
    let image = test_image(true);
    let mut job = image.job.clone();
    let patch = patch_of(&image.original, CHUNK_BYTES - 1000, &[0x11; 100]);
    job.targets = vec!["/dev/mockA".into(), "/dev/mockB".into()];
    job.patches = vec![Some(patch.clone()), Some(patch)];
    let disks = MockDisks(vec![
        MockDisk::named(IMAGE_LEN, 512, "/dev/mockA"),
        MockDisk::named(IMAGE_LEN, 512, "/dev/mockB"),
    ]);
    let flipped = (CHUNK_BYTES - 1000 + 50) as u64;
    disks.0[1].state().flip_on_read = Some(flipped);
    let scratch = tempfile::tempdir().unwrap();
    let infos = disks.0.iter().map(|d| d.info(scratch.path())).collect();
    let (events, _received) = crossbeam_channel::unbounded();
    let report = crate::engine::write_targets(
        &job,
        infos,
        &events,
        &AtomicBool::new(false),
        &disks,
        &SpoolConfig::for_targets(2),
    );
    assert_eq!(report.targets[0].result, Ok(()));
    let failure = report.targets[1].result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Verify);
    assert_eq!(failure.offset, Some(flipped), "{failure}");
    assert!(failure.message.contains("configured"), "{failure}");
}

/// `imprint verify` compares each target with its own configuration.
#[test]
fn imprint_verify_compares_each_target_with_its_own_patch() {
    let image = test_image(false);
    let patch_a = patch_of(&image.original, CHUNK_BYTES - 1000, &[0xAA; 10]);
    let patch_b = patch_of(&image.original, CHUNK_BYTES - 1000, &[0xBB; 10]);
    let mut job = image.job.clone();
    job.targets = vec!["/dev/mockA".into(), "/dev/mockB".into()];
    job.patches = vec![Some(patch_a.clone()), Some(patch_b)];
    let disks = MockDisks(vec![
        MockDisk::named(IMAGE_LEN, 512, "/dev/mockA"),
        MockDisk::named(IMAGE_LEN, 512, "/dev/mockB"),
    ]);
    // Both hold A's configuration: A compares equal, B differs where its
    // own configuration does.
    for disk in &disks.0 {
        let mut bytes = image.original.clone();
        patch_a.apply(0, &mut bytes);
        disk.state().bytes = bytes;
    }
    let scratch = tempfile::tempdir().unwrap();
    let infos = disks.0.iter().map(|d| d.info(scratch.path())).collect();
    let (events, _received) = crossbeam_channel::unbounded();
    let report =
        crate::engine::compare_targets(&job, infos, &events, &AtomicBool::new(false), &disks);
    assert_eq!(report.targets[0].result, Ok(()));
    let failure = report.targets[1].result.clone().unwrap_err();
    assert_eq!(
        failure.offset,
        Some((CHUNK_BYTES - 1000) as u64),
        "{failure}"
    );
}

/// The station's way: one decode of a compressed image shared by targets
/// that start at different times. A target that joins after the image was
/// decoded (and mostly left memory for the cache file) still gets it whole,
/// with its own patch, verified against the one decode's digests.
#[test]
fn targets_joining_a_shared_image_late_get_all_of_it_with_their_own_patch() {
    use std::io::Write;
    let image = test_image(true);
    let gz = image._dir.path().join("image.img.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    encoder.write_all(&image.original).unwrap();
    encoder.finish().unwrap();
    let patch_a = patch_of(&image.original, CHUNK_BYTES - 1000, b"{\"n\":1}");
    let patch_b = patch_of(&image.original, CHUNK_BYTES - 1000, b"{\"n\":2}");
    let cache = tempfile::tempdir().unwrap();
    let config = SpoolConfig {
        memory_bytes: CHUNK_BYTES,
        cache_dir: Some(cache.path().to_path_buf()),
        retain_all: false,
    };
    let source = ImageSource::open(&gz).unwrap();
    let shared =
        crate::engine::SharedImage::start(source, vec![patch_a.range()], false, None, config)
            .unwrap();
    let disks = MockDisks(vec![
        MockDisk::named(IMAGE_LEN, 512, "/dev/mockA"),
        MockDisk::named(IMAGE_LEN, 4096, "/dev/mockB"),
    ]);
    let scratch = tempfile::tempdir().unwrap();
    let (events, _received) = crossbeam_channel::unbounded();
    let cancel = AtomicBool::new(false);
    let flash = |i: usize, patch: &Patch| {
        let info = disks.0[i].info(scratch.path());
        let target = crate::engine::OneTarget {
            index: i,
            info,
            patch: Some(patch),
            verify: true,
            expected_sha256: None,
            probe: ProbeMode::Off,
        };
        shared.flash_one_with(target, &events, &cancel, &disks)
    };
    let a = flash(0, &patch_a);
    let (image_bytes, image_sha) = shared.result();
    let b = flash(1, &patch_b);
    assert_eq!(image_bytes, Some(IMAGE_LEN as u64));
    let sha = hex(&Sha256::digest(&image.original));
    assert_eq!(image_sha.as_deref(), Some(sha.as_str()));
    for (i, (outcome, patch)) in [(a, &patch_a), (b, &patch_b)].into_iter().enumerate() {
        assert_eq!(outcome.result, Ok(()), "target {i}");
        assert!(outcome.verified);
        let mut expected = image.original.clone();
        patch.apply(0, &mut expected);
        assert!(disks.0[i].state().bytes == expected, "target {i}");
        assert_no_violations(&disks.0[i]);
    }
    let stats = shared.stats();
    assert!(stats.chunks_spilled >= 2, "{stats:?}");
    assert!(stats.chunks_reloaded >= 2, "{stats:?}");
    assert!(stats.peak_memory_bytes <= CHUNK_BYTES, "{stats:?}");
}

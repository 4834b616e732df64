//! The engine's data path against [`super::MockDisk`]: flashes, verifies,
//! patches, sparse maps and bmaps, each call checked against O_DIRECT's rules.
//! Here whole images and failures; per-target patches and the shared image
//! in `mock_target_patch_tests.rs`; sparse maps and bmaps in
//! `mock_target_sparse_tests.rs`. The helpers they share are here.

use super::*;

#[path = "mock_target_patch_tests.rs"]
mod patches;
#[path = "mock_target_sparse_tests.rs"]
mod sparse;

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
        patches: vec![Some(patch)],
        full: false,
        bmap: None,
        inputs: Vec::new(),
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
    write_job(&image.job, std::slice::from_ref(mock), mock).0
}

/// Runs `job` through the real writer and verifier onto `disks` (one a
/// target, in order), opened through `opener`; the report and every event
/// the run sent.
fn write_job(
    job: &FlashJob,
    disks: &[MockDisk],
    opener: &dyn TargetOpener,
) -> (
    FlashReport,
    crossbeam_channel::Receiver<crate::engine::FlashEvent>,
) {
    let scratch = tempfile::tempdir().unwrap();
    let infos = disks.iter().map(|d| d.info(scratch.path())).collect();
    let (events, received) = crossbeam_channel::unbounded();
    let report = crate::engine::write_targets(
        job,
        infos,
        &events,
        &AtomicBool::new(false),
        opener,
        &SpoolConfig::for_targets(disks.len()),
    );
    (report, received)
}

fn assert_no_violations(mock: &MockDisk) {
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
        assert!(disk.bytes[IMAGE_LEN..].iter().all(|&b| b == OLD_BYTE));
        assert_eq!(disk.finished, Some(IMAGE_LEN as u64));
        // One write per chunk, in order, and every one read back.
        let chunks: Vec<(u64, usize)> = (0..IMAGE_LEN)
            .step_by(CHUNK_BYTES)
            .map(|at| (at as u64, CHUNK_BYTES.min(IMAGE_LEN - at)))
            .collect();
        assert_eq!(disk.writes, chunks);
        assert_eq!(disk.reads, chunks);
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
    // Nothing was written after the failing piece.
    let disk = mock.state();
    assert!(
        disk.writes.iter().all(|&(at, _)| at <= bad),
        "{:?}",
        disk.writes
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

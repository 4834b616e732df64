//! Per-target patches against the mock disk: each target written, verified
//! and compared with its own configured bytes, also when it joins a shared
//! image late.

use super::*;

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
    let (report, received) = write_job(&job, &disks.0, &disks);
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
    let (report, _) = write_job(&job, &disks.0, &disks);
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

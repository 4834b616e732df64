//! Tests of `engine` (beside it, so the production file stays short).

use super::*;
use crate::engine::chunk::CHUNK_BYTES;
use crate::target::probe::ProbeMode;
use crossbeam_channel::unbounded;

/// A compressed image larger than memory, to several targets, may need
/// a cache file as large as the image: a directory without the room
/// (procfs has none) is a refusal naming it; one target, or an image
/// that fits in memory, needs no cache file.
#[test]
fn a_cache_directory_short_of_space_is_a_refusal_naming_it() {
    let image = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test.img.xz");
    let job = FlashJob {
        source: crate::source::ImageSource::open(&image).unwrap(),
        targets: vec!["/dev/sdx".into(), "/dev/sdy".into()],
        verify: true,
        expected_sha256: None,
        hash_image: true,
        patches: Vec::new(),
        full: false,
        bmap: None,
        inputs: Vec::new(),
        probe: ProbeMode::Off,
    };
    assert!(job.source.size_hint().unwrap() > CHUNK_BYTES as u64);
    let config = SpoolConfig {
        memory_bytes: CHUNK_BYTES,
        cache_dir: Some("/proc/imprint".into()),
        retain_all: false,
    };
    let refusals = check_cache_space(&job, 2, &config).unwrap_err();
    assert_eq!(refusals[0].target, std::path::Path::new("/proc/imprint"));
    assert!(
        refusals[0].reason.contains("free"),
        "{}",
        refusals[0].reason
    );
    assert!(check_cache_space(&job, 1, &config).is_ok());
    let roomy = SpoolConfig {
        memory_bytes: 8 << 20,
        ..config
    };
    assert!(check_cache_space(&job, 2, &roomy).is_ok());
}

#[test]
fn a_panicked_target_thread_fails_its_target_alone_and_says_so() {
    let (events, received) = unbounded();
    let joined = std::thread::Builder::new()
        .name("test/panics".into())
        .spawn(|| -> TargetOutcome { panic!("index out of bounds") })
        .unwrap()
        .join();
    let outcome = target_outcome(joined, 2, "/dev/sdc".into(), &events);
    let failure = outcome.result.unwrap_err();
    assert!(
        failure.message.contains("writing /dev/sdc"),
        "{}",
        failure.message
    );
    assert!(
        failure.message.contains("index out of bounds"),
        "{}",
        failure.message
    );
    assert!(matches!(
        received.try_recv(),
        Ok(FlashEvent::TargetDone {
            target: 2,
            result: Err(_),
            ..
        })
    ));
}

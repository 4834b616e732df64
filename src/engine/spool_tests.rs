//! Tests of `spool` (beside it, so the production file stays short).

use super::config::MEMORY_BUDGET;
use super::*;
use std::path::{Path, PathBuf};

/// A compressed (so not positional) image of `chunks` chunks, each
/// chunk's bytes telling its index, with one chunk of zeros.
fn gz_image(dir: &Path, chunks: usize) -> (ImageSource, Vec<u8>) {
    use std::io::Write;
    let mut image = vec![0u8; chunks * CHUNK_BYTES];
    for (i, chunk) in image.chunks_mut(CHUNK_BYTES).enumerate() {
        if i != 2 {
            chunk
                .iter_mut()
                .enumerate()
                .for_each(|(j, b)| *b = (i * 7 + j / 4096) as u8 | 1);
        }
    }
    let path = dir.join("image.img.gz");
    let mut gz =
        flate2::write::GzEncoder::new(File::create(&path).unwrap(), flate2::Compression::fast());
    gz.write_all(&image).unwrap();
    gz.finish().unwrap();
    (ImageSource::open(&path).unwrap(), image)
}

/// A spool of `memory_bytes` for `source`, its cache file (if any) in
/// `cache_dir`, chunks leaving memory once every target has them.
fn spool_of(source: &ImageSource, memory_bytes: usize, cache_dir: Option<PathBuf>) -> Arc<Spool> {
    let config = SpoolConfig {
        memory_bytes,
        cache_dir,
        retain_all: false,
    };
    Spool::new(&config, source)
}

/// Two targets joined at the start: the tests read one fast, one slow.
fn two_targets(spool: &Arc<Spool>) -> (Cursor, Cursor) {
    (spool.join(true).unwrap(), spool.join(true).unwrap())
}

fn push_all(spool: &Spool, image: &[u8], cancel: &AtomicBool) {
    for (i, bytes) in image.chunks(CHUNK_BYTES).enumerate() {
        let mut buf = spool.buffer();
        buf[..bytes.len()].copy_from_slice(bytes);
        let chunk = Chunk::new(
            (i * CHUNK_BYTES) as u64,
            bytes.len(),
            buf,
            Some(spool.home()),
        );
        spool.push(chunk, cancel).unwrap();
    }
    spool.finish(Ok(image.len() as u64));
}

fn read_all(cursor: &mut Cursor, cancel: &AtomicBool) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        match cursor.next(cancel) {
            Message::Chunk(chunk) => {
                assert_eq!(chunk.offset, out.len() as u64);
                out.extend_from_slice(chunk.bytes());
            }
            Message::End { image_bytes } => {
                assert_eq!(image_bytes, out.len() as u64);
                return out;
            }
            Message::Failed(f) => panic!("{f}"),
        }
    }
}

/// Descriptors of this process open on a file in `dir` (deleted or not).
fn open_in(dir: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count()
}

/// A tiny budget and a target that does not read until the image is
/// decoded: the reader is not held back (the other target takes every
/// chunk as it comes), the laggard reads the image whole from the cache
/// file, and the file is gone from the directory at once and from the
/// process once the spool is.
#[test]
fn a_laggard_reads_what_left_memory_from_a_cache_file_that_leaves_no_trace() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (source, image) = gz_image(dir.path(), 12);
    let spool = spool_of(&source, 3 * CHUNK_BYTES, Some(cache.clone()));
    assert!(spool.may_need_cache(Some(image.len() as u64)));
    let cancel = AtomicBool::new(false);
    let (mut fast, mut slow) = two_targets(&spool);
    std::thread::scope(|s| {
        let fast = s.spawn(|| read_all(&mut fast, &cancel));
        push_all(&spool, &image, &cancel);
        assert!(fast.join().unwrap() == image);
    });
    let stats = spool.stats();
    assert!(stats.chunks_spilled >= 8, "{stats:?}");
    assert!(stats.peak_memory_bytes <= 3 * CHUNK_BYTES, "{stats:?}");
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        0,
        "unlinked at once"
    );
    assert_eq!(open_in(&cache), 1, "the spool holds it open");
    assert!(read_all(&mut slow, &cancel) == image);
    assert!(spool.stats().chunks_reloaded >= 8);
    drop((fast, slow, spool));
    assert_eq!(open_in(&cache), 0, "closed with the spool");
}

/// The cache file's disk fills up after a few chunks: what it holds is
/// still read back, and from then on the slowest target sets the pace
/// (the reader waits for it) instead of that target failing.
#[test]
fn a_cache_file_whose_disk_fills_up_makes_the_slowest_set_the_pace() {
    if !platform::is_administrator() {
        assert!(
            std::env::var_os("IMPRINT_REQUIRE_ROOT").is_none(),
            "needs root to mount a small tmpfs"
        );
        eprintln!("skipped: needs root to mount a small tmpfs");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=10m", "tmpfs"])
        .arg(&cache)
        .status()
        .unwrap();
    assert!(mounted.success(), "mount a 10 MiB tmpfs");
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(self.0)
                .status();
        }
    }
    let _unmount = Unmount(&cache);
    let (source, image) = gz_image(dir.path(), 12);
    let spool = spool_of(&source, 3 * CHUNK_BYTES, Some(cache.clone()));
    let cancel = AtomicBool::new(false);
    let (mut fast, mut slow) = two_targets(&spool);
    std::thread::scope(|s| {
        let fast = s.spawn(|| read_all(&mut fast, &cancel));
        let slow = s.spawn(|| {
            // Far behind at first, so that chunks are spilled until the
            // 10 MiB disk is full.
            std::thread::sleep(Duration::from_millis(800));
            read_all(&mut slow, &cancel)
        });
        push_all(&spool, &image, &cancel);
        assert!(fast.join().unwrap() == image);
        assert!(
            slow.join().unwrap() == image,
            "the slow target got every byte"
        );
    });
    let stats = spool.stats();
    assert!(
        (1..9).contains(&stats.chunks_spilled),
        "some chunks spilled before the disk filled: {stats:?}"
    );
    assert!(stats.chunks_reloaded >= 1, "{stats:?}");
    assert!(stats.peak_memory_bytes <= 4 * CHUNK_BYTES, "{stats:?}");
}

/// One target, however slow, holds only the reader's few chunks ahead
/// of it in memory, whatever the budget: nothing is spilled.
#[test]
fn one_slow_target_costs_a_few_chunks_of_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (source, image) = gz_image(dir.path(), 12);
    let spool = spool_of(&source, MEMORY_BUDGET, Some(dir.path().join("cache")));
    let cancel = AtomicBool::new(false);
    let mut target = spool.join(true).unwrap();
    let mut hasher = spool.join(false).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut read = Vec::new();
            while let Message::Chunk(chunk) = target.next(&cancel) {
                std::thread::sleep(Duration::from_millis(20));
                read.extend_from_slice(chunk.bytes());
            }
            assert!(read == image);
        });
        s.spawn(|| read_all(&mut hasher, &cancel));
        push_all(&spool, &image, &cancel);
    });
    let stats = spool.stats();
    assert_eq!(stats.chunks_spilled, 0);
    assert!(
        stats.peak_memory_bytes <= (READ_AHEAD_CHUNKS + 1) * CHUNK_BYTES,
        "{stats:?}"
    );
}

/// When the last target leaves (it failed), the reader is not left
/// waiting for it, and hears that no one wants the image any more.
#[test]
fn the_reader_does_not_wait_for_a_target_that_left() {
    let dir = tempfile::tempdir().unwrap();
    let (source, image) = gz_image(dir.path(), 12);
    let spool = Spool::new(&SpoolConfig::for_targets(1), &source);
    let cancel = AtomicBool::new(false);
    let target = spool.join(true).unwrap();
    let _hasher = spool.join(false).unwrap();
    for (i, bytes) in image.chunks(CHUNK_BYTES).enumerate() {
        let mut buf = spool.buffer();
        buf[..bytes.len()].copy_from_slice(bytes);
        let chunk = Chunk::new((i * CHUNK_BYTES) as u64, bytes.len(), buf, None);
        if i == READ_AHEAD_CHUNKS {
            assert!(spool.wanted());
            // Far ahead of the target: the push waits until it leaves.
            std::thread::scope(|s| {
                let pushed = s.spawn(|| spool.push(chunk, &cancel));
                std::thread::sleep(Duration::from_millis(300));
                assert!(!pushed.is_finished(), "the reader waits for its target");
                drop(target);
                assert!(pushed.join().unwrap().is_ok());
            });
            assert!(!spool.wanted());
            return;
        }
        spool.push(chunk, &cancel).unwrap();
    }
    unreachable!("the image is longer than the read-ahead");
}

/// Without a cache directory, a compressed image's reader waits for the
/// slowest target: memory stays within the budget.
#[test]
fn without_a_cache_the_reader_waits_for_the_slowest() {
    let dir = tempfile::tempdir().unwrap();
    let (source, image) = gz_image(dir.path(), 8);
    let spool = spool_of(&source, 2 * CHUNK_BYTES, None);
    let cancel = AtomicBool::new(false);
    let (mut fast, mut slow) = two_targets(&spool);
    std::thread::scope(|s| {
        s.spawn(|| read_all(&mut fast, &cancel));
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            read_all(&mut slow, &cancel)
        });
        push_all(&spool, &image, &cancel);
    });
    let stats = spool.stats();
    assert_eq!(stats.chunks_spilled, 0);
    assert!(stats.peak_memory_bytes <= 2 * CHUNK_BYTES, "{stats:?}");
}

/// A raw image needs no cache file: what left memory is read again from
/// the image itself.
#[test]
fn a_raw_image_is_read_again_from_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let image: Vec<u8> = (0..6 * CHUNK_BYTES).map(|i| (i / 4096) as u8 | 1).collect();
    let path = dir.path().join("image.img");
    std::fs::write(&path, &image).unwrap();
    let source = ImageSource::open(&path).unwrap();
    let cache = dir.path().join("cache");
    let spool = spool_of(&source, CHUNK_BYTES, Some(cache.clone()));
    assert!(!spool.may_need_cache(None));
    let cancel = AtomicBool::new(false);
    let (mut fast, mut slow) = two_targets(&spool);
    std::thread::scope(|s| {
        let fast = s.spawn(|| read_all(&mut fast, &cancel));
        push_all(&spool, &image, &cancel);
        assert!(fast.join().unwrap() == image);
    });
    assert!(read_all(&mut slow, &cancel) == image);
    let stats = spool.stats();
    assert_eq!(stats.chunks_spilled, 0);
    assert!(stats.chunks_reloaded >= 4, "{stats:?}");
    assert!(!cache.exists(), "no cache directory was needed");
}

/// A raw image written into while a laggard still has to read it
/// again: the laggard fails on the image's account (changed on disk),
/// not with another image's bytes that its verification would blame
/// on the drive.
#[test]
fn a_raw_image_changed_on_disk_fails_the_laggard_naming_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let image: Vec<u8> = (0..6 * CHUNK_BYTES).map(|i| (i / 4096) as u8 | 1).collect();
    let path = dir.path().join("image.img");
    std::fs::write(&path, &image).unwrap();
    let source = ImageSource::open(&path).unwrap();
    let spool = spool_of(&source, CHUNK_BYTES, None);
    let cancel = AtomicBool::new(false);
    let (mut fast, mut slow) = two_targets(&spool);
    std::thread::scope(|s| {
        let fast = s.spawn(|| read_all(&mut fast, &cancel));
        push_all(&spool, &image, &cancel);
        assert!(fast.join().unwrap() == image);
    });
    // Another build copied over it: the same length, other bytes.
    let other: Vec<u8> = image.iter().map(|b| b ^ 0xff).collect();
    std::fs::write(&path, &other).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    let failure = loop {
        match slow.next(&cancel) {
            Message::Chunk(chunk) => assert!(
                chunk.bytes() == &image[chunk.offset as usize..][..chunk.len],
                "another image's bytes at {}",
                chunk.offset
            ),
            Message::End { .. } => panic!("the changed image was read to its end"),
            Message::Failed(failure) => break failure,
        }
    };
    assert_eq!(failure.kind, FailureKind::Source);
    assert!(
        failure.message.contains(crate::source::IMAGE_CHANGED),
        "{}",
        failure.message
    );
}

/// Retaining every chunk, a consumer that joins after the image was
/// decoded still reads it from its first byte.
#[test]
fn a_late_consumer_of_a_retaining_spool_reads_the_whole_image() {
    let dir = tempfile::tempdir().unwrap();
    let (source, image) = gz_image(dir.path(), 7);
    let config = SpoolConfig {
        memory_bytes: 2 * CHUNK_BYTES,
        cache_dir: Some(dir.path().join("cache")),
        retain_all: true,
    };
    let spool = Spool::new(&config, &source);
    let cancel = AtomicBool::new(false);
    push_all(&spool, &image, &cancel);
    for _ in 0..2 {
        let mut late = spool.join(true).unwrap();
        assert!(read_all(&mut late, &cancel) == image);
    }
    assert!(spool.stats().peak_memory_bytes <= 2 * CHUNK_BYTES);
}

/// A consumer waiting for a reader that never comes gives up on cancel.
#[test]
fn a_waiting_consumer_gives_up_on_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = gz_image(dir.path(), 1);
    let spool = Spool::new(&SpoolConfig::for_targets(1), &source);
    let mut cursor = spool.join(true).unwrap();
    let cancel = AtomicBool::new(true);
    let started = std::time::Instant::now();
    assert!(matches!(
        cursor.next(&cancel),
        Message::Failed(TargetFailure {
            kind: FailureKind::Cancelled,
            ..
        })
    ));
    assert!(started.elapsed() < Duration::from_secs(1));
}

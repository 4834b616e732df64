//! The partition table last (docs/architecture.md §11 "The first MiB
//! last") against [`super::MockDisk`]: what is written when, and that a
//! failed or cancelled drive ends with a zero first MiB.

use super::*;
use crate::engine::FlashEvent;
use crate::engine::table_last::LEFT_BLANK;
use crate::target::probe::ProbeMode;

const MIB: usize = 1 << 20;

/// A raw image of `len` pseudo-random bytes, `gpt_backup_lba` naming a GPT
/// backup header (512-byte sectors) in its primary header when given.
fn image_job(dir: &Path, len: usize, gpt_backup_lba: Option<u64>) -> (FlashJob, Vec<u8>) {
    let mut image = crate::test_random::low_bytes(len, 7);
    image[..8].copy_from_slice(b"IMPRINT!");
    if let Some(lba) = gpt_backup_lba {
        image[512..520].copy_from_slice(b"EFI PART");
        image[544..552].copy_from_slice(&lba.to_le_bytes());
    }
    let path = dir.join("image.img");
    std::fs::write(&path, &image).unwrap();
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
    (job, image)
}

fn run(job: &FlashJob, mock: &MockDisk, cancel: &AtomicBool) -> FlashReport {
    let scratch = tempfile::tempdir().unwrap();
    let (events, _received) = crossbeam_channel::unbounded();
    crate::engine::write_targets(
        job,
        vec![mock.info(scratch.path())],
        &events,
        cancel,
        mock,
        &SpoolConfig::for_targets(1),
    )
}

#[test]
fn a_gpts_backup_header_is_written_with_the_first_mib_after_all_else() {
    let dir = tempfile::tempdir().unwrap();
    let len = 3 * CHUNK_BYTES;
    let (job, image) = image_job(dir.path(), len, Some((len / 512 - 1) as u64));
    let mock = MockDisk::new(len + 2 * MIB, 512);
    let report = run(&job, &mock, &AtomicBool::new(false));
    assert_eq!(report.targets[0].result, Ok(()));
    let disk = mock.state();
    assert!(disk.violations.is_empty(), "{:?}", disk.violations);
    assert!(disk.bytes[..len] == image[..], "the target holds the image");
    let header = (len - 4096) as u64;
    let n = disk.writes.len();
    assert_eq!(disk.writes[n - 2..], [(0, MIB), (header, 4096)]);
    assert_eq!(
        disk.reads[disk.reads.len() - 2..],
        [(0, MIB), (header, 4096)]
    );
    // Nothing of either was written before.
    let early = &disk.writes[2..n - 2];
    assert!(
        early
            .iter()
            .all(|&(at, l)| at >= MIB as u64 && at + l as u64 <= header)
    );
}

#[test]
fn a_cancelled_run_leaves_the_first_mib_zero_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (job, _) = image_job(dir.path(), 3 * CHUNK_BYTES, None);
    let mock = MockDisk::new(4 * CHUNK_BYTES, 4096);
    // Cancelled once the first chunk's bytes were written.
    let cancel = AtomicBool::new(false);
    let report = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            while mock.state().writes.len() < 3 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        let report = run(&job, &mock, &cancel);
        watcher.join().unwrap();
        report
    });
    let failure = report.targets[0].result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Cancelled);
    assert!(failure.message.contains(LEFT_BLANK), "{failure}");
    let disk = mock.state();
    assert!(disk.bytes[..MIB].iter().all(|&b| b == 0));
    assert!(disk.writes[2..].iter().all(|&(at, _)| at >= MIB as u64));
}

#[test]
fn a_first_mib_that_reads_back_wrong_is_zeroed_again() {
    let dir = tempfile::tempdir().unwrap();
    let (job, _) = image_job(dir.path(), 2 * CHUNK_BYTES, None);
    let mock = MockDisk::new(3 * CHUNK_BYTES, 512);
    mock.state().flip_on_read = Some(1000);
    let report = run(&job, &mock, &AtomicBool::new(false));
    let failure = report.targets[0].result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Verify);
    assert_eq!(failure.offset, Some(0));
    assert!(failure.message.contains(LEFT_BLANK), "{failure}");
    let disk = mock.state();
    assert!(disk.bytes[..MIB].iter().all(|&b| b == 0));
    assert_eq!(disk.writes.last(), Some(&(0, MIB)));
}

#[test]
fn a_file_target_is_written_in_order_without_clearing() {
    let dir = tempfile::tempdir().unwrap();
    let (job, image) = image_job(dir.path(), 2 * CHUNK_BYTES, None);
    let mock = MockDisk::new(2 * CHUNK_BYTES, 512);
    let scratch = tempfile::tempdir().unwrap();
    let mut info = mock.info(scratch.path());
    info.kind = TargetKind::File;
    let (events, _received) = crossbeam_channel::unbounded();
    let report = crate::engine::write_targets(
        &job,
        vec![info],
        &events,
        &AtomicBool::new(false),
        &mock,
        &SpoolConfig::for_targets(1),
    );
    assert_eq!(report.targets[0].result, Ok(()));
    let disk = mock.state();
    // In order from byte 0, each write where the last ended (the first
    // chunk's ranges are cut at 1 MiB for the block devices' sake).
    assert_eq!(disk.writes[0].0, 0);
    assert!(
        disk.writes
            .windows(2)
            .all(|w| w[0].0 + w[0].1 as u64 == w[1].0)
    );
    let written: usize = disk.writes.iter().map(|w| w.1).sum();
    assert_eq!(written, image.len());
    assert!(disk.bytes == image);
}

fn probed_run(mock: &MockDisk, job: &mut FlashJob) -> (FlashReport, Vec<FlashEvent>) {
    job.probe = ProbeMode::Quick;
    let scratch = tempfile::tempdir().unwrap();
    let (events, received) = crossbeam_channel::unbounded();
    let report = crate::engine::write_targets(
        job,
        vec![mock.info(scratch.path())],
        &events,
        &AtomicBool::new(false),
        mock,
        &SpoolConfig::for_targets(1),
    );
    (report, received.try_iter().collect())
}

#[test]
fn a_probed_genuine_disk_is_flashed_and_its_probed_blocks_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut job, image) = image_job(dir.path(), 2 * CHUNK_BYTES, None);
    let mock = MockDisk::new(8 * CHUNK_BYTES, 512);
    let before = mock.state().bytes.clone();
    let (report, events) = probed_run(&mock, &mut job);
    assert_eq!(report.targets[0].result, Ok(()));
    assert!(events.contains(&FlashEvent::Probed {
        target: 0,
        verdict: crate::target::probe::Verdict::NoEvidence,
    }));
    let disk = mock.state();
    assert!(disk.violations.is_empty(), "{:?}", disk.violations);
    assert!(disk.bytes[..image.len()] == image[..]);
    // Past the image: the old bytes, the probe's blocks put back; the last
    // MiB cleared.
    let last_mib = disk.bytes.len() - MIB;
    assert!(disk.bytes[image.len()..last_mib] == before[image.len()..last_mib]);
}

#[test]
fn a_disk_the_probe_cannot_write_fails_left_blank() {
    let dir = tempfile::tempdir().unwrap();
    let (mut job, _) = image_job(dir.path(), 2 * CHUNK_BYTES, None);
    let mock = MockDisk::new(8 * CHUNK_BYTES, 512);
    // The probe's block at 1 MiB + 1 MiB.
    mock.state().fail_write_at = Some(2 * MIB as u64 + 100);
    let (report, _) = probed_run(&mock, &mut job);
    let failure = report.targets[0].result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Write, "{failure}");
    assert!(failure.message.contains(LEFT_BLANK), "{failure}");
    assert!(mock.state().bytes[..MIB].iter().all(|&b| b == 0));
}

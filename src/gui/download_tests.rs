//! Tests of the download's bookkeeping (`download`).

use super::*;

#[test]
fn a_download_has_a_rate_and_counts_retries() {
    let mut download = DownloadProgress::default();
    let t0 = Instant::now();
    assert!(download.status(t0).is_none());
    download.received(0, Some(1000), t0);
    download.received(500, Some(1000), t0 + Duration::from_secs(1));
    download.retried(500, "no data for 30 s".into(), t0 + Duration::from_secs(1));
    let status = download.status(t0 + Duration::from_secs(1)).unwrap();
    assert_eq!((status.bytes, status.total), (500, Some(1000)));
    assert!((status.rate.unwrap() - 500.0).abs() < 1.0);
    assert_eq!(download.retries, 1);
}

#[test]
fn a_stall_is_waiting_without_a_rate() {
    let mut download = DownloadProgress::default();
    let t0 = Instant::now();
    download.received(0, Some(1000), t0);
    download.received(500, Some(1000), t0 + Duration::from_secs(1));
    let later = t0 + Duration::from_secs(13);
    let status = download.status(later).unwrap();
    assert_eq!(status.rate, None, "no stale rate");
    assert_eq!(status.waiting, Some(Duration::from_secs(12)));
    assert_eq!(download.seconds_left(later), None);
    // Data again: the rate is back.
    download.received(600, Some(1000), later);
    assert_eq!(download.status(later).unwrap().waiting, None);
}

#[test]
fn a_resume_notice_clears_once_the_download_goes_on() {
    let mut download = DownloadProgress::default();
    let t0 = Instant::now();
    download.received(500, Some(1000), t0);
    download.retried(500, "reset".into(), t0);
    assert!(download.resume_notice(t0).is_some());
    download.received(700, Some(1000), t0 + Duration::from_secs(2));
    assert!(
        download
            .resume_notice(t0 + Duration::from_secs(2))
            .is_some()
    );
    assert!(download.resume_notice(t0 + RESUME_NOTICE_FOR).is_none());
}

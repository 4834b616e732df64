//! Tests of how problems are worded (`message`).

use super::*;

fn failure(kind: FailureKind, offset: Option<u64>, message: &str) -> TargetFailure {
    TargetFailure {
        kind,
        offset,
        message: message.into(),
    }
}

#[test]
fn os_errors_and_byte_counts_stay_in_the_details() {
    let full = target_failure(
        &failure(
            FailureKind::Write,
            Some(4_194_304),
            "writing /tmp/x.img failed at byte 4194304: No space left on device (os error 28)",
        ),
        true,
    );
    assert_eq!(full.title, "There is not enough free space for the image.");
    for text in [&full.title, &full.advice] {
        assert!(
            !text.contains("os error") && !text.contains("4194304"),
            "{text}"
        );
    }
    assert!(full.details.as_deref().unwrap().contains("os error 28"));
}

#[test]
fn no_space_on_a_drive_is_a_drive_that_stopped_not_a_full_disk() {
    let text = "writing /dev/sdb failed at byte 4194304: No space left on device (os error 28)";
    let drive = target_failure(&failure(FailureKind::Write, Some(4_194_304), text), false);
    assert_eq!(
        drive.title,
        "The drive stopped taking data at 4.2 MB — it may be fake or failing."
    );
    assert!(!drive.summary().contains("free some space"), "{drive:?}");
    assert!(drive.advice.contains("another drive"));
    let file = target_failure(&failure(FailureKind::Write, Some(4_194_304), text), true);
    assert!(file.advice.contains("Free some space"), "{file:?}");
}

#[test]
fn a_damaged_image_is_one_sentence_with_a_human_offset() {
    let problem = source_fault(
        &failure(FailureKind::Source, Some(3_145_728), "liblzma: corrupt"),
        true,
    );
    assert_eq!(problem.title, "The image is damaged 3.1 MB into its data.");
    assert!(problem.advice.contains("partly written"));
}

#[test]
fn a_failed_download_reads_as_a_download_failure_not_a_damaged_image() {
    let text = format!(
        "downloading the image https://example.com/os.img stopped at byte 1048576 of its \
         decompressed data: the server's answer to a range request does not name the \
         file's version (no ETag); {} 1.0 MB; try again",
        crate::source::DOWNLOAD_FAILED_AT
    );
    // By its kind, and by its words when only those came (the helper).
    for kind in [FailureKind::Download, FailureKind::Source] {
        let failed = failure(kind, Some(1 << 20), &text);
        for problem in [target_failure(&failed, false), source_fault(&failed, true)] {
            assert_eq!(problem.title, "The download failed.", "{kind:?}");
            let said = problem.summary();
            assert!(!said.contains("damaged"), "{kind:?}: {said}");
            assert!(!said.contains("corrupt"), "{kind:?}: {said}");
            assert!(said.contains("again"), "{kind:?}: advice missing: {said}");
        }
        assert!(source_stop_line(&failed).contains("download failed"));
    }
    assert!(FailureKind::Download.is_source_fault());
}

#[test]
fn an_image_changed_on_disk_is_blamed_once_on_the_image() {
    let failed = failure(
        FailureKind::Source,
        Some(8 << 20),
        &format!(
            "reading byte 8388608 of the image again failed: the image file /srv/os.img {}",
            crate::source::IMAGE_CHANGED
        ),
    );
    let problem = source_fault(&failed, true);
    assert_eq!(
        problem.title,
        "The image file was changed while it was being flashed."
    );
    assert!(!problem.summary().contains("damaged"));
    assert!(source_stop_line(&failed).contains("changed"));
}

#[test]
fn command_line_wording_is_translated() {
    let problem = refused(&["--wifi-ssid needs --config FILE: balenaOS reads …".into()]);
    assert!(!problem.advice.contains("--"), "{}", problem.advice);
    assert!(problem.advice.contains("config.json"));
    let problem = refused(&["imprint: cannot open /dev/sdb: busy (os error 16)".into()]);
    assert!(problem.advice.contains("busy"), "{}", problem.advice);
    assert!(!problem.advice.contains("os error"));
}

#[test]
fn image_faults_found_while_configuring_belong_to_the_image() {
    let corrupt = BootConfigError::InImage {
        image: "os.img.xz".into(),
        cause: Box::new(BootConfigError::Disk(DiskError::ReadImage {
            offset: 0,
            cause: std::io::Error::other("liblzma internal error"),
        })),
    };
    let (problem, image_fault) = config_error(&corrupt);
    assert!(image_fault);
    assert_eq!(problem.title, "The image is damaged.");
    assert!(!problem.title.contains("liblzma"));
    // The boot partition of an image at a URL is read from the download.
    let cut = BootConfigError::InImage {
        image: "https://example.com/os.img.xz".into(),
        cause: Box::new(BootConfigError::Disk(DiskError::ReadImage {
            offset: 4096,
            cause: std::io::Error::other(format!(
                "the server does not support resuming; {} 4.1 kB (the connection closed \
                 early); try again",
                crate::source::DOWNLOAD_FAILED_AT
            )),
        })),
    };
    let (problem, _) = config_error(&cut);
    assert_eq!(problem.title, "The download failed.");
    assert!(
        !problem.summary().contains("damaged"),
        "{}",
        problem.summary()
    );
    let (problem, image_fault) = config_error(&BootConfigError::WifiWithoutConfig);
    assert!(!image_fault);
    assert_eq!(problem.title, "WiFi settings need a config.json.");
}

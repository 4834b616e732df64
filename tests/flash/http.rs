//! Images at http:// URLs, from a test server on 127.0.0.1: every format
//! to two loop devices; a connection dropped or stalled mid-download and
//! resumed; a server that cannot resume, or a file that changed, failing
//! every target (never spliced); errors before the first byte refused with
//! nothing written; `--config` with one download; `--sha256`.

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, compress, drive_size_for, events, json_events,
    stderr, stdout, target_done,
};
use crate::support::http_server::{HttpServer, Knobs};
use crate::support::loopdev::LoopLock;
use crate::support::{TEST_IMG_SHA256, balena_image, fixture, imprint, pseudo_random_bytes};

/// `imprint flash URL -t TARGET… --yes --json --full EXTRA…` with `env`.
fn flash_url(url: &str, targets: &[&Path], extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = imprint();
    cmd.arg("flash").arg(url);
    for target in targets {
        cmd.arg("-t").arg(target);
    }
    cmd.args(["--yes", "--json", "--full"]).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// 3 MiB of incompressible bytes and their xz file, so that a cut in the
/// middle of the download is a cut in the middle of the decoding.
fn large_xz(dir: &Path) -> (ExpectedImage, Vec<u8>) {
    let raw = pseudo_random_bytes(3 << 20, 0x4E7);
    let path = dir.join("large.img");
    fs::write(&path, &raw).unwrap();
    let xz = fs::read(compress("xz", &path, ".xz")).unwrap();
    (ExpectedImage::from_bytes(raw), xz)
}

#[test]
fn every_format_over_http_to_two_loop_devices() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let expected = ExpectedImage::test_img();
    let raw = dir.path().join("test.img");
    fs::write(
        &raw,
        crate::support::flashing::tool_output("xz", &["-dc"], &fixture("test.img.xz")),
    )
    .unwrap();
    // (file, knobs, path, size announced before the run)
    let chunked_no_ranges = |body| Knobs {
        content_length: false,
        ranges: false,
        ..Knobs::serving(body)
    };
    let no_ranges = |body| Knobs {
        ranges: false,
        ..Knobs::serving(body)
    };
    let cases: Vec<(&str, Knobs, &str, Option<u64>)> = vec![
        (
            "raw",
            chunked_no_ranges(fs::read(&raw).unwrap()),
            "image",
            None,
        ),
        (
            "xz",
            Knobs::serving(fs::read(fixture("test.img.xz")).unwrap()),
            "image",
            Some(5 << 20),
        ),
        (
            "gz",
            Knobs::serving(fs::read(fixture("test.img.gz")).unwrap()),
            "redirect",
            None,
        ),
        (
            "zst",
            no_ranges(fs::read(fixture("test.img.zst")).unwrap()),
            "image",
            None,
        ),
        (
            "zip",
            Knobs::serving(fs::read(fixture("zip-deflate.zip")).unwrap()),
            "image",
            Some(5 << 20),
        ),
        (
            "zip streamed",
            no_ranges(fs::read(fixture("zip-directory-image-and-misc.zip")).unwrap()),
            "image",
            Some(5 << 20),
        ),
    ];
    let size = drive_size_for(expected.len);
    for (i, (name, knobs, path, size_hint)) in cases.into_iter().enumerate() {
        let server = HttpServer::start(knobs);
        let drives: Vec<_> = (0..2)
            .map(|d| PatternedDrive::create(dir.path(), &format!("{i}-{d}.bin"), size, 90 + d))
            .collect();
        let devices: Vec<&Path> = drives.iter().map(PatternedDrive::device).collect();
        let out = flash_url(&server.url(path), &devices, &[], &[]);
        assert_exit(&out, 0);
        let all = json_events(&out);
        assert_eq!(
            events(&all, "start")[0]["size"],
            serde_json::json!(size_hint),
            "{name}"
        );
        assert!(
            !events(&all, "download").is_empty(),
            "{name}: no download event"
        );
        for drive in &drives {
            assert_eq!(target_done(&all, drive.device())["ok"], true, "{name}");
            drive.assert_holds(&expected);
        }
        assert_eq!(server.seen().whole, 1, "{name}: one download");
        assert!(
            server
                .seen()
                .user_agents
                .iter()
                .all(|a| a.starts_with("imprint/")),
            "{name}: {:?}",
            server.seen().user_agents
        );
        // `verify` and `hash` take the URL too.
        let mut verify = imprint();
        verify.arg("verify").arg(server.url(path));
        for device in &devices {
            verify.arg("-t").arg(device);
        }
        assert_exit(&verify.output().unwrap(), 0);
        let hashed = imprint()
            .arg("hash")
            .arg(server.url(path))
            .output()
            .unwrap();
        assert_exit(&hashed, 0);
        assert!(stdout(&hashed).starts_with(TEST_IMG_SHA256), "{name}");
    }
}

#[test]
fn a_download_dropped_twice_is_resumed_not_spliced() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, xz) = large_xz(dir.path());
    let server = HttpServer::start(Knobs {
        drop_at: Some((1 << 20, 2)),
        ..Knobs::serving(xz)
    });
    let target = dir.path().join("out.img");
    let out = flash_url(&server.url("image"), &[&target], &[], &[]);
    assert_exit(&out, 0);
    let all = json_events(&out);
    let retries = events(&all, "retry");
    assert_eq!(retries.len(), 2, "{all:#?}");
    assert_eq!(retries[0]["at"], 1 << 20);
    assert_eq!(retries[0]["attempt"], 1);
    assert_eq!(retries[1]["attempt"], 2);
    expected.assert_is(&fs::read(&target).unwrap(), "resumed download");
    assert_eq!(target_done(&all, &target)["ok"], true);
    assert_eq!(server.seen().whole, 1);
    assert!(
        server.seen().ranges.contains(&(1 << 20)),
        "{:?}",
        server.seen()
    );
}

#[test]
fn a_dropped_download_without_ranges_fails_every_target() {
    let dir = tempfile::tempdir().unwrap();
    let (_, xz) = large_xz(dir.path());
    let server = HttpServer::start(Knobs {
        ranges: false,
        drop_at: Some((1 << 20, 1)),
        ..Knobs::serving(xz)
    });
    let targets = [dir.path().join("a.img"), dir.path().join("b.img")];
    let target_refs: Vec<&Path> = targets.iter().map(|t| t.as_path()).collect();
    let out = flash_url(&server.url("image"), &target_refs, &[], &[]);
    assert_exit(&out, 1);
    let all = json_events(&out);
    for target in &targets {
        let done = target_done(&all, target);
        assert_eq!(done["ok"], false);
        let error = done["error"].as_str().unwrap();
        assert!(error.contains("does not support resuming"), "{error}");
        assert!(error.contains("try again"), "{error}");
    }
    assert!(events(&all, "retry").is_empty());
}

#[test]
fn a_file_that_changed_between_tries_fails_every_target() {
    let dir = tempfile::tempdir().unwrap();
    let (_, xz) = large_xz(dir.path());
    let server = HttpServer::start(Knobs {
        drop_at: Some((1 << 20, 1)),
        etag_after_first: Some("\"v2\"".into()),
        ..Knobs::serving(xz)
    });
    let target = dir.path().join("out.img");
    let out = flash_url(&server.url("image"), &[&target], &[], &[]);
    assert_exit(&out, 1);
    let all = json_events(&out);
    let done = target_done(&all, &target);
    assert_eq!(done["ok"], false);
    assert!(
        done["error"].as_str().unwrap().contains("changed"),
        "{done}"
    );
}

#[test]
fn a_stalled_download_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, xz) = large_xz(dir.path());
    let server = HttpServer::start(Knobs {
        content_length: false,
        stall_at: Some((1 << 20, Duration::from_secs(4))),
        ..Knobs::serving(xz)
    });
    let target = dir.path().join("out.img");
    let out = flash_url(
        &server.url("image"),
        &[&target],
        &[],
        &[("IMPRINT_HTTP_STALL_SECS", "1")],
    );
    assert_exit(&out, 0);
    let all = json_events(&out);
    let retries = events(&all, "retry");
    assert_eq!(retries.len(), 1, "{all:#?}");
    assert!(
        retries[0]["reason"].as_str().unwrap().contains("1 s"),
        "{}",
        retries[0]
    );
    expected.assert_is(&fs::read(&target).unwrap(), "after a stall");
}

#[test]
fn errors_before_the_first_byte_leave_the_drives_untouched() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drive = PatternedDrive::create(dir.path(), "d.bin", 2 << 20, 77);
    let page = b"<!DOCTYPE html>\n<html><body>Download page</body></html>".to_vec();
    let cases = [
        (
            Knobs {
                status: Some(404),
                ..Knobs::serving(Vec::new())
            },
            "404",
        ),
        (
            Knobs {
                status: Some(500),
                ..Knobs::serving(Vec::new())
            },
            "500",
        ),
        (
            Knobs {
                content_type: "text/html",
                ..Knobs::serving(page)
            },
            "not a disk image",
        ),
    ];
    for (knobs, says) in cases {
        let server = HttpServer::start(knobs);
        let out = flash_url(&server.url("image"), &[drive.device()], &[], &[]);
        assert_exit(&out, 2);
        let all = json_events(&out);
        let error = events(&all, "error");
        assert_eq!(error.len(), 1, "{all:#?}");
        assert!(
            error[0]["error"].as_str().unwrap().contains(says),
            "{}",
            error[0]
        );
        assert!(events(&all, "target_done").is_empty());
        drive.assert_unchanged();
    }
    // No server at all.
    let out = flash_url("http://127.0.0.1:9/image.img", &[drive.device()], &[], &[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).is_empty() || !stderr(&out).contains("panicked"));
    drive.assert_unchanged();
}

#[test]
fn config_over_http_is_one_download() {
    let dir = tempfile::tempdir().unwrap();
    let image = balena_image::mbr_fat16_resin_boot(dir.path());
    let config = dir.path().join("config.json");
    fs::write(
        &config,
        r#"{"applicationId":1234,"deviceType":"raspberrypi4-64","uuid":"abc"}"#,
    )
    .unwrap();
    let from_file = dir.path().join("from-file.img");
    let out = imprint()
        .arg("configure")
        .arg(&image.path)
        .arg("--config")
        .arg(&config)
        .arg("-o")
        .arg(&from_file)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let xz = fs::read(compress("xz", &image.path, ".xz")).unwrap();
    let server = HttpServer::start(Knobs {
        ranges: false,
        ..Knobs::serving(xz)
    });
    let from_url = dir.path().join("from-url.img");
    let out = flash_url(
        &server.url("image"),
        &[&from_url],
        &["--config", config.to_str().unwrap()],
        &[],
    );
    assert_exit(&out, 0);
    assert_eq!(
        fs::read(&from_url).unwrap(),
        fs::read(&from_file).unwrap(),
        "the configured image from a URL differs from the one from the file"
    );
    assert_eq!(server.seen().whole, 1, "{:?}", server.seen());
    assert!(server.seen().ranges.is_empty());

    // `configure -o` takes the URL too.
    let configured = dir.path().join("configured.img");
    let out = imprint()
        .arg("configure")
        .arg(server.url("image"))
        .arg("--config")
        .arg(&config)
        .arg("-o")
        .arg(&configured)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        fs::read(&configured).unwrap(),
        fs::read(&from_file).unwrap()
    );
}

#[test]
fn a_wrong_sha256_over_http_fails() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start(Knobs::serving(fs::read(fixture("test.img.gz")).unwrap()));
    let target = dir.path().join("out.img");
    let wrong = "0".repeat(64);
    let out = flash_url(&server.url("image"), &[&target], &["--sha256", &wrong], &[]);
    assert_exit(&out, 1);
    let all = json_events(&out);
    assert_eq!(target_done(&all, &target)["kind"], "checksum");
    let out = flash_url(
        &server.url("image"),
        &[&target],
        &["--sha256", TEST_IMG_SHA256],
        &[],
    );
    assert_exit(&out, 0);
}

#[test]
fn a_chunked_raw_download_cut_short_is_never_a_short_image() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start(Knobs {
        content_length: false,
        ranges: false,
        drop_at: Some((1 << 20, 1)),
        ..Knobs::serving(pseudo_random_bytes(3 << 20, 9))
    });
    let target = dir.path().join("out.img");
    let out = flash_url(&server.url("image"), &[&target], &[], &[]);
    assert_exit(&out, 1);
    let all = json_events(&out);
    assert_eq!(target_done(&all, &target)["ok"], false);
}

#[test]
fn closing_a_url_source_ends_its_download() {
    let server = HttpServer::start(Knobs::serving(pseudo_random_bytes(32 << 20, 5)));
    let url = server.url("image");
    let source = imprint::source::ImageSource::open(Path::new(&url)).unwrap();
    assert!(source.download().is_some());
    source.close();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.seen().aborted == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the download went on after close: {:?}",
            server.seen()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! Downloads that must never be spliced, and lengths that must be known.
//!
//! Each server here gets resuming wrong in a way real ones do — it names
//! the file only by a Last-Modified date, forgets the ETag in its 206,
//! ignores `If-Range`, or states another total in `Content-Range` — and
//! serves another file's bytes after the cut. The old client joined both
//! halves and verified the drive against them; now every target fails with
//! a download failure (exit 1). A body without any length is measured with
//! `Range: bytes=0-0`, so a cut is a cut, not the end of the image; in
//! every format a cut that cannot be resumed is a failed download (kind
//! `download`), never a corrupt image. And an `https://` link to a server
//! that does not speak TLS, or shows a self-signed certificate, is a
//! sentence with advice, not a library's debug text.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use crate::support::flashing::{assert_exit, events, json_events, stderr, target_done};
use crate::support::http_server::{HttpServer, Knobs};
use crate::support::{imprint, pseudo_random_bytes};

const LEN: usize = 3 << 20;
const CUT: u64 = 1 << 20;

/// The image the first answer serves, and the other file the server holds
/// after it (the same length: only the bytes tell them apart).
fn two_files() -> (Vec<u8>, Vec<u8>) {
    (
        pseudo_random_bytes(LEN, 0x5911),
        pseudo_random_bytes(LEN, 0x5922),
    )
}

fn flash_url(url: &str, targets: &[&Path]) -> std::process::Output {
    let mut cmd = imprint();
    cmd.arg("flash").arg(url);
    for target in targets {
        cmd.arg("-t").arg(target);
    }
    cmd.args(["--yes", "--json", "--full"]).output().unwrap()
}

/// Cuts the first answer at 1 MiB: every target must fail with a download
/// failure that `says` why; none is reported ok, nothing is spliced.
fn assert_never_spliced(knobs: Knobs, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start(Knobs {
        drop_at: Some((CUT, 1)),
        ..knobs
    });
    let targets = [dir.path().join("a.img"), dir.path().join("b.img")];
    let refs: Vec<&Path> = targets.iter().map(|t| t.as_path()).collect();
    let out = flash_url(&server.url("image"), &refs);
    assert_exit(&out, 1);
    let all = json_events(&out);
    for target in &targets {
        let done = target_done(&all, target);
        assert_eq!(done["ok"], false, "{done}");
        assert_eq!(done["kind"], "download", "{done}");
        let error = done["error"].as_str().unwrap();
        assert!(
            error.contains(imprint::source::DOWNLOAD_FAILED_AT),
            "not a download failure: {error}"
        );
        assert!(error.contains(says), "{error}");
        assert!(!error.contains("corrupt"), "{error}");
    }
    assert_eq!(all.last().unwrap()["ok"], 0, "{:#}", all.last().unwrap());
}

#[test]
fn a_server_naming_the_file_only_by_last_modified_is_never_resumed() {
    let (first, second) = two_files();
    let date = "Mon, 07 Dec 2026 10:00:00 GMT";
    // The file was replaced within the same second: the date is the same.
    assert_never_spliced(
        Knobs {
            etag: None,
            last_modified: Some(date.into()),
            body_after_first: Some(second),
            ..Knobs::serving(first)
        },
        "does not identify the file strongly enough",
    );
}

#[test]
fn a_206_without_the_etag_is_never_joined() {
    let (first, second) = two_files();
    assert_never_spliced(
        Knobs {
            etag_on_ranges: false,
            body_after_first: Some(second),
            ..Knobs::serving(first)
        },
        "no ETag",
    );
}

#[test]
fn a_server_ignoring_if_range_is_never_joined() {
    let (first, second) = two_files();
    assert_never_spliced(
        Knobs {
            etag: None,
            last_modified: Some("Mon, 07 Dec 2026 10:00:00 GMT".into()),
            last_modified_after_first: Some("Mon, 07 Dec 2026 10:05:00 GMT".into()),
            ignore_if_range: true,
            body_after_first: Some(second),
            ..Knobs::serving(first)
        },
        "does not identify the file strongly enough",
    );
}

#[test]
fn a_range_of_a_file_with_another_length_is_never_joined() {
    let (first, _) = two_files();
    assert_never_spliced(
        Knobs {
            range_total: Some(LEN as u64 + 4096),
            ..Knobs::serving(first)
        },
        "bytes long, now",
    );
}

/// No Content-Length and no chunks: the body ends when the connection
/// does. The length comes from `Range: bytes=0-0`; a cut is resumed (a
/// strong ETag) or fails the download (none), never taken for the end.
#[test]
fn a_body_without_a_length_is_measured_and_a_cut_is_never_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (image, _) = two_files();
    let no_length = |image: Vec<u8>| Knobs {
        content_length: false,
        close_delimited: true,
        ..Knobs::serving(image)
    };

    let server = HttpServer::start(no_length(image.clone()));
    let target = dir.path().join("whole.img");
    let out = flash_url(&server.url("image"), &[&target]);
    assert_exit(&out, 0);
    let all = json_events(&out);
    let downloads = events(&all, "download");
    assert!(!downloads.is_empty(), "{all:#?}");
    assert!(
        downloads.iter().all(|d| d["total"] == LEN as u64),
        "the length was not learned: {downloads:#?}"
    );
    assert_eq!(events(&all, "start")[0]["size"], LEN as u64);
    assert!(server.seen().ranges.contains(&0), "{:?}", server.seen());
    assert!(fs::read(&target).unwrap() == image, "the whole image");

    // Cut at 1 MiB, with a strong ETag: resumed, and whole.
    let server = HttpServer::start(Knobs {
        drop_at: Some((CUT, 1)),
        ..no_length(image.clone())
    });
    let target = dir.path().join("resumed.img");
    let out = flash_url(&server.url("image"), &[&target]);
    assert_exit(&out, 0);
    assert_eq!(events(&json_events(&out), "retry").len(), 1);
    assert!(fs::read(&target).unwrap() == image, "the resumed image");

    // Cut at 1 MiB, with nothing to resume by: the download failed.
    let server = HttpServer::start(Knobs {
        etag: None,
        drop_at: Some((CUT, 1)),
        ..no_length(image)
    });
    let target = dir.path().join("cut.img");
    let out = flash_url(&server.url("image"), &[&target]);
    assert_exit(&out, 1);
    let all = json_events(&out);
    let done = target_done(&all, &target);
    assert_eq!(done["ok"], false, "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(
        error.contains(imprint::source::DOWNLOAD_FAILED_AT),
        "{error}"
    );
}

/// A plain-HTTP server reached with `https://`: the handshake fails, and
/// the user reads why in words, with advice — no library's debug text.
#[test]
fn a_tls_failure_is_a_sentence_with_advice() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::Builder::new()
        .name("test/http-400".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut hello = [0u8; 512];
                let _ = conn.read(&mut hello);
                let _ = conn.write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.img");
    let url = format!("https://127.0.0.1:{port}/image");
    let out = imprint()
        .args(["flash", &url, "--yes", "-t"])
        .arg(&target)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(text.contains("secure (https) connection"), "{text}");
    assert!(text.contains("check the link"), "{text}");
    for leak in [
        "rustls",
        "InvalidMessage",
        "InvalidContentType",
        "Error {",
        "::",
    ] {
        assert!(!text.contains(leak), "debug text leaked: {text}");
    }
    assert!(!target.exists() || fs::metadata(&target).unwrap().len() == 0);
}

/// Whatever the format decoding the download, a cut that cannot be resumed
/// reaches the user as a failed download (kind `download`), never as a
/// corrupt or truncated image.
#[test]
fn a_cut_download_is_a_download_failure_in_every_format() {
    use crate::support::flashing::compress;
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("os.img");
    fs::write(&raw, pseudo_random_bytes(LEN, 0x5933)).unwrap();
    let zip = dir.path().join("os.zip");
    let zipped = std::process::Command::new("zip")
        .args(["-q", "-j", "-1"])
        .arg(&zip)
        .arg(&raw)
        .status()
        .unwrap();
    assert!(zipped.success(), "zip");
    let files = [
        ("raw", raw.clone()),
        ("gz", compress("gzip", &raw, ".gz")),
        ("zst", compress("zstd", &raw, ".zst")),
        ("bz2", compress("bzip2", &raw, ".bz2")),
        ("xz", compress("xz", &raw, ".xz")),
        ("zip", zip),
    ];
    for (name, file) in files {
        let server = HttpServer::start(Knobs {
            ranges: false,
            drop_at: Some((CUT, 1)),
            ..Knobs::serving(fs::read(&file).unwrap())
        });
        let target = dir.path().join(format!("{name}.out"));
        let out = flash_url(&server.url("image"), &[&target]);
        assert_exit(&out, 1);
        let all = json_events(&out);
        let done = target_done(&all, &target);
        assert_eq!(done["kind"], "download", "{name}: {done}");
        let error = done["error"].as_str().unwrap();
        for wrong in ["corrupt", "damaged", "truncated"] {
            assert!(!error.contains(wrong), "{name}: {error}");
        }
    }
}

/// An https server with a self-signed certificate (`openssl s_server`):
/// the user reads that the certificate is not trusted and what to check.
#[test]
fn an_untrusted_certificate_is_a_sentence_with_advice() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl is needed (scripts/install-deps)");
    assert!(made.success(), "openssl req");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Server(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "s_server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let target = dir.path().join("out.img");
    let out = imprint()
        .args([
            "flash",
            &format!("https://127.0.0.1:{port}/os.img"),
            "--yes",
            "-t",
        ])
        .arg(&target)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(
        text.contains("the server's certificate is not trusted")
            && text.contains("not signed by an authority this system trusts")
            && text.contains("check the address, or the system's certificates"),
        "{text}"
    );
    for leak in ["rustls", "UnknownIssuer", "invalid peer certificate", "::"] {
        assert!(!text.contains(leak), "debug text leaked: {text}");
    }
}

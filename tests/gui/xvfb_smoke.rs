//! The real window under Xvfb: it opens with a preselected image, draws
//! something that is not blank, and exits cleanly when asked to close.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

/// An Xvfb server on a free display number; killed on Drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Option<Xvfb> {
        // A display number per process: nextest runs tests in parallel.
        let display = format!(":{}", 90 + std::process::id() % 500);
        let child = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                "1024x768x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let xvfb = Xvfb { child, display };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let ready = Command::new("xdpyinfo")
                .args(["-display", &xvfb.display])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return Some(xvfb);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The root window as a PPM image (xwd | convert), returning the standard
/// deviation of its grey levels (0 for a blank screen).
fn screenshot_variance(display: &str, out: &Path) -> f64 {
    let status = Command::new("import")
        .args(["-display", display, "-window", "root"])
        .arg(out)
        .status()
        .expect("run import (imagemagick)");
    assert!(status.success(), "screenshot failed");
    let stats = Command::new("convert")
        .arg(out)
        .args([
            "-colorspace",
            "Gray",
            "-format",
            "%[fx:standard_deviation]",
            "info:",
        ])
        .output()
        .expect("run convert");
    String::from_utf8_lossy(&stats.stdout)
        .trim()
        .parse()
        .expect("a number from convert")
}

#[test]
fn the_real_window_opens_draws_and_closes_cleanly() {
    let tools = ["Xvfb", "xdpyinfo", "import", "convert"];
    if tools.iter().any(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .map_or(true, |o| !o.status.success())
    }) {
        crate::support::skip_without("Xvfb, xdpyinfo and imagemagick (scripts/install-deps)");
        return;
    }
    let xvfb = Xvfb::start().expect("start Xvfb");
    let image = support::fixture("test.img.xz");
    let mut app = support::imprint()
        .args(["gui"])
        .arg(&image)
        .env("DISPLAY", &xvfb.display)
        .env_remove("WAYLAND_DISPLAY")
        // Mesa's software renderer: no GPU in CI.
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imprint gui");
    let shot = PathBuf::from(format!("/tmp/imprint-smoke-{}.png", std::process::id()));
    // Give the window time to map and the image card to fill in; the
    // screenshot is retried because the first frames may still be blank.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut variance = 0.0;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1000));
        assert!(app.try_wait().unwrap().is_none(), "the app exited early");
        variance = screenshot_variance(&xvfb.display, &shot);
        if variance > 0.05 {
            break;
        }
    }
    assert!(
        variance > 0.05,
        "the screenshot {} looks blank ({variance})",
        shot.display()
    );
    // Ctrl-C closes the window the normal way.
    crate::support::sys::kill(app.id(), libc::SIGINT);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = app.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the app did not close");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = app.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    assert!(status.success(), "exit status {status}; stderr: {stderr}");
    // Kept only when the test fails, to look at.
    let _ = std::fs::remove_file(&shot);
}

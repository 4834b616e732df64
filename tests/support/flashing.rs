//! Helpers for flashing tests: loop devices that start with a known
//! pseudo-random pattern (so that every byte the image must not touch can be
//! checked), the bytes an image must leave on a drive, and the output of a
//! run (exit code, JSON-lines events).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::loopdev::LoopDevice;
use super::{TEST_IMG_BYTES, TEST_IMG_SHA256, pseudo_random_bytes, sha256_hex};

/// What a drive must hold at its start after a flash.
pub struct ExpectedImage {
    pub len: usize,
    pub sha256: String,
    /// The bytes themselves when known: a mismatch then names its offset.
    bytes: Option<Vec<u8>>,
}

impl ExpectedImage {
    /// An image known by its length and SHA-256 (tests/fixtures/README.md).
    pub fn known(len: usize, sha256: &str) -> ExpectedImage {
        ExpectedImage {
            len,
            sha256: sha256.to_string(),
            bytes: None,
        }
    }

    pub fn from_bytes(bytes: Vec<u8>) -> ExpectedImage {
        ExpectedImage {
            len: bytes.len(),
            sha256: sha256_hex(&bytes),
            bytes: Some(bytes),
        }
    }

    /// The project's 5 MiB `test.img` (tests/fixtures/).
    pub fn test_img() -> ExpectedImage {
        ExpectedImage::known(TEST_IMG_BYTES, TEST_IMG_SHA256)
    }

    /// Asserts that `actual` is exactly this image.
    pub fn assert_is(&self, actual: &[u8], what: &str) {
        if let Some(bytes) = &self.bytes
            && let Some(at) = first_difference(bytes, actual)
        {
            panic!(
                "{what}: differs from the image at byte {at} (image {} bytes, {what} {} bytes)",
                bytes.len(),
                actual.len()
            );
        }
        assert_eq!(actual.len(), self.len, "{what}: length");
        assert_eq!(sha256_hex(actual), self.sha256, "{what}: SHA-256");
    }
}

/// The first offset where `a` and `b` differ (or where the shorter ends).
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a == b {
        return None;
    }
    Some(
        a.iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len())),
    )
}

/// A loop device whose backing file was filled with a pseudo-random pattern
/// before the test: anything an image must not touch keeps that pattern.
pub struct PatternedDrive {
    pub loop_device: LoopDevice,
    before: Vec<u8>,
}

impl PatternedDrive {
    /// `size` bytes of pattern number `seed` in `dir/name`, attached.
    pub fn create(dir: &Path, name: &str, size: usize, seed: u64) -> PatternedDrive {
        let before = pseudo_random_bytes(size, seed);
        let loop_device = LoopDevice::create_with(&dir.join(name), &before);
        PatternedDrive {
            loop_device,
            before,
        }
    }

    /// `size` bytes of `fill` in `dir/name`, attached.
    pub fn filled(dir: &Path, name: &str, size: usize, fill: u8) -> PatternedDrive {
        let before = vec![fill; size];
        let loop_device = LoopDevice::create_with(&dir.join(name), &before);
        PatternedDrive {
            loop_device,
            before,
        }
    }

    /// Like [`PatternedDrive::create`], attached read-only (`losetup -r`).
    pub fn create_read_only(dir: &Path, name: &str, size: usize, seed: u64) -> PatternedDrive {
        let before = pseudo_random_bytes(size, seed);
        let backing = dir.join(name);
        std::fs::write(&backing, &before).expect("write loop backing file");
        PatternedDrive {
            loop_device: LoopDevice::attach(&backing, true),
            before,
        }
    }

    /// `/dev/loopN`.
    pub fn device(&self) -> &Path {
        &self.loop_device.device
    }

    pub fn name(&self) -> String {
        self.device().display().to_string()
    }

    /// Takes the drive's current bytes as its "before" (after the test
    /// itself wrote to it, e.g. a filesystem).
    pub fn remember_contents(&mut self) {
        self.before = self.loop_device.contents();
    }

    /// What the drive held before the test.
    pub fn before(&self) -> &[u8] {
        &self.before
    }

    /// Asserts that not one byte of the drive changed.
    pub fn assert_unchanged(&self) {
        let now = self.loop_device.contents();
        if let Some(at) = first_difference(&self.before, &now) {
            panic!("{} was changed, first at byte {at}", self.name());
        }
    }

    /// Asserts that the drive holds `image` at its start and its old bytes
    /// after the image's end, but for its first and last MiB, which a flash
    /// clears (the partition table is written last; a stale backup GPT
    /// lives in the last) where the image does not reach.
    pub fn assert_holds(&self, image: &ExpectedImage) {
        let now = self.loop_device.contents();
        assert_eq!(
            now.len(),
            self.before.len(),
            "{}: backing size",
            self.name()
        );
        assert!(
            image.len <= now.len(),
            "{}: image longer than the drive",
            self.name()
        );
        image.assert_is(&now[..image.len], &self.name());
        // The first and last MiB are cleared before the image is written.
        let first_mib = (1 << 20usize).clamp(image.len, now.len());
        let last_mib = now.len().saturating_sub(1 << 20).max(first_mib);
        for cleared in [image.len..first_mib, last_mib..now.len()] {
            if let Some(at) = now[cleared.clone()].iter().position(|&b| b != 0) {
                panic!(
                    "{}: byte {} of the drive's first or last MiB was not cleared",
                    self.name(),
                    cleared.start + at
                );
            }
        }
        let kept = first_mib..last_mib;
        if let Some(at) = first_difference(&self.before[kept.clone()], &now[kept]) {
            panic!(
                "{}: byte {} after the image's end (at {}) changed",
                self.name(),
                image.len + at,
                image.len
            );
        }
    }
}

/// Three patterned drives of `size` bytes each, different patterns.
pub fn three_drives(dir: &Path, size: usize) -> Vec<PatternedDrive> {
    (0..3)
        .map(|i| PatternedDrive::create(dir, &format!("drive{i}.bin"), size, 0xD15C + i))
        .collect()
}

/// A drive size that holds an image of `image_len` bytes with room after it.
pub fn drive_size_for(image_len: usize) -> usize {
    image_len.div_ceil(4096) * 4096 + (1 << 20)
}

/// `imprint flash IMAGE -t DEV… --yes --full` plus `extra` arguments:
/// every byte of the image, so that the drive can be compared with it whole
/// (sparse writing, the default, has its own tests: [`flash_sparse`]).
pub fn flash(image: &Path, drives: &[&Path], extra: &[&str]) -> Output {
    let mut with_full = vec!["--full"];
    with_full.extend_from_slice(extra);
    flash_sparse(image, drives, &with_full)
}

/// `imprint flash IMAGE -t DEV… --yes` plus `extra` arguments: by default
/// only the bytes the image uses are written.
pub fn flash_sparse(image: &Path, drives: &[&Path], extra: &[&str]) -> Output {
    let mut cmd = super::imprint();
    cmd.arg("flash").arg(image);
    for drive in drives {
        cmd.arg("-t").arg(drive);
    }
    cmd.arg("--yes").args(extra);
    cmd.output().expect("run imprint flash")
}

/// The devices of `drives`, for [`flash`].
pub fn devices(drives: &[PatternedDrive]) -> Vec<&Path> {
    drives.iter().map(PatternedDrive::device).collect()
}

/// Exit code, stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts the exit code, showing the whole output when it differs.
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "unexpected exit code\n{}",
        describe(output)
    );
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every line of `--json` stdout, parsed; panics on a line that is not a
/// JSON object.
pub fn json_events(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
            assert!(value.is_object(), "stdout line is not an object: {line:?}");
            value
        })
        .collect()
}

/// The events named `name`, in order.
pub fn events<'a>(all: &'a [Value], name: &str) -> Vec<&'a Value> {
    all.iter().filter(|e| e["event"] == name).collect()
}

/// The `target_done` event of `target`; panics unless exactly one.
pub fn target_done<'a>(all: &'a [Value], target: &Path) -> &'a Value {
    let target = target.display().to_string();
    let done: Vec<_> = events(all, "target_done")
        .into_iter()
        .filter(|e| e["target"] == target.as_str())
        .collect();
    assert_eq!(done.len(), 1, "one target_done for {target}: {all:#?}");
    done[0]
}

/// Runs a shell tool that writes an image to stdout (`xz -dc FILE`, …).
pub fn tool_output(program: &str, args: &[&str], file: &Path) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Compresses `file` with `program` (`xz`, `gzip`, …) keeping the original;
/// returns the compressed file's path.
pub fn compress(program: &str, file: &Path, suffix: &str) -> PathBuf {
    let compressed = tool_output(program, &["-c"], file);
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    let path = PathBuf::from(name);
    std::fs::write(&path, compressed).expect("write compressed image");
    path
}

/// `1_500_000_000` → `"1.5 GB"`: sizes as Imprint words them (decimal
/// units, as drive makers count).
pub fn decimal_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} B"),
        _ if value < 10.0 => format!("{value:.1} {}", UNITS[unit]),
        _ => format!("{value:.0} {}", UNITS[unit]),
    }
}

/// Asserts that a flashed drive `now` kept its `before` bytes from `from`
/// (the image's end, past the first MiB) up to its last MiB, which a flash
/// clears (a stale backup GPT lives there).
pub fn assert_kept_after(now: &[u8], before: &[u8], from: usize) {
    let last_mib = now.len() - (1 << 20);
    assert!(
        now[from..last_mib] == before[from..last_mib],
        "bytes after the image's end changed"
    );
    assert!(
        now[last_mib..].iter().all(|&b| b == 0),
        "the drive's last MiB was cleared"
    );
}

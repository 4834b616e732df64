//! Shared helpers for the integration tests: loop devices, temporary images,
//! running the built binary.

#![allow(dead_code)]

pub mod balena_image;
pub mod faultdev;
pub mod flashing;
pub mod loopdev;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared fixtures folder (`../shared/fixtures` beside the project).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures")
}

/// A fixture of etcher-sdk's test suite, by its path under `etcher-sdk/`.
pub fn etcher_fixture(name: &str) -> PathBuf {
    fixtures().join("etcher-sdk").join(name)
}

/// The `imprint` binary built for these tests.
pub fn imprint() -> Command {
    Command::new(env!("CARGO_BIN_EXE_imprint"))
}

/// Runs `imprint ARGS…` and returns its output.
pub fn run_imprint<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    imprint().args(args).output().expect("run imprint")
}

/// Whether the tests run as root (loop devices, mounts).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Skips the calling test (returns from it) when not root.
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::support::is_root() {
            eprintln!("skipped: needs root for loop devices");
            return;
        }
    };
}

/// Deterministic pseudo-random bytes (xorshift), for test images.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

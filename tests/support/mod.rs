//! Shared helpers for the integration tests: loop devices, temporary images,
//! running the built binary.

#![allow(dead_code)]

pub mod balena_image;
pub mod child;
pub mod custom_images;
pub mod faultdev;
pub mod flashing;
pub mod full_fs;
pub mod http_server;
pub mod loopdev;
pub mod lying_bmap;
pub mod sys;
pub mod throttle;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project's own test images: `tests/fixtures/`, made by
/// `tests/fixtures/make-fixtures.sh`; its README.md lists what each is.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A test image of `tests/fixtures/` by its file name.
pub fn fixture(name: &str) -> PathBuf {
    fixtures_dir().join(name)
}

/// `test.img` (5 MiB, MBR, two FAT12 partitions), which `test.img.xz`,
/// `.gz`, `.bz2`, `.zst` and the zip fixtures hold: its length and SHA-256,
/// as tests/fixtures/README.md states.
pub const TEST_IMG_BYTES: usize = 5 << 20;
pub const TEST_IMG_SHA256: &str =
    "85ccb8d6872cf5d09c5a729e7660e83b3db9f2df56252f0f5c90934acd210ba4";
/// Partition 1 of `test.img`: FAT12 labelled "NEW VOLUME", 1 MiB at 1 MiB.
pub const TEST_IMG_P1_OFFSET: u64 = 1 << 20;
pub const TEST_IMG_P1_BYTES: u64 = 1 << 20;
/// Partition 2 of `test.img`: FAT12 labelled "VOLUME", 2 MiB at 2 MiB.
pub const TEST_IMG_P2_OFFSET: u64 = 2 << 20;
pub const TEST_IMG_P2_BYTES: u64 = 2 << 20;

/// `gpt-test.img` (inside `gpt-test.img.gz`): GPT, p1 Microsoft reserved,
/// p2 FAT32 labelled "FATFS", p3 ext2.
pub const GPT_TEST_IMG_BYTES: usize = 38 << 20;
pub const GPT_TEST_IMG_SHA256: &str =
    "359f8999e45795a371a08bedcd801c7faaf88ebaa2aca64b043d1a32fb42a6e2";
/// Partition 2 of `gpt-test.img`: 67584 sectors at sector 4096.
pub const GPT_TEST_P2_OFFSET: u64 = 4096 * 512;
pub const GPT_TEST_P2_BYTES: u64 = 67584 * 512;

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
    sys::geteuid() == 0
}

/// Whether a test that needs root must fail without it instead of being
/// skipped: `scripts/test` sets `IMPRINT_REQUIRE_ROOT=1`, so that a run
/// meant to cover everything cannot pass by skipping.
pub fn root_is_required() -> bool {
    std::env::var_os("IMPRINT_REQUIRE_ROOT").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Says that the calling test is skipped because `what` is missing (the
/// caller then returns); fails it instead when [`root_is_required`]: a full
/// run has every tool, since `scripts/test` installs them.
pub fn skip_without(what: &str) {
    assert!(
        !root_is_required(),
        "this test needs {what} and IMPRINT_REQUIRE_ROOT is set (scripts/install-deps installs it)"
    );
    eprintln!("skipped: needs {what}");
}

/// Skips the calling test (returns from it) when not root; fails it instead
/// when [`root_is_required`].
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::support::is_root() {
            assert!(
                !$crate::support::root_is_required(),
                "this test needs root (loop devices, mounts) and IMPRINT_REQUIRE_ROOT is set"
            );
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

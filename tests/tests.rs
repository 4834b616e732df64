//! Imprint's integration tests: one binary, one module per area. Tests that
//! need root (loop devices, mounts) print that they were skipped otherwise, or
//! fail when `IMPRINT_REQUIRE_ROOT` is set (as `scripts/test` does as root).

// `unreachable_pub` (Cargo.toml) is for the library, whose `pub` must mean
// "used outside"; a test binary has no outside, and its helpers are `pub` so
// sibling modules can use them.
#![allow(unreachable_pub)]

mod bootcfg;
mod drives;
mod flash;
mod fuzz_replay;
mod layering;
mod protocol;
mod sources;
mod support;
mod test_images;

#[cfg(feature = "gui")]
mod gui;

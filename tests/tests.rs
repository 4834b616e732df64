//! Imprint's integration tests: one binary, one module per area. Tests that
//! need root (loop devices, mounts) print that they were skipped otherwise.

mod bootcfg;
mod drives;
mod flash;
mod fuzz_replay;
mod sources;
mod support;

#[cfg(feature = "gui")]
mod gui;

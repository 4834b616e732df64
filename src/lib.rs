//! Imprint writes operating-system images to SD cards and USB drives, many at
//! once, and verifies every byte by reading it back.
//!
//! The crate is one engine with two front ends:
//!
//! - [`source`] opens an image and streams its decompressed bytes (raw, xz,
//!   gzip, zstd, bzip2, zip), detecting the format by content;
//! - [`engine`] runs a [`engine::FlashJob`]: one reader, one writer thread per
//!   target, read-back verification, plain-data [`engine::FlashEvent`]s;
//! - [`target`] checks a target before anything is written and does the
//!   aligned direct I/O on it;
//! - [`drives`] lists the drives a user may flash;
//! - [`bootcfg`] embeds a balenaOS `config.json` (and WiFi) into the image's
//!   boot partition while it streams;
//! - [`platform`] holds every piece of OS-specific code;
//! - [`protocol`] is the JSON-lines event protocol of `--json`, written by the
//!   command line and read by the app's privileged helper;
//! - [`request`] is the layer below both front ends: options, the one way
//!   to build a job and run the engine, the exit status;
//! - [`user_file`] reads the small files a user names, with a size limit;
//! - [`cli`] and (with the `gui` feature) `gui` are the front ends: both only
//!   read the engine's event stream.

pub(crate) mod backup;
pub mod bootcfg;
pub mod cli;
pub mod customise;
pub(crate) mod disk;
pub mod drives;
pub(crate) mod engine;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "gui")]
pub mod gui;
pub(crate) mod hex;
pub(crate) mod humanize;
pub(crate) mod identity;
pub(crate) mod map;
pub(crate) mod patch;
pub mod platform;
pub mod protocol;
pub(crate) mod report;
pub mod request;
pub(crate) mod sign;
pub mod source;
pub(crate) mod station;
pub(crate) mod target;
#[cfg(test)]
pub(crate) mod test_random;
pub(crate) mod user_file;

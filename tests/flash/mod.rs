//! Flashing real loop devices with the built `imprint`, as a user would:
//! every test image of tests/fixtures/ to three drives at once, exact image
//! ends, images from pipes and FIFOs, drives that fail or lie (a FUSE fault device), or are refused (too
//! small, holding the image, in use by another run), file targets, `verify`,
//! `--json`, bmap files, partition layouts whose free space one table
//! misstates (isohybrid ISOs, stale GPTs), streams cut short, the smaller
//! options and
//! cancellation. Each test attaches its own loop devices on files in a temp
//! dir and compares the backing files byte for byte.

mod backup;
mod backup_failures;
mod bmap;
mod cancel;
mod cli_options;
mod clone_source;
mod counterfeit;
mod customise;
mod customise_each;
mod each;
mod elevation;
mod exact_end;
mod failures;
mod faults;
mod file_lock;
mod fixtures;
mod holds_image;
mod http;
mod http_splice;
mod identity_rows;
mod json;
mod layouts;
mod lying_bmap;
mod one_storage;
mod pacing;
mod reflash;
mod run_files;
mod signed;
mod signed_image;
mod sparse;
mod stalls;
mod station;
mod streams;
mod system_drive;
mod table_last;
mod target_files;
mod untouched;
mod verify;

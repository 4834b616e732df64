//! Flashing real loop devices with the built `imprint`, as a user would:
//! every shared fixture to three drives at once, exact image ends, drives
//! that fail or are refused, `verify`, `--json`, the smaller options and
//! cancellation. Each test attaches its own loop devices on files in a temp
//! dir and compares the backing files byte for byte.

mod cancel;
mod cli_options;
mod exact_end;
mod failures;
mod faults;
mod fixtures;
mod json;
mod system_drive;
mod verify;

//! Windows: physical drives (`\\.\PhysicalDriveN`) listed and described
//! through storage IOCTLs, taken for writing as proven flashers do (every
//! volume locked, then dismounted; no buffering, write-through, sector-
//! aligned I/O), files, free space, privileges (token elevation) and
//! console control events. Provides the items `platform` lists, by name
//! (docs/architecture.md §1, §3).
//!
//! The Win32 calls sit behind one seam (`seam.rs`, real in `win32.rs`);
//! the logic on top of it (`drives.rs`, `take.rs`, `answers.rs`,
//! `errors.rs`) is plain Rust, built and unit-tested on every OS with
//! recorded answers (`fake.rs`), since neither Linux nor Wine has a
//! physical drive to lock.

// On other OSes only the tests use the logic.
#![cfg_attr(not(windows), allow(dead_code))]

mod answers;
mod drives;
mod errors;
#[cfg(test)]
mod fake;
mod kind;
mod seam;
mod take;

#[cfg(windows)]
mod blockdev;
#[cfg(windows)]
mod disks;
#[cfg(windows)]
mod files;
#[cfg(windows)]
mod new_file;
#[cfg(windows)]
mod process;
#[cfg(windows)]
mod win32;

#[cfg(windows)]
pub use blockdev::{
    block_device_claimed, block_device_size_bytes, drop_cached_pages, is_read_only, lock_file,
    logical_block_size, open_block_device_direct_read, open_block_device_exclusive,
    open_block_device_exclusive_read,
};
#[cfg(windows)]
pub use disks::{
    BlockSnapshot, block_snapshot, eject, is_empty_slot, list_drives, media_identity, mounts_of,
    stacked_on, storage_of, system_drive_reason, unmount, whole_disk, writable_mounts_of,
};
#[cfg(all(test, windows))]
pub(crate) use errors::os_error;
#[cfg(windows)]
pub use files::{
    free_space_bytes, io_failure, nameless_file_in, node_id, node_kind, private_dir, read_at,
    read_exact_at, release_range, stdin_file, stdin_path, write_all_at,
};
#[cfg(windows)]
pub use kind::path_kind;
#[cfg(windows)]
pub use new_file::{create_new_file, reader_port};
#[cfg(windows)]
pub use process::{
    elevated_user, elevation_command, elevation_declined, interrupt_process, is_administrator,
    may_write, open_as_user, return_large_buffers_to_the_system, user_id,
};

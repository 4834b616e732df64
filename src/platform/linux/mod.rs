//! Linux: block-device ioctls and direct I/O, sysfs, mounts and swaps, what
//! a file or device is stored on, privileges (`geteuid`, `access`, `pkexec`)
//! and signals. Provides the items `platform` lists, by name.

mod as_user;
mod backing;
mod blockdev;
mod by_path;
mod drive_list;
mod eject;
mod files;
mod io_context;
mod mount_table;
mod mounts;
mod new_file;
mod process;
mod snapshot;
mod sysfs;

pub use as_user::{elevated_user, open_as_user};
pub use backing::storage_of;
pub use blockdev::{
    block_device_claimed, block_device_size_bytes, drop_cached_pages, is_read_only, lock_file,
    logical_block_size, open_block_device_direct_read, open_block_device_exclusive,
    open_block_device_exclusive_read,
};
pub use by_path::reader_port;
pub use drive_list::{is_empty_slot, list_drives, media_identity};
pub use eject::eject;
#[cfg(test)]
pub(crate) use files::os_error;
pub use files::{
    free_space_bytes, io_failure, nameless_file_in, node_id, node_kind, path_kind, private_dir,
    read_at, read_exact_at, release_range, stdin_file, stdin_path, write_all_at,
};
pub use mounts::{mounts_of, stacked_on, system_drive_reason, unmount, writable_mounts_of};
pub use new_file::create_new_file;
pub use process::{
    elevation_command, elevation_declined, interrupt_process, is_administrator, may_write,
    return_large_buffers_to_the_system, user_id,
};
pub use snapshot::{BlockSnapshot, block_snapshot};
pub use sysfs::whole_disk;

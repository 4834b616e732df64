//! Linux: block-device ioctls and direct I/O, sysfs, mounts and swaps, and
//! what a file or device is stored on.

mod backing;
mod blockdev;
mod drive_list;
mod io_context;
mod mount_table;
mod mounts;
mod snapshot;
mod sysfs;

pub use backing::{Storage, StorageUnit, storage_of, storage_of_block};
pub use blockdev::*;
pub use drive_list::{bus_of, list_drives};
pub use io_context::PathIoError;
pub use mount_table::{MountInfoLine, MountTable, ResolvedMount, ResolvedSwap, SwapLine};
pub use mounts::*;
pub use snapshot::{BlockSnapshot, block_snapshot};
pub use sysfs::*;

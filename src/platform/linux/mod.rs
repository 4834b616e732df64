//! Linux: block-device ioctls and direct I/O, sysfs, mounts and swaps.

mod blockdev;
mod mounts;
mod sysfs;

pub use blockdev::*;
pub use mounts::*;
pub use sysfs::*;

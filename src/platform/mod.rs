//! The only place with OS-specific code. Each OS gets a `#[cfg]` module with
//! the same functions; the rest of the crate calls them through this module.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::*;

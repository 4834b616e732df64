//! The few system calls the tests make, behind safe functions, so that the
//! test files themselves need no unsafe.

// Needs unsafe: libc calls; each below has no memory-safety precondition.
#![allow(unsafe_code)]

use std::os::fd::AsRawFd;

/// Sends `signal` to process `pid` (a child the test owns); kill's return
/// code (0 when sent).
pub fn kill(pid: u32, signal: i32) -> i32 {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid as libc::pid_t, signal) }
}

/// flock(2) on a descriptor the caller owns; its return code (0 when taken).
pub fn flock(file: &impl AsRawFd, operation: i32) -> i32 {
    // SAFETY: flock on a valid descriptor, with integer flags.
    unsafe { libc::flock(file.as_raw_fd(), operation) }
}

/// The effective user id.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

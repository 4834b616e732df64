//! Privileges and processes on Windows: whether this process runs
//! elevated (its token), whether a path may be written, and console
//! control events for a child. Imprint asks for no elevation itself (no
//! `requireAdministrator` manifest): the app stays unprivileged, and a
//! flash to a drive from a process that is not elevated is refused with
//! "run it as administrator" (Windows answers ERROR_ACCESS_DENIED).

// The token and console functions are FFI.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::Security::{
    GetTokenInformation, TOKEN_ELEVATION, TOKEN_QUERY, TokenElevation,
};
use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use super::drives::disk_number;
use crate::platform::UserOpen;

/// Whether this process's token is elevated (run as administrator), which
/// opening a physical drive for writing needs.
pub fn is_administrator() -> bool {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: GetCurrentProcess returns a pseudo-handle; `token` receives
    // a handle closed below.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return false;
    }
    let mut elevation = TOKEN_ELEVATION { TokenIsElevated: 0 };
    let mut returned = 0u32;
    // SAFETY: `elevation` is valid for the size given; `token` is open.
    let ok = unsafe {
        GetTokenInformation(
            token,
            TokenElevation,
            (&mut elevation as *mut TOKEN_ELEVATION).cast(),
            size_of::<TOKEN_ELEVATION>() as u32,
            &mut returned,
        )
    };
    // SAFETY: `token` is open and closed once.
    unsafe { CloseHandle(token) };
    ok != 0 && elevation.TokenIsElevated != 0
}

/// Windows has no numeric user ids; per-user folders are already per user
/// (the temporary folder is in the user's profile), so one id serves.
pub fn user_id() -> u32 {
    0
}

/// Whether this user may write `path`: a drive needs elevation; a file
/// must not be read-only; a new file needs its folder.
pub fn may_write(path: &Path) -> bool {
    if disk_number(path).is_some() {
        return is_administrator();
    }
    match std::fs::metadata(path) {
        Ok(m) => !m.permissions().readonly(),
        Err(_) => path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.is_dir()),
    }
}

/// Elevation on Windows keeps the user (UAC consent), so no other user's
/// rights ever need restoring.
pub fn elevated_user() -> Option<u32> {
    None
}

/// Opens a file the user named: with this process's rights, which are the
/// user's own ([`elevated_user`] is always `None`).
pub fn open_as_user(path: &Path, how: UserOpen) -> io::Result<File> {
    let mut options = OpenOptions::new();
    match how {
        UserOpen::Read => options.read(true),
        UserOpen::CreateAppend => options.append(true).create(true),
        UserOpen::Create => options.write(true).create(true).truncate(true),
    };
    options.open(path)
}

/// No command-line elevation keeps a helper's standard input and output
/// (UAC's `runas` starts a new console): empty, so the app runs its helper
/// directly and a drive flash needs the app started as administrator.
pub fn elevation_command() -> Vec<OsString> {
    Vec::new()
}

/// There is no elevation command whose exit could mean "declined".
pub fn elevation_declined(_exit_code: i32) -> bool {
    false
}

/// Asks a child to stop as Ctrl-Break would (delivered to a child started
/// in its own process group); best effort, without waiting.
pub fn interrupt_process(pid: u32) {
    // SAFETY: no pointers; a pid that is not a process group is refused.
    unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid) };
}

/// Windows' heap gives blocks of more than half a megabyte their own
/// virtual allocation, returned to the system when freed: nothing to set.
pub fn return_large_buffers_to_the_system() {}

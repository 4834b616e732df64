//! Privileges and processes: whether this process is root, whether this
//! user may write a path (`access`), the elevation command (`pkexec`), and
//! interrupting a child with SIGINT.

// System calls need unsafe: signals and process ids through libc.
#![allow(unsafe_code)]

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Whether this process runs as root (effective uid 0), which may open any
/// drive.
pub fn is_administrator() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The real user id.
pub fn user_id() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// Whether this user may open `path` for writing, asked with `access(2)`
/// without opening it (opening a drive for writing only to test it is
/// exactly what we avoid). An image file that does not exist yet needs a
/// writable folder.
pub fn may_write(path: &Path) -> bool {
    if std::fs::symlink_metadata(path).is_err() {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        return access_w(parent);
    }
    access_w(path)
}

fn access_w(path: &Path) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: c_path is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
}

/// polkit's `pkexec`, which asks for the password in a desktop dialog and
/// runs the program given after it as root.
pub fn elevation_command() -> Vec<OsString> {
    vec![OsString::from("pkexec")]
}

/// pkexec exits 126 when the user dismissed the dialog, 127 when not
/// authorised.
pub fn elevation_declined(exit_code: i32) -> bool {
    matches!(exit_code, 126 | 127)
}

/// Sends SIGINT to `pid`, which `imprint flash` handles like Ctrl-C.
pub fn interrupt_process(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill has no memory preconditions. A process running as
        // root may not be signalled by this user (EPERM): it then finishes
        // its work, which only costs time.
        unsafe { libc::kill(pid, libc::SIGINT) };
    }
}

/// Makes the allocator give every buffer of a megabyte or more back to the
/// system when it is freed. glibc raises its mmap threshold each time such
/// a buffer is freed, after which the image's 4 MiB chunks come from the
/// heap and their memory stays with the process: measured, one `.xz` to one
/// target peaked at 300 MiB instead of 144 MiB.
pub fn return_large_buffers_to_the_system() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes a tuning parameter; called before any
    // thread of ours starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_in_a_writable_folder_is_writable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(may_write(&dir.path().join("new.img")));
        assert!(!may_write(&dir.path().join("missing/new.img")));
    }

    #[test]
    fn an_interrupted_child_stops() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        interrupt_process(child.id());
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGINT));
    }
}

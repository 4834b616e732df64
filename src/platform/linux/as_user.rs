//! Least privilege under `pkexec` (docs/architecture.md §3): the elevated
//! helper opens drives as root and nothing else. Every file it reads or
//! writes for the user (image, config, CSV, bmap, report) is opened with the
//! rights of the user who ran pkexec (`PKEXEC_UID`), so it never reads or
//! writes a file that user could not.
//!
//! How: the open happens on a short-lived thread of its own that first
//! switches its own filesystem identity — supplementary groups, fsgid,
//! fsuid — with the raw per-thread system calls, opens, and exits. Linux
//! keeps credentials per thread; glibc's `setgroups`/`setfsuid` wrappers
//! would broadcast the change to every thread of the process (the writers
//! would lose root), the raw `syscall`s do not. Changing the fsuid from 0
//! drops the filesystem capabilities (`CAP_DAC_OVERRIDE`…) of that thread,
//! so the kernel checks the user's permissions, and a file created there is
//! owned by the user.

// System calls need unsafe: setuid/setgid/setgroups and fork-safe calls through libc.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use crate::platform::UserOpen;

/// The user `nobody`: what an unreadable `PKEXEC_UID` is taken as, so that
/// a malformed variable never means more rights.
const NOBODY: u32 = 65534;

/// The user who ran this process through pkexec, when it runs as root on
/// their behalf: `PKEXEC_UID` is set and not root's own.
pub fn elevated_user() -> Option<u32> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let value = std::env::var_os("PKEXEC_UID")?;
    let uid = value
        .to_str()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(NOBODY);
    (uid != 0).then_some(uid)
}

/// Opens `path` as the user this process acts for: plainly when it is not
/// elevated, else with the rights of [`elevated_user`] only. Refused
/// opens say so in words ("you cannot read it…").
pub fn open_as_user(path: &Path, how: UserOpen) -> io::Result<File> {
    match elevated_user() {
        Some(uid) => open_as_uid(path, how, uid),
        None => options(how).open(path),
    }
}

/// Opens `path` with the rights of user `uid` alone (see the module doc).
fn open_as_uid(path: &Path, how: UserOpen, uid: u32) -> io::Result<File> {
    let options = options(how);
    let identity = Identity::of(uid)?;
    let owned = path.to_path_buf();
    let opened = std::thread::Builder::new()
        .name("open-as-user".into())
        .spawn(move || {
            identity.assume_on_this_thread()?;
            options.open(&owned)
        })?
        .join()
        .map_err(|_| io::Error::other("the thread opening a file as the user panicked"))?;
    opened.map_err(|e| explain(e, uid, how))
}

fn options(how: UserOpen) -> OpenOptions {
    let mut options = OpenOptions::new();
    match how {
        UserOpen::Read => options.read(true),
        UserOpen::CreateAppend => options.create(true).append(true),
        UserOpen::Create => options.write(true).create(true).truncate(true),
    };
    options
}

fn explain(error: io::Error, uid: u32, how: UserOpen) -> io::Error {
    if error.kind() != io::ErrorKind::PermissionDenied {
        return error;
    }
    let verb = match how {
        UserOpen::Read => "read",
        UserOpen::CreateAppend | UserOpen::Create => "write",
    };
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "you cannot {verb} it ({error}): Imprint runs with administrator rights through pkexec and opens the files you name as you (user {uid}); give yourself access to it, or choose another file"
        ),
    )
}

/// A user's filesystem identity: uid, primary group, supplementary groups.
struct Identity {
    uid: u32,
    gid: u32,
    groups: Vec<libc::gid_t>,
}

impl Identity {
    /// Looks `uid` up in the user database; a uid it does not know gets
    /// `nobody`'s group and no supplementary ones.
    fn of(uid: u32) -> io::Result<Identity> {
        let mut buf = vec![0 as libc::c_char; 16 << 10];
        // SAFETY: passwd is plain pointers and integers; all zeros is valid.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; buf outlives the
        // uses of pwd's string fields below.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found) };
        if rc != 0 || found.is_null() {
            return Ok(Identity {
                uid,
                gid: NOBODY,
                groups: Vec::new(),
            });
        }
        let gid = pwd.pw_gid;
        let mut groups = vec![0 as libc::gid_t; 256];
        let mut count = groups.len() as libc::c_int;
        // SAFETY: pw_name is a NUL-terminated string inside buf; groups
        // has room for `count` entries.
        let rc = unsafe { libc::getgrouplist(pwd.pw_name, gid, groups.as_mut_ptr(), &mut count) };
        if rc < 0 {
            // SAFETY: as above, pw_name is valid and NUL-terminated.
            let name = unsafe { CStr::from_ptr(pwd.pw_name) }.to_string_lossy();
            return Err(io::Error::other(format!(
                "user {name} is in more than {} groups",
                groups.len()
            )));
        }
        groups.truncate(count.max(0) as usize);
        Ok(Identity { uid, gid, groups })
    }

    /// Switches the calling thread's filesystem identity; the thread must
    /// end after its open (nothing switches it back).
    fn assume_on_this_thread(&self) -> io::Result<()> {
        // SAFETY: raw system calls on this thread's credentials; the group
        // list pointer is valid for `len` entries.
        unsafe {
            if libc::syscall(libc::SYS_setgroups, self.groups.len(), self.groups.as_ptr()) != 0 {
                return Err(io::Error::last_os_error());
            }
            libc::syscall(libc::SYS_setfsgid, self.gid);
            libc::syscall(libc::SYS_setfsuid, self.uid);
            // setfs*id report the previous value, never an error: asking
            // with an invalid id (-1) tells what is in force now.
            let fsgid = libc::syscall(libc::SYS_setfsgid, u32::MAX) as u32;
            let fsuid = libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32;
            if fsuid != self.uid || fsgid != self.gid {
                return Err(io::Error::other(format!(
                    "cannot take the identity of user {} to open the file as them",
                    self.uid
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "as_user_tests.rs"]
mod tests;

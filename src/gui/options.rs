//! How the app is set up: a preselected image, where the drive list comes
//! from, and how a privileged helper is started when one is needed.

use std::ffi::OsString;
use std::path::PathBuf;

use super::DriveFeed;

/// Everything [`super::ImprintApp::new`] needs besides the egui context.
pub struct AppOptions {
    /// An image to open at start (`imprint gui IMAGE`, "Open with Imprint").
    pub image: Option<PathBuf>,
    pub drives: DriveFeed,
    pub helper: HelperOptions,
}

impl AppOptions {
    /// The options of the installed app: the machine's drives, and the
    /// helper as [`HelperOptions::from_env`] says.
    pub fn from_env() -> AppOptions {
        AppOptions {
            image: None,
            drives: DriveFeed::System,
            helper: HelperOptions::from_env(),
        }
    }
}

/// When a flash runs in a child `imprint flash --json` process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperMode {
    /// Only when this user may not write a selected drive.
    WhenNeeded,
    /// Always (tests and `IMPRINT_HELPER=always`).
    Always,
}

/// How the privileged helper is started: `ELEVATE… EXE flash … --json --yes`.
#[derive(Debug, Clone)]
pub struct HelperOptions {
    pub mode: HelperMode,
    /// The command that runs the helper with privileges (`pkexec`); empty
    /// runs the helper directly.
    pub elevate: Vec<OsString>,
    /// The `imprint` binary the helper runs.
    pub exe: PathBuf,
}

impl HelperOptions {
    /// `pkexec` and this executable, unless overridden:
    /// `IMPRINT_ELEVATE` replaces the elevation command (split at spaces;
    /// empty runs the helper directly), `IMPRINT_HELPER=always` uses the
    /// helper for every flash. Both exist so that tests and packagers can
    /// exercise the helper path without a polkit agent.
    pub fn from_env() -> HelperOptions {
        let elevate = match std::env::var_os("IMPRINT_ELEVATE") {
            Some(value) => value
                .to_string_lossy()
                .split_whitespace()
                .map(OsString::from)
                .collect(),
            None => vec![OsString::from("pkexec")],
        };
        let mode = match std::env::var("IMPRINT_HELPER").as_deref() {
            Ok("always") => HelperMode::Always,
            _ => HelperMode::WhenNeeded,
        };
        // current_exe can only fail on exotic systems; the bare name then
        // still works when imprint is on PATH (pkexec needs an absolute path,
        // so the helper fails with a clear message otherwise).
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("imprint"));
        HelperOptions { mode, elevate, exe }
    }

    /// Whether a run on `targets` needs the helper.
    pub fn needed_for(&self, targets: &[PathBuf]) -> bool {
        self.mode == HelperMode::Always || (!is_root() && targets.iter().any(|t| !may_write(t)))
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether this user may open `path` for writing, asked without opening it
/// (opening a drive for writing only to test it is exactly what we avoid).
/// An image file that does not exist yet needs a writable folder.
fn may_write(path: &std::path::Path) -> bool {
    if std::fs::symlink_metadata(path).is_err() {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => std::path::Path::new("."),
        };
        return access_w(parent);
    }
    access_w(path)
}

fn access_w(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: c_path is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_in_a_writable_folder_needs_no_helper() {
        let dir = tempfile::tempdir().unwrap();
        assert!(may_write(&dir.path().join("new.img")));
        assert!(!may_write(&dir.path().join("missing/new.img")));
    }
}

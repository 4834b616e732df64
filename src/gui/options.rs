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
    /// The command that runs the helper with privileges
    /// ([`crate::platform::elevation_command`], `pkexec`); empty
    /// runs the helper directly.
    pub elevate: Vec<OsString>,
    /// The `imprint` binary the helper runs.
    pub exe: PathBuf,
}

impl HelperOptions {
    /// The platform's elevation command and this executable, unless
    /// overridden:
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
            None => crate::platform::elevation_command(),
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

    /// Whether a run on `targets` needs the helper: this user may not
    /// write one of them ([`crate::platform::may_write`]).
    pub fn needed_for(&self, targets: &[PathBuf]) -> bool {
        self.mode == HelperMode::Always
            || (!crate::platform::is_administrator()
                && targets.iter().any(|t| !crate::platform::may_write(t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(mode: HelperMode) -> HelperOptions {
        HelperOptions {
            mode,
            elevate: Vec::new(),
            exe: PathBuf::from("imprint"),
        }
    }

    #[test]
    fn a_new_file_in_a_writable_folder_needs_no_helper() {
        let dir = tempfile::tempdir().unwrap();
        let target = [dir.path().join("new.img")];
        assert!(!options(HelperMode::WhenNeeded).needed_for(&target));
        assert!(options(HelperMode::Always).needed_for(&target));
    }
}

//! How the app is set up: a preselected image, where the drive list comes
//! from, and how a privileged helper is started when one is needed.

use std::ffi::OsString;
use std::path::PathBuf;

use super::DriveFeed;
use super::file_dialog::FileChooser;
use super::message::Problem;
use super::notify::Notifier;

/// Everything [`super::ImprintApp::new`] needs besides the egui context.
pub struct AppOptions {
    /// An image to open at start (`imprint gui IMAGE`, "Open with Imprint").
    pub image: Option<PathBuf>,
    pub drives: DriveFeed,
    pub helper: HelperOptions,
    /// Where file dialogs come from.
    pub file_chooser: FileChooser,
    /// Where the notification at the end of a run goes.
    pub notifier: Notifier,
    /// Where the remembered choices are kept ([`super::settings`]); `None`
    /// remembers nothing.
    pub config_dir: Option<PathBuf>,
}

impl AppOptions {
    /// The options of the installed app: the machine's drives, and the
    /// helper as [`HelperOptions::from_env`] says.
    pub fn from_env() -> AppOptions {
        AppOptions {
            image: None,
            drives: DriveFeed::System,
            helper: HelperOptions::from_env(),
            file_chooser: FileChooser::Native,
            notifier: Notifier::Desktop,
            config_dir: super::settings::default_dir(),
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

    /// Whether the elevation command can be run: `Err` says, for a person,
    /// what to install. Checked before the user confirms erasing anything.
    pub fn check_elevation(&self) -> Result<(), Problem> {
        let Some(program) = self.elevate.first() else {
            return Ok(());
        };
        if find_program(program).is_some() {
            return Ok(());
        }
        let name = std::path::Path::new(program).display().to_string();
        Err(Problem::new(
            "Imprint cannot ask for administrator rights.",
            format!(
                "Writing to these drives needs administrator rights, and {name} is not installed. \
                 Install it (on Debian or Ubuntu: sudo apt install pkexec) and press Flash! again, \
                 or start Imprint as administrator."
            ),
        )
        .with_details(format!("{name}: not found in PATH")))
    }

    /// Whether a run on `targets` needs the helper: this user may not
    /// write one of them ([`crate::platform::may_write`]).
    pub fn needed_for(&self, targets: &[PathBuf]) -> bool {
        self.mode == HelperMode::Always
            || (!crate::platform::is_administrator()
                && targets.iter().any(|t| !crate::platform::may_write(t)))
    }
}

/// `program` as the OS would find it: a path as it is, a bare name on PATH.
fn find_program(program: &std::ffi::OsStr) -> Option<PathBuf> {
    let path = std::path::Path::new(program);
    if path.components().count() > 1 {
        return path.is_file().then(|| path.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
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

    #[test]
    fn a_missing_elevation_command_is_named_before_anything_is_erased() {
        let mut helper = options(HelperMode::Always);
        assert_eq!(helper.check_elevation(), Ok(()), "no elevation needed");
        helper.elevate = vec!["sh".into()];
        assert_eq!(helper.check_elevation(), Ok(()));
        helper.elevate = vec!["imprint-no-such-elevator".into()];
        let problem = helper.check_elevation().unwrap_err();
        assert!(
            problem
                .advice
                .contains("imprint-no-such-elevator is not installed")
        );
    }
}

//! What the user asked for in a frame. Views only report actions; the app
//! carries them out after drawing, so views never start threads or change
//! state behind each other's back.

use std::path::PathBuf;

use super::file_dialog::Purpose;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Action {
    /// Open the native file dialog for an image.
    PickImage,
    /// Ask which drive to clone.
    PickCloneSource,
    /// Read this drive as the image ("Clone a drive…").
    CloneFrom(PathBuf),
    /// Write the built-in demo image to a file and select it.
    UseDemoImage,
    /// Open the save dialog for an image file to write to.
    PickFileTarget,
    /// Take an image file off the list of targets.
    RemoveFileTarget(PathBuf),
    /// Tick or untick a drive or an image file (large drives ask first).
    ToggleDrive(PathBuf),
    /// The user confirmed a large drive.
    ConfirmLargeDrive(PathBuf),
    SetShowAll(bool),
    PickConfig,
    ClearConfig,
    /// "Customise…" on the image card: unfold the configuration and show it.
    Customise,
    /// The WiFi fields changed: validate again.
    SetWifi {
        ssid: String,
        psk: String,
        /// "Open network (no password)" is ticked.
        open: bool,
    },
    /// "No" to "Use HomeNet again?": the remembered network is not offered
    /// again this session.
    DismissWifiOffer,
    /// The password field shows its text (or hides it again).
    ShowPassword(bool),
    /// The "Options" section changed (verification, every byte).
    SetRunOptions(super::run_options::RunOptions),
    /// The expected SHA-256 typed or pasted on the image card.
    SetExpectedSha256(String),
    /// Flash! pressed: ask for confirmation.
    RequestFlash,
    /// The confirmation was accepted.
    StartFlash,
    CloseDialog,
    /// Quit while flashing: cancel the run, then close the window.
    CancelAndQuit,
    /// Cancel pressed during a run: ask first, as closing the window does.
    RequestCancel,
    Cancel,
    /// Back to selection, keeping the image (and the drives, unless they
    /// all succeeded).
    FlashAnother,
    /// Flash these targets (the failed ones of the last run) again.
    RetryFailed(Vec<PathBuf>),
    Copy(String),
    DismissNotice,
    /// Show the field to type a path for `Purpose` (instead of a dialog).
    TypePath(Purpose),
    /// The typed path changed.
    EditPath(String),
    /// Use the typed path.
    SubmitPath,
    /// Hide the typed-path field.
    ClosePathEntry,
    /// Stop waiting for the image being opened (a link that never answers).
    CancelOpening,
    /// Switch to the Station view with the chosen image and configuration.
    OpenStation,
    /// The Station view's `--match` globs changed.
    EditStationMatch(String),
    /// The Station view's record file changed.
    EditStationReport(String),
    StartStation,
    /// The Station's "flash a drive again" box.
    SetStationAgain(bool),
    /// The Station's "allow drives over 128 GB" box.
    SetStationAllowLarge(bool),
    /// Stop the station: drives in flight are cancelled.
    StopStation,
    /// Back to the selection screen.
    LeaveStation,
}

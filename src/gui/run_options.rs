//! The options of a run the user may change in the app's "Options" section:
//! skipping verification (`--no-verify`), writing every byte (`--full`) and
//! ejecting the drives when done (`--eject`, on by default in the app).
//! Plain data, remembered between sessions with the other settings.

use serde::{Deserialize, Serialize};

/// How the next run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct RunOptions {
    /// Read every target back and compare it with the image (the default:
    /// a card that lies about what it stored is found now, not at boot).
    pub verify: bool,
    /// Write and verify every byte, free space included, not only the
    /// used ones: for a drive whose old contents must not survive.
    pub full: bool,
    /// Eject each drive that succeeded (`--eject`): powered off when it is
    /// USB and udisks2 is there, else flushed, so it can be pulled out.
    pub eject: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            verify: true,
            full: false,
            eject: true,
        }
    }
}

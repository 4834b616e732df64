//! The desktop app (eframe/egui): select an image, select drives, flash,
//! watch each drive's progress, see each drive's result.

use std::path::PathBuf;

/// Opens the window and runs until it is closed; returns the exit code.
pub fn run(image: Option<PathBuf>) -> u8 {
    let _ = image;
    eprintln!("imprint: the desktop app is not available yet");
    crate::cli::EXIT_REFUSED
}

//! The native file dialogs (rfd: the XDG desktop portal on Linux), on their
//! own thread: the portal call blocks its caller, and the window must keep
//! repainting behind the dialog.

use std::path::PathBuf;

use crossbeam_channel::{Receiver, TryRecvError};

/// What the file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Image,
    Config,
    /// A new image file to write the image to (a save dialog).
    FileTarget,
}

/// The file-name extensions the image dialog offers (the format itself is
/// detected from the content, so this is only a convenience filter).
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "img", "iso", "raw", "bin", "dsk", "wic", "sdcard", "xz", "gz", "zst", "bz2", "zip",
];

/// An open dialog; its answer arrives on a channel.
pub struct FileDialog {
    purpose: Purpose,
    rx: Receiver<Option<PathBuf>>,
}

impl FileDialog {
    /// Opens the dialog for `purpose` on a thread named `file-dialog`;
    /// `suggested_name` is the file name a save dialog starts with.
    pub fn open(
        purpose: Purpose,
        suggested_name: &str,
        ctx: &egui::Context,
    ) -> Result<FileDialog, String> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let ctx = ctx.clone();
        let suggested_name = suggested_name.to_string();
        std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let picked = match purpose {
                    Purpose::Image => rfd::FileDialog::new()
                        .set_title("Select an image")
                        .add_filter("Disk images", IMAGE_EXTENSIONS)
                        .add_filter("All files", &["*"])
                        .pick_file(),
                    Purpose::Config => rfd::FileDialog::new()
                        .set_title("Select a balenaOS config.json")
                        .add_filter("JSON", &["json"])
                        .pick_file(),
                    Purpose::FileTarget => rfd::FileDialog::new()
                        .set_title("Write the image to a file")
                        .set_file_name(suggested_name)
                        .add_filter("Disk images", &["img"])
                        .save_file(),
                };
                let _ = tx.send(picked);
                ctx.request_repaint();
            })
            .map_err(|e| format!("Cannot open the file dialog: {e}"))?;
        Ok(FileDialog { purpose, rx })
    }

    /// `None` while the dialog is open; then what it was for and the file
    /// chosen (`None` when cancelled).
    pub fn poll(&self) -> Option<(Purpose, Option<PathBuf>)> {
        match self.rx.try_recv() {
            Ok(picked) => Some((self.purpose, picked)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some((self.purpose, None)),
        }
    }
}

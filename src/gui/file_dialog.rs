//! The native file dialogs (rfd: the XDG desktop portal on Linux), on their
//! own thread: the portal call blocks its caller, and the window must keep
//! repainting behind the dialog.
//!
//! On a desktop without a file-chooser service (minimal window managers,
//! kiosks) rfd returns "nothing chosen" at once, exactly as if the user had
//! cancelled. Nobody opens, reads and cancels a dialog in a fraction of a
//! second, so an answer that fast is taken as "no dialog appeared", and the
//! app says so and offers a typed path instead of doing nothing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};

/// What the file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    Image,
    Config,
    /// A new image file to write the image to (a save dialog).
    FileTarget,
    /// An image at an http(s) link (typed or pasted; no dialog).
    Url,
}

impl Purpose {
    /// What the typed-path field asks for.
    pub(super) fn what(self) -> &'static str {
        match self {
            Purpose::Image => "the image",
            Purpose::Config => "the config.json",
            Purpose::FileTarget => "the image file to write",
            Purpose::Url => "the image's link",
        }
    }
}

/// Where file dialogs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChooser {
    /// The desktop's file chooser (rfd).
    Native,
    /// None: what a desktop without a file-chooser service gives (tests
    /// use it, since a real dialog would wait for a person).
    Missing,
}

/// The file-name endings the image dialog offers: source's one list (the
/// format itself is detected from the content, so this is only a
/// convenience filter).
pub(super) fn image_filter() -> Vec<&'static str> {
    crate::source::image_name_endings()
}

/// Faster than this, "nothing chosen" means no dialog was shown.
const FASTEST_HUMAN_CANCEL: Duration = Duration::from_millis(400);

/// How a dialog ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Chosen(PathBuf),
    Cancelled,
    /// No dialog could be shown.
    Unavailable,
}

/// Reads rfd's answer: `None` that came back faster than a person could
/// cancel means the dialog never appeared.
pub(super) fn classify(picked: Option<PathBuf>, elapsed: Duration) -> Outcome {
    match picked {
        Some(path) => Outcome::Chosen(path),
        None if elapsed < FASTEST_HUMAN_CANCEL => Outcome::Unavailable,
        None => Outcome::Cancelled,
    }
}

/// Whether a session bus exists for the portal to be reached on; without
/// one no dialog can appear, so none is attempted.
fn session_bus_present() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| PathBuf::from(dir).join("bus").exists())
}

/// An open dialog; its answer arrives on a channel.
pub(super) struct FileDialog {
    purpose: Purpose,
    rx: Receiver<Outcome>,
}

impl FileDialog {
    /// Opens the dialog for `purpose` on a thread named `file-dialog`;
    /// `suggested_name` is the file name a save dialog starts with, and
    /// an image dialog starts in `image_folder` (the last one used).
    pub(super) fn open(
        purpose: Purpose,
        suggested_name: &str,
        image_folder: Option<&std::path::Path>,
        chooser: FileChooser,
        ctx: &egui::Context,
    ) -> FileDialog {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if chooser == FileChooser::Missing || !session_bus_present() {
            let _ = tx.send(Outcome::Unavailable);
            return FileDialog { purpose, rx };
        }
        let ctx = ctx.clone();
        let suggested_name = suggested_name.to_string();
        let image_folder = image_folder.map(std::path::Path::to_path_buf);
        let save_folder = user_folder();
        let spawned = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn({
                let tx = tx.clone();
                move || {
                    let start = Instant::now();
                    let picked = match purpose {
                        Purpose::Image => {
                            let mut dialog = rfd::FileDialog::new();
                            if let Some(folder) = image_folder {
                                dialog = dialog.set_directory(folder);
                            }
                            dialog
                                .set_title("Select an image")
                                .add_filter("Disk images", &image_filter())
                                .add_filter("All files", &["*"])
                                .pick_file()
                        }
                        Purpose::Config => rfd::FileDialog::new()
                            .set_title("Select a balenaOS config.json")
                            .add_filter("JSON", &["json"])
                            .pick_file(),
                        Purpose::FileTarget => {
                            let mut dialog = rfd::FileDialog::new();
                            // Not the working directory (often / for a
                            // desktop launcher): the user's own folder.
                            if let Some(folder) = save_folder {
                                dialog = dialog.set_directory(folder);
                            }
                            dialog
                                .set_title("Create an image file")
                                .set_file_name(suggested_name)
                                .add_filter("Disk images", &["img"])
                                .save_file()
                        }
                        // A link is typed, never picked.
                        Purpose::Url => None,
                    };
                    let _ = tx.send(classify(picked, start.elapsed()));
                    ctx.request_repaint();
                }
            });
        if spawned.is_err() {
            let _ = tx.send(Outcome::Unavailable);
        }
        FileDialog { purpose, rx }
    }

    /// `None` while the dialog is open; then what it was for and how it
    /// ended.
    pub(super) fn poll(&self) -> Option<(Purpose, Outcome)> {
        match self.rx.try_recv() {
            Ok(outcome) => Some((self.purpose, outcome)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some((self.purpose, Outcome::Unavailable)),
        }
    }
}

/// Where a new file is saved by default: the user's documents folder
/// (`XDG_DOCUMENTS_DIR`, else `~/Documents` when it exists), else home.
pub(super) fn user_folder() -> Option<std::path::PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let home = std::path::PathBuf::from(home);
    let documents = std::env::var_os("XDG_DOCUMENTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| home.join("Documents"));
    Some(if documents.is_dir() { documents } else { home })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_empty_answer_means_no_dialog_appeared() {
        assert_eq!(
            classify(None, Duration::from_millis(20)),
            Outcome::Unavailable
        );
        assert_eq!(classify(None, Duration::from_secs(3)), Outcome::Cancelled);
        assert_eq!(
            classify(Some("a.img".into()), Duration::from_millis(1)),
            Outcome::Chosen("a.img".into())
        );
    }

    #[test]
    fn the_image_filter_is_sources_one_list() {
        assert_eq!(image_filter(), crate::source::image_name_endings());
        for ending in ["zstd", "hddimg", "rpi-sdimg"] {
            assert!(image_filter().contains(&ending), "{ending}");
        }
    }
}

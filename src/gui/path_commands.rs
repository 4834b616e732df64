//! The typed-path field's commands: a path typed instead of chosen in a
//! file dialog, checked as it is submitted.

use std::path::PathBuf;

use super::app::ImprintApp;
use super::app_state::{ImageSlot, PathEntry};
use super::file_dialog::Purpose;

impl ImprintApp {
    pub(super) fn type_path(&mut self, purpose: Purpose) {
        self.state.reveal_config |= purpose == Purpose::Config;
        self.state.path_entry = Some(PathEntry {
            purpose,
            text: self.path_entry_start(purpose),
            no_dialog: false,
            focus: true,
            select: false,
            error: None,
        });
    }

    /// Stops waiting for the image being opened (a link whose server never
    /// answers): its probe thread ends on its own and its answer is dropped
    /// with the channel. A link goes back into its field, selected.
    pub(super) fn cancel_opening(&mut self) {
        let ImageSlot::Opening { path } = &self.state.image else {
            return;
        };
        let path = path.clone();
        self.image_rx = None;
        self.state.image = ImageSlot::Empty;
        if crate::source::is_url(&path) {
            self.link_back_in_field(&path, None);
        }
    }

    /// The link in the typed-path field again, focused and selected, with
    /// why it was not taken when there is a reason to show there.
    pub(super) fn link_back_in_field(&mut self, link: &std::path::Path, error: Option<String>) {
        self.state.path_entry = Some(PathEntry {
            purpose: Purpose::Url,
            text: link.display().to_string(),
            no_dialog: false,
            focus: true,
            select: true,
            error,
        });
    }

    pub(super) fn edit_path(&mut self, text: String) {
        let start = self
            .state
            .path_entry
            .as_ref()
            .map(|e| self.path_entry_start(e.purpose));
        if let Some(entry) = &mut self.state.path_entry {
            entry.text = replace_prefill(start.as_deref().unwrap_or(""), &entry.text, text);
            entry.error = None;
        }
    }

    pub(super) fn submit_path(&mut self, ctx: &egui::Context) {
        let Some(entry) = &mut self.state.path_entry else {
            return;
        };
        let Some(path) = typed_path(&entry.text) else {
            return;
        };
        // Said at once, beside the field, rather than after Flash!.
        if let Some(error) = path_problem(entry.purpose, &path) {
            entry.error = Some(error.to_string());
            return;
        }
        let purpose = entry.purpose;
        self.use_path(purpose, path, ctx);
    }

    pub(super) fn close_path_entry(&mut self) {
        self.state.path_entry = None;
    }
}

/// The field's new text: a full path pasted after the pre-filled folder
/// replaces the folder (else "/home/you/Downloads//tmp/os.img" would be
/// opened), anything else is kept as typed.
fn replace_prefill(prefill: &str, before: &str, after: String) -> String {
    if prefill.is_empty() || before != prefill {
        return after;
    }
    match after.strip_prefix(prefill) {
        Some(pasted)
            if pasted
                .trim()
                .trim_start_matches(['"', '\''])
                .starts_with(['/', '~']) =>
        {
            pasted.trim().to_string()
        }
        _ => after,
    }
}

/// A typed path as the user means it: trimmed, quotes a file manager's
/// "copy path" adds removed, `~/` in the home folder; `None` when empty.
fn typed_path(text: &str) -> Option<PathBuf> {
    let text = text.trim().trim_matches(['"', '\'']);
    if text.is_empty() {
        return None;
    }
    if let Some(rest) = text.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return Some(PathBuf::from(home).join(rest));
    }
    Some(PathBuf::from(text))
}

/// Why a typed path cannot be used for `purpose`, if it cannot.
fn path_problem(purpose: Purpose, path: &std::path::Path) -> Option<&'static str> {
    match purpose {
        Purpose::Url if !crate::source::is_url(path) => {
            Some("Enter a link that starts with http:// or https://.")
        }
        Purpose::Url => None,
        Purpose::Image | Purpose::Config if !path.exists() => Some("No file at this path."),
        Purpose::Image | Purpose::Config if path.is_dir() => {
            Some("This is a folder: type the path of a file in it.")
        }
        Purpose::FileTarget if super::file_target::name_reason(path).is_some() => {
            super::file_target::name_reason(path)
        }
        Purpose::FileTarget if path.is_dir() => {
            Some("This is a folder: add the name of the image file to write.")
        }
        Purpose::FileTarget
            if !path
                .parent()
                .is_some_and(|p| p.as_os_str().is_empty() || p.is_dir()) =>
        {
            Some("This folder does not exist.")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_full_path_replaces_the_prefilled_folder() {
        let folder = "/home/you/Downloads/";
        let pasted = |p: &str| replace_prefill(folder, folder, format!("{folder}{p}"));
        assert_eq!(pasted("/tmp/os.img"), "/tmp/os.img");
        assert_eq!(pasted(" '/tmp/a b.img' "), "'/tmp/a b.img'");
        assert_eq!(pasted("~/os.img"), "~/os.img");
        // A name typed in the folder stays in it.
        assert_eq!(pasted("os.img"), "/home/you/Downloads/os.img");
        // Once edited, the text is the user's.
        assert_eq!(
            replace_prefill(folder, "/x/", "/x//tmp/a".into()),
            "/x//tmp/a"
        );
    }

    #[test]
    fn typed_paths_are_taken_as_meant() {
        assert_eq!(typed_path("  "), None);
        assert_eq!(
            typed_path(" '/tmp/a b.img' "),
            Some(PathBuf::from("/tmp/a b.img"))
        );
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(
                typed_path("~/x.img"),
                Some(PathBuf::from(home).join("x.img"))
            );
        }
    }
}

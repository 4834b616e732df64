//! What the app remembers between sessions, in
//! `$XDG_CONFIG_HOME/imprint/settings.json` (`~/.config/imprint` without
//! it; `IMPRINT_CONFIG_DIR` overrides both): the last image folder, "Show
//! all drives", the last WiFi network name (never its password), the
//! run options, and the decompressed sizes learned by flashing images whose
//! format records none — so a too-small drive is blocked before it is
//! erased the next time (docs/architecture.md §11 "Sizes").
//!
//! A missing or unreadable file is an empty one, and a failed write is
//! ignored: remembering is a convenience, never a reason to fail.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::run_options::RunOptions;

/// How many learned sizes are kept (the most recent).
const MAX_SIZES: usize = 64;

const FILE_NAME: &str = "settings.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct Settings {
    /// Where the last image was opened from: the image dialog starts there.
    pub image_folder: Option<PathBuf>,
    pub show_all_drives: bool,
    /// The last WiFi network name. The password is deliberately not here:
    /// this file is readable by anything running as the user.
    pub wifi_ssid: String,
    pub options: RunOptions,
    /// Learned decompressed sizes, oldest first.
    pub sizes: Vec<LearnedSize>,
}

/// The decompressed size of one version of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct LearnedSize {
    pub key: FileKey,
    pub bytes: u64,
}

/// A file as it is now: the same path with another size or modification
/// time is another file (a new download), whose size is not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FileKey {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: u128,
}

impl FileKey {
    pub(super) fn of(path: &Path) -> Option<FileKey> {
        let meta = std::fs::metadata(path).ok()?;
        let mtime_ns = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        let path = std::fs::canonicalize(path).ok()?;
        Some(FileKey {
            path,
            size: meta.len(),
            mtime_ns,
        })
    }
}

impl Settings {
    /// The settings in `dir`, or the defaults.
    pub(super) fn load(dir: Option<&Path>) -> Settings {
        dir.and_then(|d| std::fs::read(d.join(FILE_NAME)).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the settings to `dir` (created if missing), replacing the
    /// file in one rename so that a crash never leaves half a file.
    pub(super) fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let temporary = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, dir.join(FILE_NAME))
    }

    /// The size learned for the file at `path`, if it has not changed.
    pub(super) fn learned_size(&self, path: &Path) -> Option<u64> {
        let key = FileKey::of(path)?;
        self.sizes.iter().find(|s| s.key == key).map(|s| s.bytes)
    }

    /// Remembers that the file at `path` decompresses to `bytes`.
    pub(super) fn learn_size(&mut self, path: &Path, bytes: u64) {
        let Some(key) = FileKey::of(path) else {
            return;
        };
        // One entry per path: an older version of the file is stale.
        self.sizes.retain(|s| s.key.path != key.path);
        self.sizes.push(LearnedSize { key, bytes });
        let excess = self.sizes.len().saturating_sub(MAX_SIZES);
        self.sizes.drain(..excess);
    }
}

/// Where settings live: `IMPRINT_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/imprint`, else `~/.config/imprint`.
pub(super) fn default_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("IMPRINT_CONFIG_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(dir).join("imprint"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".config").join("imprint"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learned_size_is_forgotten_when_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("a.img.bz2");
        std::fs::write(&image, b"one").unwrap();
        let mut settings = Settings::default();
        settings.learn_size(&image, 1234);
        settings.save(dir.path()).unwrap();
        let loaded = Settings::load(Some(dir.path()));
        assert_eq!(loaded.learned_size(&image), Some(1234));
        // A new download under the same name.
        std::fs::write(&image, b"other").unwrap();
        assert_eq!(loaded.learned_size(&image), None);
        // A broken file is the defaults, not an error.
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        assert_eq!(Settings::load(Some(dir.path())), Settings::default());
    }

    #[test]
    fn only_the_newest_sizes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        for i in 0..MAX_SIZES + 3 {
            let path = dir.path().join(format!("{i}.gz"));
            std::fs::write(&path, b"x").unwrap();
            settings.learn_size(&path, i as u64);
        }
        assert_eq!(settings.sizes.len(), MAX_SIZES);
        assert_eq!(settings.sizes[0].bytes, 3);
    }
}

//! Finding the bmap beside an image, under either of bmaptool's names.

use std::path::{Path, PathBuf};

/// The bmap beside `image`, if there is one: `os.img.xz.bmap`, then
/// `os.img.bmap` for `os.img.xz` (bmaptool's two names). Only for an image
/// that is a regular file: a device or standard input has no neighbours.
pub(crate) fn beside(image: &Path) -> Option<PathBuf> {
    if !std::fs::metadata(image).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut candidates = vec![with_suffix(image, ".bmap")];
    if let Some(extension) = image.extension().and_then(|e| e.to_str())
        // The compressed forms Imprint reads (`source`'s one list of
        // endings): bmaptool strips these to find `os.img.bmap`.
        && crate::source::compressed_name_endings()
            .any(|ending| ending.eq_ignore_ascii_case(extension))
    {
        candidates.push(with_suffix(&image.with_extension(""), ".bmap"));
    }
    // A bmap that exists but is a folder, a FIFO or unreadable is still
    // found, so that the run is refused naming it rather than silently
    // ignoring it (`check_is_file` looks without opening it).
    candidates.into_iter().find(|c| c.exists())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

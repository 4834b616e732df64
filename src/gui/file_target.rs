//! Image files as targets ("Write to an image file…", a drive's backup):
//! what the app checks so that a file target never surprises. Imprint
//! writes an image file raw, so a name that promises compression (`.xz`,
//! `.gz`, `.zst`…) is refused with the reason rather than written raw under
//! a compressed name; the free space is checked before anything is erased
//! when the image's size is known; and a new file left behind by a failed
//! or stopped run is removed, so no partial image looks like a good one.

use std::path::{Path, PathBuf};

use super::message::Problem;
use super::state::FlashRun;
use crate::humanize;

/// Endings that name a compressed file (or an archive).
const COMPRESSED_ENDINGS: &[&str] = &["xz", "gz", "zst", "bz2", "zip", "7z", "lz4", "lzma"];

/// The compressed ending `path` has, such as "xz".
fn compressed_ending(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    COMPRESSED_ENDINGS.iter().copied().find(|e| *e == ext)
}

/// Why `path` cannot be an image file to write, if it cannot: a name that
/// says the file is compressed. Short, for the typed-path field.
pub(super) fn name_reason(path: &Path) -> Option<&'static str> {
    compressed_ending(path).map(|_| {
        "Imprint writes image files uncompressed: end the name with .img, or compress the \
         file afterwards."
    })
}

/// The same as a notice, naming the file.
pub(super) fn name_problem(path: &Path) -> Option<Problem> {
    let ending = compressed_ending(path)?;
    let name = path.file_name()?.to_string_lossy();
    let plain = name
        .strip_suffix(&format!(".{ending}"))
        .unwrap_or(&name)
        .to_string();
    Some(Problem::new(
        format!("{name} would not be a .{ending} file."),
        format!(
            "Imprint writes image files uncompressed. Name it {plain}, or compress it afterwards \
             (for example with xz or gzip)."
        ),
    ))
}

/// Whether the filesystem holding `path` has room for `image_bytes` (what
/// the file already holds is given back when it is replaced).
pub(super) fn space_problem(path: &Path, image_bytes: u64) -> Option<Problem> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let free = crate::platform::free_space_bytes(folder).ok()?;
    let existing = std::fs::metadata(path).map_or(0, |m| m.len());
    let needed = image_bytes.saturating_sub(existing);
    (free < needed).then(|| {
        Problem::new(
            format!(
                "There is not enough free space for {}.",
                path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into()
                )
            ),
            format!(
                "The image needs {}; {} is free in {}. Nothing was written: free some space, or \
                 choose another folder.",
                humanize::bytes(needed),
                humanize::bytes(free),
                folder.display()
            ),
        )
    })
}

/// The image files among `targets` that do not exist yet: created by the
/// run, so removed again if it does not finish them.
pub(super) fn new_files(targets: &[PathBuf], is_file: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    targets
        .iter()
        .filter(|t| is_file(t) && !t.exists())
        .cloned()
        .collect()
}

/// Removes each of `created` that `run` did not write whole.
pub(super) fn remove_unfinished(run: &FlashRun, created: &[PathBuf]) {
    for target in &run.targets {
        let finished = matches!(target.progress.result, Some(Ok(())));
        if !finished && created.contains(&target.path) {
            // Best effort: a file that cannot be removed is named in the
            // result as failed anyway.
            let _ = std::fs::remove_file(&target.path);
        }
    }
}

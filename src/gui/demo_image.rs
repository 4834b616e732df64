//! The built-in demo image: an 8 MiB balenaOS-shaped disk image, xz
//! compressed to 3 KB (assets/make-demo-image.sh), so that the app can be
//! tried without downloading anything. It is written to a per-user folder
//! in the temporary directory and then opened like any picked file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The compressed demo image.
pub(super) const DEMO_IMAGE_XZ: &[u8] = include_bytes!("../../assets/demo.img.xz");

/// The name the demo image has on disk (and in the image card).
pub(super) const FILE_NAME: &str = "demo.img.xz";

/// Writes the demo image to `$TMPDIR/imprint-demo-UID/demo.img.xz` (unless
/// it is already there, unchanged) and returns its path.
pub(super) fn write() -> Result<PathBuf, String> {
    let uid = crate::platform::user_id();
    let dir = std::env::temp_dir().join(format!("imprint-demo-{uid}"));
    write_to(&dir).map_err(|e| {
        format!(
            "The demo image could not be written to {}: {e}",
            dir.display()
        )
    })
}

/// Writes the demo image into `dir`, a folder of this user only (created
/// if missing), and returns its path.
fn write_to(dir: &Path) -> io::Result<PathBuf> {
    crate::platform::private_dir(dir)?;
    let path = dir.join(FILE_NAME);
    if fs::read(&path).is_ok_and(|bytes| bytes == DEMO_IMAGE_XZ) {
        return Ok(path);
    }
    // Written under another name, then renamed: another Imprint reading
    // the image meanwhile never sees half of it.
    let partial = dir.join(format!(".{FILE_NAME}.{}", std::process::id()));
    fs::write(&partial, DEMO_IMAGE_XZ)?;
    fs::rename(&partial, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_image_is_written_once_and_repaired_when_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("imprint-demo");
        let path = write_to(&dir).unwrap();
        assert_eq!(path, dir.join("demo.img.xz"));
        assert_eq!(fs::read(&path).unwrap(), DEMO_IMAGE_XZ);
        fs::write(&path, b"changed").unwrap();
        assert_eq!(write_to(&dir).unwrap(), path);
        assert_eq!(fs::read(&path).unwrap(), DEMO_IMAGE_XZ);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no leftovers");
    }

    #[test]
    fn a_folder_that_is_not_private_is_not_used() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("imprint-demo");
        std::fs::write(&dir, b"a file where the folder should be").unwrap();
        assert!(write_to(&dir).is_err());
    }

    #[test]
    fn the_embedded_image_is_xz() {
        assert!(DEMO_IMAGE_XZ.starts_with(b"\xfd7zXZ\x00"));
    }
}

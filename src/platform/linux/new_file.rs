//! Creating a file that must not exist yet, readable by its owner alone
//! when it holds a secret (a signing key).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Creates `path`, failing when anything is there already (a symlink too);
/// `private`: mode 0600 from the start, never briefly readable by others.
pub fn create_new_file(path: &Path, private: bool) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(path)
}

//! Files Imprint creates that must not exist yet (a key pair, a record), on
//! Windows.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates `path`, which must not exist. Windows has no mode bits: a new
/// file takes the folder's access list, and a user's profile folders are
/// private to that user already, so `private` asks nothing more here (a
/// secret key belongs in such a folder; README says so).
pub fn create_new_file(path: &Path, private: bool) -> io::Result<File> {
    let _ = private;
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// The port a drive hangs on, as Linux's `/dev/disk/by-path` names it:
/// Windows has no such stable name to give, so records leave it out.
pub fn reader_port(device: &Path) -> Option<String> {
    let _ = device;
    None
}

//! Reading a small file the user names (a config.json) into memory, with a
//! size limit: a path may name `/dev/zero`, a huge file, or a pipe that
//! never ends, and none of them may make Imprint use memory without bound.
//!
//! Regular files and FIFOs (`--config <(…)`, process substitution) are
//! read; anything else — a character or block device, a socket, a
//! directory — is refused with a message that says what it is.

use std::io::{self, Read};
use std::path::Path;

use crate::platform::{UserOpen, open_as_user};

/// Reads the whole file at `path`, refusing one longer than `limit_bytes`
/// or one that is not a regular file or a FIFO. The error is a sentence
/// about the file, to follow "cannot read PATH: ".
pub(crate) fn read_user_file(path: &Path, limit_bytes: u64) -> io::Result<Vec<u8>> {
    // As the user: an elevated helper never reads for them what they may
    // not (docs/architecture.md §3).
    let file = open_as_user(path, UserOpen::Read)?;
    // The type of what was opened, not of the path: it cannot change in
    // between.
    let metadata = file.metadata()?;
    if let Some(what) = not_a_file(&metadata) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a file"),
        ));
    }
    let mut contents = Vec::new();
    // One byte more than the limit tells "exactly at the limit" from "over".
    file.take(limit_bytes.saturating_add(1))
        .read_to_end(&mut contents)?;
    if contents.len() as u64 > limit_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is larger than {} bytes, too large for this kind of file",
                limit_bytes
            ),
        ));
    }
    Ok(contents)
}

/// What `metadata`'s file is, when it is neither a regular file nor a FIFO.
fn not_a_file(metadata: &std::fs::Metadata) -> Option<&'static str> {
    use crate::platform::{NodeKind, node_kind};
    match node_kind(metadata) {
        NodeKind::File | NodeKind::Pipe => None,
        NodeKind::Dir => Some("a directory"),
        NodeKind::CharDevice => Some("a character device"),
        NodeKind::BlockDevice => Some("a block device"),
        NodeKind::Socket => Some("a socket"),
        NodeKind::Other => Some("not a regular file"),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn reads_a_file_up_to_the_limit() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"0123456789").unwrap();
        assert_eq!(read_user_file(file.path(), 10).unwrap(), b"0123456789");
        let err = read_user_file(file.path(), 9).unwrap_err();
        assert!(err.to_string().contains("larger than 9 bytes"), "{err}");
    }

    #[test]
    fn refuses_devices_and_directories() {
        let err = read_user_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(err.to_string(), "it is a character device, not a file");
        let dir = tempfile::tempdir().unwrap();
        let err = read_user_file(dir.path(), 1 << 20).unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
    }

    #[test]
    fn reads_a_fifo_and_bounds_an_endless_one() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let writer_path = fifo.clone();
        // Writes until the reader goes away: an endless pipe.
        let writer = std::thread::Builder::new()
            .name("test/fifo-writer".into())
            .spawn(move || {
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .open(writer_path)
                    .unwrap();
                while out.write_all(&[b'x'; 4096]).is_ok() {}
            })
            .unwrap();
        let err = read_user_file(&fifo, 100_000).unwrap_err();
        assert!(err.to_string().contains("larger than 100000"), "{err}");
        writer.join().unwrap();
    }
}

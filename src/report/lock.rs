//! The exclusive lock a run holds on its `--report` file (and its `--each`
//! CSV) from before it reads them until it ends: two runs sharing a report
//! take turns, so the second reads every row the first claimed and never
//! hands one out again (docs/architecture.md §10).

use std::fs::File;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::platform::{FileLock, lock_file};

/// How often a waiting run tries the lock again.
const RETRY: Duration = Duration::from_millis(200);

/// Takes an exclusive lock on `file` (the file at `path`, which is
/// `what`), waiting while another run holds it: a station started second
/// waits for the first rather than failing. Says once on stderr that it
/// waits; before a run writes, Ctrl-C ends the wait (and the process).
pub(crate) fn lock_exclusive(file: &File, path: &Path, what: &str) -> io::Result<()> {
    let mut said = false;
    while !lock_file(file, FileLock::Exclusive)? {
        if !said {
            eprintln!(
                "imprint: waiting for {what} {}: another imprint run is using it (it is locked until that run ends; Ctrl-C stops waiting)",
                path.display()
            );
            said = true;
        }
        std::thread::sleep(RETRY);
    }
    Ok(())
}

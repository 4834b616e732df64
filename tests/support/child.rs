//! Driving a running `imprint`: signals, a bounded wait, and the named
//! pipes the stream tests feed it through.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Makes a named pipe at `path`.
pub fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo");
}

/// Sends signal `number` to `child`.
pub fn signal(child: &Child, number: libc::c_int) {
    let rc = super::sys::kill(child.id(), number);
    assert_eq!(rc, 0, "send signal {number}");
}

/// Waits for `child` to exit and returns how long it took; kills it and
/// panics after `limit`.
pub fn wait_at_most(child: &mut Child, limit: Duration) -> Duration {
    let since = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return since.elapsed();
        }
        if since.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("imprint did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

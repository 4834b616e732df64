//! Block I/O throttling for one child process, as a slow card would be: a
//! cgroup of its own (v2 `io.max`, else v1 `blkio.throttle.*`, as
//! benches/sparse-sd.sh does) that limits writes to chosen devices. Direct
//! I/O is throttled; the page cache is not. The cgroup is removed on Drop.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub struct Throttle {
    dir: PathBuf,
}

impl Throttle {
    /// A cgroup whose processes write each `(device, bytes_per_second)` at
    /// that speed at most; `None` when this kernel offers no block I/O
    /// throttling (the caller skips).
    pub fn new(limits: &[(&Path, u64)]) -> Option<Throttle> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "imprint-test.{}.{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let dir = if v2 {
            // The io controller must be on for the root's children.
            let _ = fs::write("/sys/fs/cgroup/cgroup.subtree_control", "+io");
            Path::new("/sys/fs/cgroup").join(name)
        } else {
            Path::new("/sys/fs/cgroup/blkio").join(name)
        };
        fs::create_dir(&dir).ok()?;
        let throttle = Throttle { dir };
        for (device, bps) in limits {
            let rdev = fs::metadata(device).expect("stat a loop device").rdev();
            let (major, minor) = (libc::major(rdev), libc::minor(rdev));
            let written = if v2 {
                fs::write(
                    throttle.dir.join("io.max"),
                    format!("{major}:{minor} wbps={bps}"),
                )
            } else {
                fs::write(
                    throttle.dir.join("blkio.throttle.write_bps_device"),
                    format!("{major}:{minor} {bps}"),
                )
            };
            written.ok()?;
        }
        Some(throttle)
    }

    /// A command that runs `program` inside the cgroup: a shell joins it,
    /// then becomes `program` (same process, so the limits hold from its
    /// first instruction).
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#"echo $$ > "$0" && exec "$@""#)
            .arg(self.dir.join("cgroup.procs"))
            .arg(program);
        command
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        // A cgroup can be removed once its last process has been reaped,
        // which the kernel notes a moment after the exit.
        for _ in 0..50 {
            if fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

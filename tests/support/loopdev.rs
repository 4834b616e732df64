//! Loop devices on files in a temporary directory, for tests on real block
//! devices. Every attach holds a global file lock (shared by all test
//! processes, since nextest runs each test in its own process) and detaches
//! on Drop, so a failing test never leaves a device behind.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Serialises loop-device tests across processes: `flock` on a file in /tmp.
pub struct LoopLock {
    _file: File,
}

impl LoopLock {
    pub fn acquire() -> LoopLock {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open("/tmp/imprint-tests-loop.lock")
            .expect("open the loop-device test lock");
        let rc = super::sys::flock(&file, libc::LOCK_EX);
        assert_eq!(rc, 0, "flock the loop-device test lock");
        LoopLock { _file: file }
    }
}

/// A loop device attached to a backing file; detached on Drop.
pub struct LoopDevice {
    pub device: PathBuf,
    pub backing: PathBuf,
}

impl LoopDevice {
    /// Creates `backing` with `size` bytes filled with `fill` and attaches it.
    pub fn create(backing: &Path, size: u64, fill: u8) -> LoopDevice {
        let chunk = vec![fill; 1 << 20];
        let mut file = File::create(backing).expect("create loop backing file");
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            std::io::Write::write_all(&mut file, &chunk[..n]).expect("fill backing file");
            left -= n as u64;
        }
        drop(file);
        LoopDevice::attach(backing, false)
    }

    /// Creates `backing` holding exactly `contents` and attaches it.
    pub fn create_with(backing: &Path, contents: &[u8]) -> LoopDevice {
        fs::write(backing, contents).expect("write loop backing file");
        LoopDevice::attach(backing, false)
    }

    /// Attaches an existing file (`read_only` attaches with `losetup -r`).
    pub fn attach(backing: &Path, read_only: bool) -> LoopDevice {
        let mut cmd = Command::new("losetup");
        if read_only {
            cmd.arg("-r");
        }
        let out = cmd
            .args(["-f", "--show"])
            .arg(backing)
            .output()
            .expect("run losetup");
        assert!(
            out.status.success(),
            "losetup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let device = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
        LoopDevice {
            device,
            backing: backing.to_path_buf(),
        }
    }

    /// The backing file's bytes (what the device holds).
    pub fn contents(&self) -> Vec<u8> {
        fs::read(&self.backing).expect("read loop backing file")
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.device).status();
    }
}

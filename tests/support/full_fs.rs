//! A filesystem with no room left: a tmpfs of 64 KiB, filled up but for
//! one empty file. Opening that file for appending works; writing a line
//! to it does not (ENOSPC) — a report that cannot be written mid-run.
//! Needs root (mount); unmounted on drop.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct FullFilesystem {
    pub mount: PathBuf,
    /// The empty file that cannot grow.
    pub file: PathBuf,
}

impl FullFilesystem {
    /// Mounts it at `dir/full`, with the empty file `name` in it.
    pub fn new(dir: &Path, name: &str) -> FullFilesystem {
        let mount = dir.join("full");
        fs::create_dir(&mount).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(&mount)
            .status()
            .unwrap();
        assert!(status.success(), "mount a tmpfs");
        let file = mount.join(name);
        fs::File::create(&file).unwrap();
        let filler = vec![0x55u8; 4096];
        let mut filling = fs::File::create(mount.join("filler")).unwrap();
        while filling.write_all(&filler).is_ok() {}
        FullFilesystem { mount, file }
    }
}

impl Drop for FullFilesystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mount).status();
    }
}

//! An image whose bmap lies: `test.img` (the fixture, decompressed) with a
//! `test.img.bmap` beside it made by `bmaptool create`, after which one
//! byte of a mapped block changed — the bmap's range checksum no longer
//! holds. Every path that flashes it must read the bmap and fail the
//! drive (issue 16: a bmap beside the image means the same everywhere).

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `dir/test.img` and its lying `dir/test.img.bmap`; the image's path.
pub fn image_with_lying_bmap(dir: &Path) -> PathBuf {
    let out = Command::new("xz")
        .arg("-dc")
        .arg(super::fixture("test.img.xz"))
        .output()
        .expect("run xz");
    assert!(out.status.success(), "xz -dc failed");
    let image = dir.join("test.img");
    std::fs::write(&image, &out.stdout).unwrap();
    let bmap = dir.join("test.img.bmap");
    let status = Command::new("bmaptool")
        .arg("create")
        .arg("-o")
        .arg(&bmap)
        .arg(&image)
        .status()
        .expect("run bmaptool");
    assert!(status.success(), "bmaptool create failed");
    // Byte 10 is MBR boot code: block 0 is mapped (the partition table is
    // in it), and no table or filesystem reads this byte.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&image)
        .unwrap();
    file.write_all_at(&[out.stdout[10] ^ 0x55], 10).unwrap();
    image
}

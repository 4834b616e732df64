//! An image whose length is not a multiple of the sector size is written
//! exactly: the drive's bytes after the image's end keep their old value,
//! although block devices are written with O_DIRECT in whole blocks.

use std::path::Path;

use crate::require_root;
use crate::support::flashing::{
    ExpectedImage, PatternedDrive, assert_exit, compress, devices, flash,
};
use crate::support::loopdev::LoopLock;
use crate::support::pseudo_random_bytes;

const IMAGE_BYTES: usize = (5 << 20) + 777;
const OLD_BYTE: u8 = 0xAB;

fn flash_odd_sized_image(image: &Path, bytes: Vec<u8>) {
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let drives: Vec<_> = (0..3)
        .map(|i| PatternedDrive::filled(dir.path(), &format!("d{i}.bin"), 8 << 20, OLD_BYTE))
        .collect();
    let output = flash(image, &devices(&drives), &[]);
    assert_exit(&output, 0);
    let expected = ExpectedImage::from_bytes(bytes);
    for drive in &drives {
        let now = drive.loop_device.contents();
        assert_eq!(
            now[IMAGE_BYTES],
            OLD_BYTE,
            "{}: the byte right after the image",
            drive.name()
        );
        assert_ne!(
            now[IMAGE_BYTES - 1],
            OLD_BYTE,
            "the image's last byte is not 0xAB (else the test proves nothing)"
        );
        drive.assert_holds(&expected);
    }
}

#[test]
fn raw_image_of_5_mib_plus_777_bytes_leaves_the_next_byte_alone() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = pseudo_random_bytes(IMAGE_BYTES, 777);
    bytes[IMAGE_BYTES - 1] = 0x11;
    let image = dir.path().join("odd.img");
    std::fs::write(&image, &bytes).unwrap();
    flash_odd_sized_image(&image, bytes);
}

#[test]
fn xz_image_of_5_mib_plus_777_bytes_leaves_the_next_byte_alone() {
    require_root!();
    let dir = tempfile::tempdir().unwrap();
    // Half zeros, half random: compresses, and still has content to check.
    let mut bytes = vec![0u8; IMAGE_BYTES / 2];
    bytes.extend(pseudo_random_bytes(IMAGE_BYTES - bytes.len(), 778));
    bytes[IMAGE_BYTES - 1] = 0x11;
    let raw = dir.path().join("odd.img");
    std::fs::write(&raw, &bytes).unwrap();
    let xz = compress("xz", &raw, ".xz");
    std::fs::remove_file(&raw).unwrap();
    flash_odd_sized_image(&xz, bytes);
}

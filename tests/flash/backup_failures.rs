//! `imprint backup` refusing and failing: a mounted drive (exit 2, nothing
//! created), an unknown filesystem (copied whole, and said), a read error
//! mid-way (the FUSE fault device: exit 1, the partial file removed), a
//! full output disk (exit 1, the partial file removed; a raw image that
//! cannot fit refused first, exit 2).

use std::fs;
use std::path::{Path, PathBuf};

use super::holds_image::{attach_partitioned, in_private_mounts, partition, wait_for_node};
use crate::require_root;
use crate::support::faultdev::{Fault, FaultDevice};
use crate::support::flashing::{assert_exit, describe, json_events, stderr};
use crate::support::full_fs::FullFilesystem;
use crate::support::loopdev::{LoopDevice, LoopLock};
use crate::support::{imprint, pseudo_random_bytes};

const MIB: usize = 1 << 20;

fn no_files_left(out: &Path) {
    for suffix in ["", ".bmap", ".sha256"] {
        let mut name = out.as_os_str().to_owned();
        name.push(suffix);
        assert!(!PathBuf::from(&name).exists(), "{name:?} was left behind");
    }
}

/// An MBR drive with one partition of an unknown type full of random bytes.
fn unknown_filesystem_drive(len: usize) -> Vec<u8> {
    let mut image = pseudo_random_bytes(len, 0xB0);
    image[..512].fill(0);
    image[446 + 4] = 0xda;
    image[446 + 8..446 + 12].copy_from_slice(&((MIB / 512) as u32).to_le_bytes());
    image[446 + 12..446 + 16].copy_from_slice(&(((len - MIB) / 512) as u32).to_le_bytes());
    image[510] = 0x55;
    image[511] = 0xAA;
    image
}

#[test]
fn a_mounted_drive_is_refused_and_nothing_is_created() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("source.bin");
    fs::write(&backing, pseudo_random_bytes(12 << 20, 0xB1)).unwrap();
    partition(&backing, "label: dos\nstart=2048, size=16384, type=83\n");
    let source = attach_partitioned(&backing);
    let p1 = PathBuf::from(format!("{}p1", source.device.display()));
    wait_for_node(&p1);
    let mount_point = dir.path().join("mnt");
    fs::create_dir(&mount_point).unwrap();
    let out = dir.path().join("b.img.zst");
    let script = r#"
        mkfs.ext4 -q -F "$P1" >/dev/null 2>&1 || exit 99
        mount -o ro "$P1" "$MNT" || exit 99
        "$IMPRINT" backup "$SOURCE" -o "$OUT"
    "#;
    let env = [
        ("P1", p1.as_path()),
        ("MNT", mount_point.as_path()),
        ("SOURCE", source.device.as_path()),
        ("OUT", out.as_path()),
    ];
    let output = in_private_mounts(script, &env);
    assert_exit(&output, 2);
    let said = stderr(&output);
    assert!(
        said.contains("mounted") && said.contains(&mount_point.display().to_string()),
        "{}",
        describe(&output)
    );
    no_files_left(&out);
}

#[test]
fn an_unknown_filesystem_is_copied_whole_and_said() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = unknown_filesystem_drive(8 * MIB);
    let source = LoopDevice::create_with(&dir.path().join("source.bin"), &image);
    let out = dir.path().join("b.img.gz");
    let output = imprint()
        .arg("backup")
        .arg(&source.device)
        .arg("-o")
        .arg(&out)
        .arg("--json")
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let events = json_events(&output);
    let warnings = events[0]["warnings"].to_string();
    assert!(warnings.contains("copied whole"), "{}", describe(&output));
    assert_eq!(events[0]["mapped_bytes"].as_u64(), Some(8 * MIB as u64));
    let restored = crate::support::flashing::tool_output("gzip", &["-dc"], &out);
    assert!(restored == image, "the unknown partition differs");
}

#[test]
fn a_read_error_mid_way_fails_exit_1_and_removes_the_partial_file() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let device = FaultDevice::new(
        unknown_filesystem_drive(16 * MIB),
        Fault::ReadError { at: 9 * MIB as u64 },
    );
    let out = dir.path().join("b.img.zst");
    let output = imprint()
        .arg("backup")
        .arg(device.device())
        .arg("-o")
        .arg(&out)
        .arg("--json")
        .output()
        .unwrap();
    assert_exit(&output, 1);
    let events = json_events(&output);
    let done = events
        .iter()
        .find(|e| e["event"] == "target_done")
        .expect("a target_done");
    assert_eq!(done["outcome"], "failed", "{}", describe(&output));
    assert_eq!(done["kind"], "source");
    let offset = done["offset"].as_u64().unwrap();
    assert!(
        offset <= 9 * MIB as u64 && offset + (4 * MIB as u64) > 9 * MIB as u64,
        "{offset}"
    );
    assert!(
        stderr(&output).contains("partial backup was removed"),
        "{}",
        describe(&output)
    );
    no_files_left(&out);
}

#[test]
fn a_full_output_disk_fails_exit_1_and_removes_the_partial_file() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let source = LoopDevice::create_with(
        &dir.path().join("source.bin"),
        &unknown_filesystem_drive(8 * MIB),
    );
    let full = FullFilesystem::new(dir.path(), "other");
    let out = full.mount.join("b.img.zst");
    let output = imprint()
        .arg("backup")
        .arg(&source.device)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_exit(&output, 1);
    let said = stderr(&output);
    assert!(
        said.contains("full") && said.contains("partial backup was removed"),
        "{}",
        describe(&output)
    );
    no_files_left(&out);
    // A raw image, whose size is known, is refused before it is begun.
    let raw = full.mount.join("b.img");
    let output = imprint()
        .arg("backup")
        .arg(&source.device)
        .arg("-o")
        .arg(&raw)
        .output()
        .unwrap();
    assert_exit(&output, 2);
    no_files_left(&raw);
}

//! The partition table last, seen from outside with `wipefs` (util-linux)
//! as the oracle: a drive that held a GPT — its backup header in its last
//! sector — and is flashed with a smaller MBR image keeps no trace of that
//! GPT, so no tool offers to "recover" it over the new image.

use std::path::Path;
use std::process::Command;

use crate::require_root;
use crate::support::flashing::{ExpectedImage, PatternedDrive, assert_exit, flash_sparse};
use crate::support::loopdev::LoopLock;

/// `wipefs --no-act --parsable`: the signatures on `target`, as
/// (offset, type).
fn signatures(target: &Path) -> Vec<(u64, String)> {
    let out = Command::new("wipefs")
        .args(["-n", "-p"])
        .arg(target)
        .output()
        .expect("run wipefs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut fields = l.split(',');
            let offset = u64::from_str_radix(fields.next()?.trim_start_matches("0x"), 16).ok()?;
            Some((offset, fields.nth(2)?.to_string()))
        })
        .collect()
}

fn sfdisk(target: &Path, script: &str) {
    let mut child = Command::new("sfdisk")
        .arg("-q")
        .arg(target)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("run sfdisk");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "sfdisk {script}");
}

#[test]
fn a_stale_backup_gpt_at_the_drives_end_does_not_survive_a_flash() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image_path = dir.path().join("mbr.img");
    std::fs::write(&image_path, vec![0u8; 16 << 20]).unwrap();
    sfdisk(&image_path, "label: dos\n,8M\n");
    let image = std::fs::read(&image_path).unwrap();
    let drive = PatternedDrive::filled(dir.path(), "drive.bin", 64 << 20, 0);
    sfdisk(drive.device(), "label: gpt\n,8M\n");
    let before = signatures(drive.device());
    assert!(
        before.contains(&((64 << 20) - 512, "gpt".to_string())),
        "the drive has a backup GPT at its end: {before:?}"
    );

    let output = flash_sparse(&image_path, &[drive.device()], &["--json"]);

    assert_exit(&output, 0);
    let after = signatures(drive.device());
    assert_eq!(
        after,
        vec![(0x1fe, "dos".to_string())],
        "only the image's MBR"
    );
    let now = drive.loop_device.contents();
    ExpectedImage::from_bytes(image).assert_is(&now[..16 << 20], &drive.name());
}

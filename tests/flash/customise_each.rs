//! Customisation per drive and from every kind of source: an `--each` CSV's
//! `hostname` column and `{n}` on a non-balena image, a compressed image
//! through a pipe, `--format` for an image that cannot be told.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::require_root;
use crate::support::custom_images::{self as ci, boot_file};
use crate::support::flashing::{PatternedDrive, assert_exit, devices, events, flash, json_events};
use crate::support::loopdev::LoopLock;

fn drives(dir: &Path, image: &Path, count: u64) -> Vec<PatternedDrive> {
    let len = fs::metadata(image).unwrap().len() as usize;
    (0..count)
        .map(|i| PatternedDrive::create(dir, &format!("d{i}.bin"), len + (1 << 20), 50 + i))
        .collect()
}

fn hostname_line(drive: &PatternedDrive) -> String {
    let script = boot_file(&drive.loop_device.backing, "firstrun.sh");
    script
        .lines()
        .find(|l| l.contains("set_hostname"))
        .unwrap_or_else(|| panic!("no hostname in {script}"))
        .trim()
        .to_string()
}

#[test]
fn each_row_gives_its_drive_a_hostname_on_raspberry_pi_os() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = ci::make(dir.path(), "rpios-bookworm");
    let drives = drives(dir.path(), &image, 2);
    let csv = dir.path().join("rows.csv");
    fs::write(&csv, "hostname\nalpha\nbeta-{n}\n").unwrap();
    let (key, _) = ci::inputs(dir.path());
    let out = flash(
        &image,
        &devices(&drives),
        &[
            "--json",
            "--each",
            &csv.display().to_string(),
            "--user",
            "u",
            "--ssh-key",
            &key.display().to_string(),
        ],
    );
    assert_exit(&out, 0);
    assert_eq!(
        drives.iter().map(hostname_line).collect::<Vec<_>>(),
        [
            "/usr/lib/raspberrypi-sys-mods/imager_custom set_hostname 'alpha'",
            "/usr/lib/raspberrypi-sys-mods/imager_custom set_hostname 'beta-2'",
        ]
    );
}

#[test]
fn a_numbered_hostname_on_a_cloud_init_image() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = ci::make(dir.path(), "ubuntu");
    let drives = drives(dir.path(), &image, 2);
    let out = flash(
        &image,
        &devices(&drives),
        &["--json", "--hostname", "node-{n}"],
    );
    assert_exit(&out, 0);
    for (i, drive) in drives.iter().enumerate() {
        let user_data = boot_file(&drive.loop_device.backing, "user-data");
        assert!(
            user_data.contains(&format!("hostname: \"node-{}\"\n", i + 1)),
            "{user_data}"
        );
        ci::assert_cloud_config_valid(dir.path(), &user_data);
    }
}

#[test]
fn a_compressed_image_through_a_pipe_is_detected_and_customised() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = ci::make(dir.path(), "rpios-trixie");
    let raw = fs::read(&image).unwrap();
    let drives = drives(dir.path(), &image, 1);
    let xz = Command::new("xz")
        .args(["-c", "-T1"])
        .arg(&image)
        .output()
        .unwrap()
        .stdout;
    let mut child = crate::support::imprint()
        .args(["flash", "-", "-t"])
        .arg(drives[0].device())
        .args([
            "--yes",
            "--full",
            "--json",
            "--hostname",
            "piped",
            "--wifi-country",
            "GB",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::Builder::new()
        .name("feed-xz".into())
        .spawn(move || stdin.write_all(&xz))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert_exit(&out, 0);
    let all = json_events(&out);
    assert_eq!(
        events(&all, "start")[0]["customisation"]["format"],
        "cloudinit-rpi"
    );
    let user_data = boot_file(&drives[0].loop_device.backing, "user-data");
    assert!(
        user_data.contains("hostname: \"piped\"\n")
            && user_data.contains("- [ rfkill, unblock, wifi ]"),
        "{user_data}"
    );
    ci::assert_fsck_fat(&drives[0].loop_device.contents(), "piped");
    let now = drives[0].loop_device.contents();
    let end = (ci::BOOT_OFFSET + ci::BOOT_SIZE) as usize;
    assert!(
        now[end..raw.len()] == raw[end..],
        "the root file system is the image's"
    );
}

#[test]
fn format_names_the_way_for_an_image_that_cannot_be_told() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let image = ci::make(dir.path(), "unknown");
    let drives = drives(dir.path(), &image, 1);
    let out = flash(
        &image,
        &devices(&drives),
        &["--json", "--hostname", "h", "--format", "cloudinit"],
    );
    assert_exit(&out, 0);
    let all = json_events(&out);
    assert_eq!(
        events(&all, "start")[0]["customisation"]["evidence"][0],
        "--format cloudinit"
    );
    let user_data = boot_file(&drives[0].loop_device.backing, "user-data");
    assert_eq!(
        user_data,
        "#cloud-config\nhostname: \"h\"\nmanage_etc_hosts: true\n"
    );
    // systemd needs the image's cmdline.txt: refused, nothing written.
    let out = flash(
        &image,
        &devices(&drives),
        &["--json", "--hostname", "h", "--format", "systemd"],
    );
    assert_exit(&out, 2);
}

//! Drive discovery and the system-drive check on real loop devices: what
//! `imprint list` shows, what counts as the system drive (also inside a
//! private mount namespace, as the engine sees it), mounts and unmounting,
//! and the hot-plug watcher. Partitioned and multi-device system drives
//! are in `drives/partitioned.rs`.

mod partitioned;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use imprint::drives::{Drive, DriveWatcher};
use imprint::platform::{Mount, mounts_of, system_drive_reason, unmount, whole_disk};
use serde_json::Value;

use crate::require_root;
use crate::support::loopdev::{LoopDevice, LoopLock};
use crate::support::run_imprint;

const MIB: u64 = 1 << 20;

/// `imprint list ARGS… --json` parsed, with the exit code checked.
fn list_json(args: &[&str]) -> Vec<Value> {
    let out = run_imprint(["list", "--json"].iter().chain(args));
    assert!(
        out.status.success(),
        "imprint list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value =
        serde_json::from_slice(&out.stdout).expect("list --json prints one JSON document");
    doc.as_array().expect("a JSON array of drives").clone()
}

fn drive_named<'a>(drives: &'a [Value], device: &Path) -> Option<&'a Value> {
    drives
        .iter()
        .find(|d| d["path"] == device.to_str().unwrap())
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("run a helper command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A loop device with an ext4 filesystem on the whole device.
fn ext4_loop(dir: &Path, size: u64) -> LoopDevice {
    let device = LoopDevice::create(&dir.join("disk.img"), size, 0);
    run_ok(
        Command::new("mkfs.ext4")
            .args(["-q", "-F"])
            .arg(&device.device),
    );
    device
}

/// Mounts a device on a directory in this process's namespace and unmounts
/// it lazily on Drop, so a failing assertion never leaves a mount behind
/// (declare it after the loop device so it drops first).
struct TestMount {
    mount_point: PathBuf,
}

impl TestMount {
    fn new(device: &Path, mount_point: &Path) -> TestMount {
        run_ok(Command::new("mount").arg(device).arg(mount_point));
        TestMount {
            mount_point: mount_point.to_path_buf(),
        }
    }
}

impl Drop for TestMount {
    fn drop(&mut self) {
        // Usually already unmounted by the test itself: then this is a no-op.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.mount_point)
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// The kernel name of the whole disk under the filesystem at `path`,
/// worked out independently of Imprint: `st_dev` → sysfs, down through
/// `slaves/` of stacked devices, up from a partition to its disk. `None`
/// when the filesystem has no block device (an overlay in a container).
fn disk_under(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(path).unwrap().dev();
    let link = format!("/sys/dev/block/{}:{}", libc::major(dev), libc::minor(dev));
    let mut dir = std::fs::canonicalize(link).ok()?;
    loop {
        let slaves: Vec<_> = std::fs::read_dir(dir.join("slaves"))
            .ok()?
            .flatten()
            .collect();
        match slaves.first() {
            Some(slave) => dir = std::fs::canonicalize(slave.path()).unwrap(),
            None => break,
        }
    }
    if dir.join("partition").exists() {
        dir.pop();
    }
    Some(dir.file_name()?.to_string_lossy().into_owned())
}

#[test]
fn list_all_shows_an_attached_loop_device_as_virtual_and_not_removable() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let device = LoopDevice::create(&dir.path().join("disk.img"), 8 * MIB, 0);

    let drives = list_json(&["--all"]);
    let drive =
        drive_named(&drives, &device.device).expect("the loop device is listed under --all");
    assert_eq!(drive["bus"], "virtual");
    assert_eq!(drive["removable"], false);
    assert_eq!(drive["read_only"], false);
    assert_eq!(drive["size_bytes"], 8 * MIB);
    assert_eq!(drive["system"], Value::Null);
    assert_eq!(drive["flashable_by_default"], false);
    assert_eq!(drive["partitions"], serde_json::json!([]));

    let default = list_json(&[]);
    assert!(
        drive_named(&default, &device.device).is_none(),
        "a loop device is not a drive a user flashes by default"
    );
}

#[test]
fn list_marks_the_drive_holding_root_as_system_and_hides_it_by_default() {
    let Some(root_disk) = disk_under(Path::new("/")) else {
        eprintln!("skipped: / is not on a block device here");
        return;
    };
    let root_disk = PathBuf::from("/dev").join(root_disk);
    let drives = list_json(&["--all"]);
    let drive =
        drive_named(&drives, &root_disk).expect("the drive holding / is listed under --all");
    let reason = drive["system"]
        .as_str()
        .expect("the drive holding / is marked system");
    assert!(
        reason.starts_with(&format!("{} holds / (mounted from ", root_disk.display())),
        "{reason}"
    );
    assert!(drive_named(&list_json(&[]), &root_disk).is_none());

    let table = run_imprint(["list", "--all"]);
    let table = String::from_utf8(table.stdout).unwrap();
    let row = table
        .lines()
        .find(|line| line.starts_with(root_disk.to_str().unwrap()))
        .expect("a table row for the system drive");
    assert!(row.contains("system: holds / (mounted from "), "{row}");
}

#[test]
fn a_loop_device_mounted_at_boot_in_a_private_namespace_is_a_system_drive() {
    require_root!();
    if !have("mkfs.ext4") || !have("unshare") {
        crate::support::skip_without("mkfs.ext4 and unshare");
        return;
    }
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let device = ext4_loop(dir.path(), 16 * MIB);
    let dev = device.device.to_str().unwrap();

    // The mount exists only in the child's namespace (unshare makes mounts
    // private), and vanishes with it even if imprint fails.
    let script = format!(
        "mount {dev} /boot && \"$IMPRINT\" list --all --json; rc=$?; umount /boot; exit $rc"
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .env("IMPRINT", env!("CARGO_BIN_EXE_imprint"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drives: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let drive = drive_named(&drives, &device.device).expect("the loop device is listed");
    assert_eq!(
        drive["system"],
        format!("{dev} holds /boot (mounted from {dev})")
    );
    assert_eq!(drive["mount_points"], serde_json::json!(["/boot"]));

    // Outside that namespace the same device backs nothing.
    assert_eq!(system_drive_reason(&device.device).unwrap(), None);
    let drives = list_json(&["--all"]);
    assert_eq!(
        drive_named(&drives, &device.device).unwrap()["system"],
        Value::Null
    );
}

#[test]
fn a_loop_device_mounted_elsewhere_is_not_system_and_unmounts() {
    require_root!();
    if !have("mkfs.ext4") {
        crate::support::skip_without("mkfs.ext4");
        return;
    }
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let device = ext4_loop(dir.path(), 16 * MIB);
    let mount_point = dir.path().join("mnt");
    std::fs::create_dir(&mount_point).unwrap();
    let mount_point = std::fs::canonicalize(&mount_point).unwrap();
    let _mounted = TestMount::new(&device.device, &mount_point);

    assert_eq!(system_drive_reason(&device.device).unwrap(), None);
    assert_eq!(
        mounts_of(&device.device).unwrap(),
        vec![Mount {
            device: device.device.clone(),
            mount_point: mount_point.clone(),
        }]
    );
    let drives = list_json(&["--all"]);
    let listed = drive_named(&drives, &device.device).unwrap();
    assert_eq!(listed["mount_points"], serde_json::json!([mount_point]));

    unmount(&mount_point).unwrap();
    assert_eq!(mounts_of(&device.device).unwrap(), vec![]);
    let error = unmount(&mount_point).expect_err("nothing is mounted there any more");
    assert!(
        error.to_string().contains(mount_point.to_str().unwrap()),
        "{error}"
    );
}

#[test]
fn the_watcher_sees_a_loop_device_attached_and_detached() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    let (watcher, updates) = DriveWatcher::start(imprint::drives::DEFAULT_POLL_INTERVAL).unwrap();
    let first = updates
        .recv_timeout(Duration::from_secs(1))
        .expect("the current list at once");

    let device = LoopDevice::create(&dir.path().join("disk.img"), 4 * MIB, 0);
    assert!(!first.iter().any(|d| d.path == device.device));
    let path = device.device.clone();
    let has_device = |drives: &[Drive]| drives.iter().any(|d| d.path == path);
    let wait_until = |want: bool| {
        let deadline = Instant::now() + Duration::from_secs(2);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match updates.recv_timeout(left) {
                Ok(drives) if has_device(&drives) == want => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    };
    assert!(
        wait_until(true),
        "the attached loop device is reported within 2 s"
    );
    drop(device);
    assert!(
        wait_until(false),
        "{} is reported gone within 2 s",
        path.display()
    );

    drop(watcher);

    // Dropping wakes the thread at once instead of waiting out its interval.
    let (slow_watcher, _updates) = DriveWatcher::start(Duration::from_secs(30)).unwrap();
    let started = Instant::now();
    drop(slow_watcher);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the watcher stops at once on Drop"
    );
}

/// Not a test of its own: prints `system_drive_reason` for each device in
/// `IMPRINT_TEST_DEVICES`, for tests that run this binary inside a private
/// mount namespace (the engine's check must see the caller's namespace).
#[test]
#[ignore = "run by other tests inside a mount namespace"]
fn print_system_drive_reason() {
    let devices = std::env::var("IMPRINT_TEST_DEVICES").expect("IMPRINT_TEST_DEVICES is set");
    for device in devices.split_whitespace() {
        let reason = system_drive_reason(Path::new(device)).unwrap();
        eprintln!("system_drive_reason({device}) = {reason:?}");
    }
}

//! Each drive at its own pace (issue 10): in one run, two loop devices
//! throttled to 10 MB/s of writes (like slow cards) must not hold back two
//! unthrottled ones; all four are still written and verified.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use serde_json::Value;

use crate::require_root;
use crate::support::loopdev::{LoopDevice, LoopLock};
use crate::support::throttle::Throttle;
use crate::support::{pseudo_random_bytes, skip_without};

const IMAGE_BYTES: usize = 112 << 20;
const SLOW_BPS: u64 = 10_000_000;

#[test]
fn fast_drives_finish_while_slow_ones_are_not_half_written() {
    require_root!();
    let _lock = LoopLock::acquire();
    let dir = tempfile::tempdir().unwrap();
    // Random bytes and no partition table: every byte is used. Compressed,
    // so that it is decoded once, into the spool, not read by each drive.
    let image = pseudo_random_bytes(IMAGE_BYTES, 0x5eed);
    let path = dir.path().join("image.img.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&image).unwrap();
    gz.finish().unwrap();
    let drives: Vec<LoopDevice> = ["fast1", "fast2", "slow1", "slow2"]
        .iter()
        .map(|name| LoopDevice::create(&dir.path().join(name), IMAGE_BYTES as u64, 0xEE))
        .collect();
    let (fast, slow) = drives.split_at(2);
    let Some(throttle) = Throttle::new(&[(&slow[0].device, SLOW_BPS), (&slow[1].device, SLOW_BPS)])
    else {
        skip_without("block I/O throttling (cgroup v2 io or v1 blkio)");
        return;
    };
    let mut command = throttle.command(env!("CARGO_BIN_EXE_imprint").as_ref());
    command.arg("flash").arg(&path).args(["--yes", "--json"]);
    for drive in &drives {
        command.arg("-t").arg(&drive.device);
    }
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let name = |d: &LoopDevice| d.device.display().to_string();
    let (fast_names, slow_names): (Vec<_>, Vec<_>) = (
        fast.iter().map(name).collect(),
        slow.iter().map(name).collect(),
    );

    // Where each slow drive's writing was when the fast ones were done.
    let mut slow_written = vec![0u64; 2];
    let mut fast_done = 0;
    let mut at_fast_done: Option<Vec<u64>> = None;
    let mut done: Vec<Value> = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let target = event["target"].as_str().unwrap_or_default().to_string();
        match event["event"].as_str() {
            Some("progress") if event["phase"] == "write" => {
                if let Some(i) = slow_names.iter().position(|n| *n == target) {
                    slow_written[i] = event["bytes"].as_u64().unwrap();
                }
            }
            Some("target_done") => {
                if fast_names.contains(&target) {
                    fast_done += 1;
                    if fast_done == 2 {
                        at_fast_done = Some(slow_written.clone());
                    }
                } else {
                    assert_eq!(fast_done, 2, "a slow drive finished first: {event}");
                }
                done.push(event);
            }
            _ => {}
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "imprint exited with {status}");
    let at_fast_done = at_fast_done.expect("both fast drives finished");
    for (name, written) in slow_names.iter().zip(&at_fast_done) {
        assert!(
            *written < IMAGE_BYTES as u64 / 2,
            "{name} had {written} of {IMAGE_BYTES} bytes written when the fast drives were done: they were held back"
        );
    }
    assert_eq!(done.len(), 4);
    for event in &done {
        assert_eq!(event["ok"], true, "{event}");
        assert_eq!(event["verified_bytes"], IMAGE_BYTES, "{event}");
    }
    for drive in &drives {
        assert!(
            drive.contents() == image,
            "{} does not hold the image",
            drive.device.display()
        );
    }
}

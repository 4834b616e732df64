//! Drives that stop answering (the FUSE fault device's stalls): the stalled
//! drive stops alone, and Ctrl-C ends the run — every `target_done`, then
//! `done` — within a second, for `flash` and `verify` alike.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::faults::{CHUNK, Rig};
use crate::require_root;
use crate::support::faultdev::Fault;
use crate::support::flashing::{assert_exit, describe, target_done};
use crate::support::imprint;
use crate::support::loopdev::LoopLock;

/// A flash with `--json` whose events are read as they come, with the time
/// each arrived.
struct LiveRun {
    /// `None` once waited for.
    child: Option<std::process::Child>,
    lines: mpsc::Receiver<(Instant, Value)>,
    seen: Vec<(Instant, Value)>,
}

impl LiveRun {
    /// `imprint COMMAND IMAGE -t DEVICE… --json` (`--yes` for `flash`).
    fn start(command: &str, image: &Path, devices: &[&Path]) -> LiveRun {
        let mut cmd = imprint();
        cmd.arg(command).arg(image);
        for device in devices {
            cmd.arg("-t").arg(device);
        }
        if command == "flash" {
            cmd.arg("--yes");
        }
        let mut child = cmd
            .arg("--json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::Builder::new()
            .name("test/stdout-lines".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let value: Value = serde_json::from_str(&line.unwrap()).unwrap();
                    let _ = tx.send((Instant::now(), value));
                }
            })
            .unwrap();
        LiveRun {
            child: Some(child),
            lines,
            seen: Vec::new(),
        }
    }

    /// Collects events until `until` holds for one (perhaps one already
    /// seen), or `limit` passes; returns when that event arrived.
    fn wait_for(&mut self, limit: Duration, until: impl Fn(&Value) -> bool) -> Option<Instant> {
        if let Some((at, _)) = self.seen.iter().find(|(_, e)| until(e)) {
            return Some(*at);
        }
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok((at, event)) = self.lines.recv_timeout(left) else {
                return None;
            };
            let hit = until(&event);
            self.seen.push((at, event));
            if hit {
                return Some(at);
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("still running").id()
    }

    /// Waits for imprint to exit.
    fn wait(&mut self) -> Output {
        let child = self.child.take().expect("waited for once");
        child.wait_with_output().unwrap()
    }

    fn events(&self) -> Vec<Value> {
        self.seen.iter().map(|(_, e)| e.clone()).collect()
    }

    /// The last progress event of `target`: (phase, bytes).
    fn last_progress(&self, target: &str) -> Option<(String, u64)> {
        self.seen.iter().rev().find_map(|(_, e)| {
            (e["event"] == "progress" && e["target"] == target).then(|| {
                (
                    e["phase"].as_str().unwrap_or_default().to_string(),
                    e["bytes"].as_u64().unwrap_or_default(),
                )
            })
        })
    }
}

impl Drop for LiveRun {
    /// A failed test does not leave imprint writing to the rig's drives.
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
        }
    }
}

fn is_target_done_of(event: &Value, target: &str) -> bool {
    event["event"] == "target_done" && event["target"] == target
}

/// Long enough to tell "ended at Ctrl-C" from "ended when the drive woke".
const STALL: Duration = Duration::from_secs(8);

/// Runs `imprint COMMAND` on the rig's three drives while the faulty one
/// stalls at byte `at` (its fault set by the caller): the other two finish
/// while the stalled drive's progress stands still in `phase`; Ctrl-C then
/// ends the JSON stream within a second, the stalled drive reported
/// cancelled before `what` it "had returned", and what that means for
/// the drive (`consequence`); the process exits 1 once
/// the drive wakes, having said on stderr what it waits for.
fn ctrl_c_ends_a_run_with_a_stalled_drive(
    rig: &Rig,
    command: &str,
    at: u64,
    phase: &str,
    what: &str,
    consequence: &[&str],
) {
    let faulty = rig.faulty.name();
    let mut run = LiveRun::start(command, &rig.image_path, &rig.devices());

    for good in &rig.good {
        let name = good.name();
        let done = run.wait_for(Duration::from_secs(30), |e| is_target_done_of(e, &name));
        assert!(done.is_some(), "{name} finished: {:#?}", run.events());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !rig.faulty.stall_began() {
        assert!(Instant::now() < deadline, "the faulty drive never stalled");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Its last progress event before the stall has had time to arrive.
    run.wait_for(Duration::from_millis(300), |_| false);
    let before = run.last_progress(&faulty);
    let finished = run.wait_for(Duration::from_millis(700), |e| {
        is_target_done_of(e, &faulty)
    });
    assert!(
        finished.is_none(),
        "the stalled drive is not done: {:#?}",
        run.events()
    );
    let after = run.last_progress(&faulty);
    assert_eq!(before, after, "no progress on the stalled drive");
    let (last_phase, bytes) = after.expect("the stalled drive showed progress before");
    assert!(
        last_phase == phase && bytes <= at,
        "its progress stopped in {phase} before the stalled byte {at}: {last_phase} {bytes}"
    );

    let rc = crate::support::sys::kill(run.pid(), libc::SIGINT);
    assert_eq!(rc, 0, "send SIGINT");
    let interrupted = Instant::now();
    let done_at = run.wait_for(STALL, |e| e["event"] == "done");
    let all = run.events();
    let done_at = done_at.unwrap_or_else(|| panic!("no done event: {all:#?}"));
    let took = done_at.duration_since(interrupted);
    assert!(
        took < Duration::from_millis(1500),
        "the JSON stream ended {took:?} after Ctrl-C (the drive stalls for {STALL:?})"
    );
    let stalled_done = target_done(&all, rig.faulty.device());
    assert_eq!(stalled_done["ok"], false);
    let error = stalled_done["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("cancelled") && error.contains(&format!("{what} {faulty} had returned")),
        "the stalled drive is named, cancelled, before {what:?} it had returned: {error}"
    );
    for word in consequence {
        assert!(error.contains(word), "the error says {word:?}: {error}");
    }
    let done = all.last().unwrap();
    assert_eq!(
        (done["ok"].as_u64(), done["failed"].as_u64()),
        (Some(2), Some(1))
    );

    let output = run.wait();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("waiting for {faulty}")),
        "stderr says what the process waits for: {stderr}"
    );
}

#[test]
fn a_drive_stalled_in_a_write_stops_alone_and_ctrl_c_ends_the_run_within_a_second() {
    require_root!();
    let _lock = LoopLock::acquire();
    let at = 2 * CHUNK + 100;
    let rig = Rig::new(Fault::StallWrite { at, stall: STALL });

    ctrl_c_ends_a_run_with_a_stalled_drive(
        &rig,
        "flash",
        at,
        "write",
        "a write to",
        &["incomplete", "will not boot"],
    );

    for good in &rig.good {
        good.assert_holds(&rig.expected);
    }
}

#[test]
fn a_drive_stalled_in_verification_stops_alone_and_ctrl_c_ends_the_run_within_a_second() {
    require_root!();
    let _lock = LoopLock::acquire();
    // Past the first two chunks: the writer's compare-before-write samples
    // (engine/compare_first.rs) read the start of the first ones, and after
    // two that differ (this drive holds random bytes) it stops sampling, so
    // only verification reads this byte.
    let at = 2 * CHUNK + 100;
    let rig = Rig::new(Fault::StallRead { at, stall: STALL });

    // Everything was written: the drive is unchecked, not incomplete.
    ctrl_c_ends_a_run_with_a_stalled_drive(
        &rig,
        "flash",
        at,
        "verify",
        "a read from",
        &["written but not verified", "imprint verify"],
    );

    for good in &rig.good {
        good.assert_holds(&rig.expected);
    }
}

#[test]
fn imprint_verify_of_a_stalled_drive_ends_within_a_second_of_ctrl_c() {
    require_root!();
    let _lock = LoopLock::acquire();
    let rig = Rig::new(Fault::None);
    let output = rig.flash_json();
    assert_exit(&output, 0);
    let at = 2 * CHUNK + 100;
    rig.faulty.set_fault(Fault::StallRead { at, stall: STALL });

    ctrl_c_ends_a_run_with_a_stalled_drive(&rig, "verify", at, "verify", "a read from", &[]);
}

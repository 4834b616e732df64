//! A running `imprint station --json` for the tests: started on the tests'
//! own loop devices (`--match`), its events read on a thread as they come,
//! waited for with a deadline, killed on Drop so a failing test leaves no
//! station flashing later tests' drives.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{fixture, imprint};

/// How long a test waits for an event or for the station to end.
pub(super) const WAIT: Duration = Duration::from_secs(60);

/// A running `imprint station --json`, its events read as they come.
pub(in crate::flash) struct Station {
    child: Child,
    lines: Receiver<Value>,
    seen: Vec<Value>,
}

impl Station {
    /// `imprint station test.img.xz --json --full --match DIR/*` plus `extra`.
    pub(super) fn start(dir: &Path, extra: &[&str]) -> Station {
        Station::start_with(
            &fixture("test.img.xz"),
            &format!("{}/*", dir.display()),
            extra,
        )
    }

    /// `imprint station IMAGE --json --full --match PATTERN` plus `extra`,
    /// once it has listed the drives present.
    pub(in crate::flash) fn start_with(image: &Path, pattern: &str, extra: &[&str]) -> Station {
        let mut child = imprint()
            .arg("station")
            .arg(image)
            .args(["--json", "--full", "--match", pattern])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start imprint station");
        let stdout = child.stdout.take().unwrap();
        let lines = read_lines(stdout);
        let mut station = Station {
            child,
            lines,
            seen: Vec::new(),
        };
        // Drives attached before the station has listed the present ones
        // would count as present: wait for its first line.
        station.wait_for("the start event", |e| e["event"] == "start");
        station
    }

    /// Waits for an event matching `wanted`; returns it.
    pub(super) fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(event) = self.seen.iter().find(|e| wanted(e)) {
            return event.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(event) => {
                    self.seen.push(event.clone());
                    if wanted(&event) {
                        return event;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {WAIT:?}; events: {:#?}", self.seen)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the station ended before {what}; events: {:#?}", self.seen)
                }
            }
        }
    }

    /// Waits for the `target_done` of `device`.
    pub(super) fn done(&mut self, device: &Path) -> Value {
        let path = device.display().to_string();
        self.wait_for(&format!("target_done of {path}"), |e| {
            e["event"] == "target_done" && e["target"] == path.as_str()
        })
    }

    /// Ctrl-C, then the exit code and every event.
    pub(super) fn interrupt(self) -> (i32, Vec<Value>) {
        // The pid of a child we own and have not waited for.
        crate::support::sys::kill(self.child.id(), libc::SIGINT);
        self.wait()
    }

    /// Waits for the station to end by itself.
    pub(in crate::flash) fn wait(mut self) -> (i32, Vec<Value>) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.seen.extend(self.lines.try_iter());
                return (status.code().unwrap_or(-1), std::mem::take(&mut self.seen));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the station did not end; events: {:#?}", self.seen);
    }
}

impl Drop for Station {
    fn drop(&mut self) {
        // A failing test must not leave a station flashing later tests'
        // loop devices.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_lines(stdout: ChildStdout) -> Receiver<Value> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("test/stdout-lines".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
                if tx.send(value).is_err() {
                    return;
                }
            }
        })
        .unwrap();
    rx
}

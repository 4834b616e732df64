//! A flash run in a privileged helper process: `pkexec imprint flash …
//! --json --yes`, whose JSON-lines events (docs/architecture.md §5) are turned back
//! into the engine's [`FlashEvent`]s so the app shows them exactly like an
//! in-process run.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crossbeam_channel::Sender;

use super::options::HelperOptions;
use super::run_event::{Cancel, RunEvent, Running};
#[cfg(test)]
use super::run_options::RunOptions;
use super::url_feed::{self, DownloadFailure};
use crate::engine::FlashEvent;
use crate::protocol::RunLine;
#[cfg(test)]
use crate::request::ConfigOptions;

pub(super) use super::helper_job::HelperJob;

/// Cancels the helper as Ctrl-C would ([`crate::platform::interrupt_process`]),
/// which `imprint flash` handles: the targets are closed and reported as cancelled.
struct Interrupt(u32);

impl Cancel for Interrupt {
    fn cancel(&self) {
        // A helper running as root may not be signalled by this user; it
        // then finishes its run, which only costs time.
        crate::platform::interrupt_process(self.0);
    }
}

/// Starts the helper; returns at once. The child runs under `options`'s
/// elevation command, and a thread named `helper` reads its events.
pub(super) fn start(job: HelperJob, options: &HelperOptions, ctx: &egui::Context) -> Running {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (program, prefix_args) = match options.elevate.split_first() {
        Some((program, rest)) => (
            program.clone(),
            rest.iter()
                .cloned()
                .chain([options.exe.clone().into()])
                .collect(),
        ),
        None => (options.exe.clone().into(), Vec::new()),
    };
    let from_url = crate::source::is_url(&job.image);
    let mut command = Command::new(&program);
    command
        .args(prefix_args)
        .args(job.args())
        .stdin(if from_url {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let elevated = !options.elevate.is_empty();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            // The plain part, a blank line, then the technical one
            // (message::Problem::from_failure splits them).
            let _ = tx.send(RunEvent::Failed(format!(
                "Imprint could not ask for administrator rights, so nothing was written. \
                 Check that pkexec (polkit) is installed, or start Imprint as administrator.\n\n\
                 Cannot start {}: {e}",
                PathBuf::from(&program).display()
            )));
            let _ = tx.send(RunEvent::Finished);
            return Running {
                events: rx,
                cancel: Box::new(Interrupt(0)),
            };
        }
    };
    let pid = child.id();
    let download = match child.stdin.take() {
        Some(stdin) if from_url => url_feed::start(job.image.clone(), stdin, tx.clone(), ctx).ok(),
        _ => None,
    };
    let ctx = ctx.clone();
    let targets = job.targets.clone();
    let spawned = std::thread::Builder::new()
        .name("helper".into())
        .spawn(move || read_helper(child, &targets, elevated, download, &tx, &ctx));
    if let Err(e) = spawned {
        let (tx, failed) = crossbeam_channel::unbounded();
        let _ = tx.send(RunEvent::Failed(format!(
            "The flash could not be watched: close other programs and try again.\n\n{e}"
        )));
        let _ = tx.send(RunEvent::Finished);
        return Running {
            events: failed,
            cancel: Box::new(Interrupt(pid)),
        };
    }
    Running {
        events: rx,
        cancel: Box::new(Interrupt(pid)),
    }
}

/// Reads the helper's stdout to its end, forwarding each event, then reports
/// how it ended.
fn read_helper(
    mut child: Child,
    targets: &[PathBuf],
    elevated: bool,
    download: Option<DownloadFailure>,
    tx: &Sender<RunEvent>,
    ctx: &egui::Context,
) {
    // stderr is drained on its own thread: a helper that fills the pipe
    // while we wait on stdout would otherwise block forever.
    let stderr = child.stderr.take().and_then(|mut pipe| {
        std::thread::Builder::new()
            .name("helper-stderr".into())
            .spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
            .ok()
    });
    let mut saw_done = false;
    let mut saw_refused = false;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(event) = parse_line(&line, targets) {
                let event = match &download {
                    Some(download) => download.correct(event),
                    None => event,
                };
                saw_done |= matches!(event, RunEvent::Flash(FlashEvent::Done { .. }));
                saw_refused |= matches!(event, RunEvent::Refused(_));
                if tx.send(event).is_err() {
                    return;
                }
                ctx.request_repaint();
            }
        }
    }
    let status = child.wait();
    let stderr = stderr
        .and_then(|handle| handle.join().ok())
        .unwrap_or_default();
    let code = status.ok().and_then(|s| s.code());
    // The refusals were already reported line by line.
    if !saw_done && !saw_refused {
        let ending = match download.as_ref().and_then(DownloadFailure::get) {
            Some(message) => RunEvent::Failed(message),
            None => ending_without_done(code, elevated, stderr.trim()),
        };
        let _ = tx.send(ending);
    }
    let _ = tx.send(RunEvent::Finished);
    ctx.request_repaint();
}

/// Why a helper that never said "done" ended.
fn ending_without_done(code: Option<i32>, elevated: bool, stderr: &str) -> RunEvent {
    let detail = if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    };
    match code {
        // The user dismissed the password dialog, or is not authorised.
        Some(code) if elevated && crate::platform::elevation_declined(code) => RunEvent::Failed(
            "Authorisation was cancelled, so nothing was written. Imprint needs administrator \
             rights to write to these drives: press Flash! again and enter your password."
                .to_string(),
        ),
        // Exit code 2: refused before writing; stderr says why.
        Some(2) => {
            let mut reasons: Vec<String> = stderr
                .lines()
                .map(|l| l.trim_start_matches("imprint: ").trim().to_string())
                .filter(|l| !l.is_empty())
                .collect();
            if reasons.is_empty() {
                reasons.push("The flash was refused before anything was written.".to_string());
            }
            RunEvent::Refused(reasons)
        }
        Some(code) => RunEvent::Failed(format!(
            "The flash stopped unexpectedly. Try again; if it happens again, the details help \
             a bug report.\n\nThe helper process exited with code {code}{detail}"
        )),
        None => RunEvent::Failed(format!(
            "The flash was stopped from outside Imprint. Flash again.\n\n\
             The helper process was killed{detail}"
        )),
    }
}

/// Parses one JSON line into a run event with the protocol's reader
/// ([`RunLine::parse`]); `targets` maps the target strings back to their
/// index. Unknown lines are skipped: the protocol may grow new events.
pub(super) fn parse_line(line: &str, targets: &[PathBuf]) -> Option<RunEvent> {
    let index = |name: &str| targets.iter().position(|t| t.as_os_str() == name);
    Some(match RunLine::parse(line, index)? {
        RunLine::Flash(event) => RunEvent::Flash(event),
        RunLine::Refused(reason) => RunEvent::Refused(vec![reason]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FailureKind, Phase};

    #[test]
    fn the_options_reach_the_helper_as_flags() {
        let mut job = HelperJob {
            image: "a.img".into(),
            targets: vec!["/dev/sdb".into()],
            config: ConfigOptions::default(),
            options: RunOptions::default(),
        };
        let has = |job: &HelperJob, flag: &str| job.args().iter().any(|a| a == flag);
        assert!(!has(&job, "--no-verify") && !has(&job, "--full"));
        assert!(has(&job, "--eject"), "ejecting is the app's default");
        job.options = RunOptions {
            verify: false,
            full: true,
            eject: false,
        };
        assert!(has(&job, "--no-verify") && has(&job, "--full"));
        assert!(!has(&job, "--eject"));
    }

    #[test]
    fn protocol_lines_become_engine_events() {
        let targets = vec![PathBuf::from("/dev/sdb"), PathBuf::from("/tmp/t.img")];
        assert_eq!(
            parse_line(
                r#"{"event":"progress","target":"/tmp/t.img","phase":"verify","bytes":5,"total":10}"#,
                &targets
            ),
            Some(RunEvent::Flash(FlashEvent::Progress {
                target: 1,
                phase: Phase::Verify,
                bytes: 5,
                total: Some(10)
            }))
        );
        let failed = parse_line(
            r#"{"event":"target_done","target":"/dev/sdb","ok":false,"outcome":"failed","kind":"verify","error":"write failed at 4096","offset":4096,"sha256":null}"#,
            &targets,
        );
        assert!(matches!(
            failed,
            Some(RunEvent::Flash(FlashEvent::TargetDone { target: 0, result: Err(ref f), .. }))
                if f.message == "write failed at 4096" && f.offset == Some(4096)
                    && f.kind == FailureKind::Verify
        ));
        assert_eq!(
            parse_line(
                r#"{"event":"error","kind":"image","error":"os.img is not an image: it is empty"}"#,
                &targets
            ),
            Some(RunEvent::Refused(vec![
                "os.img is not an image: it is empty".into()
            ]))
        );
        assert_eq!(
            parse_line(
                r#"{"event":"done","ok":1,"failed":1,"image_sha256":"ab"}"#,
                &targets
            ),
            Some(RunEvent::Flash(FlashEvent::Done {
                image_sha256: Some("ab".into()),
                image_bytes: None
            }))
        );
        assert_eq!(
            parse_line(
                r#"{"event":"refused","target":"/dev/sda","error":"holds /"}"#,
                &targets
            ),
            Some(RunEvent::Refused(vec!["/dev/sda: holds /".into()]))
        );
        assert_eq!(parse_line("not json", &targets), None);
        assert_eq!(parse_line(r#"{"event":"future"}"#, &targets), None);
    }

    #[test]
    fn a_cancelled_password_dialog_says_so() {
        let RunEvent::Failed(message) = ending_without_done(Some(126), true, "") else {
            panic!("expected a failure");
        };
        assert!(message.contains("Authorisation was cancelled"));
        let RunEvent::Refused(reasons) =
            ending_without_done(Some(2), false, "imprint: /dev/sda is the system drive")
        else {
            panic!("expected a refusal");
        };
        assert_eq!(reasons, vec!["/dev/sda is the system drive".to_string()]);
    }
}

//! An image at a URL flashed through the privileged helper: the app
//! downloads it as the user and streams the bytes into the helper's
//! standard input (`imprint flash - …`), so proxies and credentials stay
//! with the user and no download runs as root (docs/architecture.md §11). The download's
//! progress and retries become the run's events here, since the helper only
//! sees a pipe.
//!
//! A pipe can only end, not fail: a helper whose input stops early may take
//! a raw image cut short for a whole one. So a download that fails is
//! remembered, and every target the helper then reports as done is shown
//! failed with the download's reason.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ChildStdin;
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;

use super::run_event::RunEvent;
use crate::engine::{FailureKind, FlashEvent, TargetFailure};
use crate::request::download_event;

/// Why the download failed, once it did; shared with the helper's reader.
#[derive(Debug, Clone, Default)]
pub(super) struct DownloadFailure(Arc<Mutex<Option<String>>>);

impl DownloadFailure {
    fn set(&self, message: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
    }

    pub(super) fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `event` as the app must show it: a target the helper calls done is
    /// failed when the download behind it failed.
    pub(super) fn correct(&self, event: RunEvent) -> RunEvent {
        let Some(message) = self.get() else {
            return event;
        };
        match event {
            RunEvent::Flash(FlashEvent::TargetDone {
                target,
                result: Ok(()),
                written_bytes,
                verified_bytes,
                matched_bytes,
                ..
            }) => RunEvent::Flash(FlashEvent::TargetDone {
                target,
                result: Err(TargetFailure {
                    kind: FailureKind::Download,
                    offset: None,
                    message: message.clone(),
                }),
                sha256: None,
                written_bytes,
                verified_bytes,
                matched_bytes,
            }),
            // Refused for want of input: the download is why.
            RunEvent::Refused(_) => RunEvent::Refused(vec![message]),
            other => other,
        }
    }
}

/// Starts downloading `url` into `stdin` on a thread named `download`.
pub(super) fn start(
    url: PathBuf,
    mut stdin: ChildStdin,
    tx: Sender<RunEvent>,
    ctx: &egui::Context,
) -> io::Result<DownloadFailure> {
    let failure = DownloadFailure::default();
    let recorded = failure.clone();
    let ctx = ctx.clone();
    std::thread::Builder::new()
        .name("download".into())
        .spawn(move || {
            let result = feed(&url, &mut stdin, &tx, &ctx);
            if let Err(message) = result {
                // Recorded before the pipe closes: the helper sees the end
                // of its input only after the failure is known here.
                recorded.set(message);
            }
            drop(stdin);
            ctx.request_repaint();
        })?;
    Ok(failure)
}

fn feed(
    url: &std::path::Path,
    stdin: &mut ChildStdin,
    tx: &Sender<RunEvent>,
    ctx: &egui::Context,
) -> Result<(), String> {
    let download = crate::source::download(url).map_err(|e| e.to_string())?;
    let events = tx.clone();
    let waker = ctx.clone();
    download.status.observe(Box::new(move |event| {
        let _ = events.send(RunEvent::Flash(download_event(event)));
        waker.request_repaint();
    }));
    let mut reader = download.reader;
    let mut buf = vec![0u8; 256 << 10];
    let result = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                // The helper stopped reading (it failed or was cancelled):
                // it says why itself.
                if stdin.write_all(&buf[..n]).is_err() {
                    break Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                break Err(format!("The download of {} failed: {e}", url.display()));
            }
        }
    };
    download.status.unobserve();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_download_turns_done_targets_into_failures() {
        let failure = DownloadFailure::default();
        let done = RunEvent::Flash(FlashEvent::TargetDone {
            target: 0,
            result: Ok(()),
            sha256: Some("ab".into()),
            written_bytes: 5,
            verified_bytes: 5,
            matched_bytes: 0,
        });
        assert_eq!(failure.correct(done.clone()), done);
        failure.set("the server does not support resuming".into());
        let RunEvent::Flash(FlashEvent::TargetDone { result, sha256, .. }) = failure.correct(done)
        else {
            panic!("not a target_done");
        };
        assert_eq!(sha256, None);
        assert!(result.unwrap_err().message.contains("resuming"));
    }
}

//! A desktop notification when a run ends while the window is not focused:
//! a flash takes minutes, and the user is often in another window.
//! Sent over D-Bus by `notify-rust` (pure Rust, no system library); when no
//! notification service answers, `notify-send` if it is installed; else
//! nothing — a missing notification is never an error.

use crossbeam_channel::Sender;

/// What is said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub summary: String,
    pub body: String,
}

/// Where notifications go.
#[derive(Debug, Clone)]
pub enum Notifier {
    /// The desktop's notification service.
    Desktop,
    /// A channel, for tests.
    Channel(Sender<Notification>),
    /// Nowhere.
    Off,
}

impl Notifier {
    /// Sends `notification` without blocking the UI (D-Bus may take a
    /// moment, or time out when no service runs).
    pub fn send(&self, notification: Notification) {
        match self {
            Notifier::Desktop => {
                let spawned = std::thread::Builder::new()
                    .name("notify".into())
                    .spawn(move || desktop(&notification));
                // Without a thread there is no notification; the window
                // still says everything.
                drop(spawned);
            }
            Notifier::Channel(tx) => {
                let _ = tx.send(notification);
            }
            Notifier::Off => {}
        }
    }
}

fn desktop(notification: &Notification) {
    let shown = notify_rust::Notification::new()
        .appname("Imprint")
        .summary(&notification.summary)
        .body(&notification.body)
        .icon(super::APP_ID)
        .show();
    if shown.is_ok() {
        return;
    }
    // No answer on the session bus: notify-send may know another way (or
    // is simply absent, which is fine).
    let _ = std::process::Command::new("notify-send")
        .args(["--app-name=Imprint", "--icon", super::APP_ID, "--"])
        .arg(&notification.summary)
        .arg(&notification.body)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// What a finished run says in a notification: how it ended, and where.
pub(super) fn for_run(run: &super::state::FlashRun) -> Notification {
    use super::state::Outcome;
    let total = run.targets.len();
    let ok = run.succeeded();
    let summary = match run.outcome() {
        Outcome::Complete => "Flash complete".to_string(),
        Outcome::Cancelled => "Flash cancelled".to_string(),
        Outcome::Partial => format!("{ok} of {total} flashed"),
        Outcome::Failed => "Flash failed".to_string(),
    };
    let body = match run.outcome() {
        Outcome::Complete if run.targets.iter().all(|t| t.is_file) => {
            format!("{} was written.", run.image_name)
        }
        Outcome::Complete => format!("{} was written. The drives can be removed.", run.image_name),
        Outcome::Cancelled => format!("You stopped writing {}.", run.image_name),
        Outcome::Partial | Outcome::Failed => {
            format!("{}: open Imprint to see what went wrong.", run.image_name)
        }
    };
    Notification { summary, body }
}

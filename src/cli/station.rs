//! `imprint station`: the station loop (`crate::station`) with its events
//! as JSON lines or as one line of text per happening.

use super::args::StationArgs;
use super::json_lines::emit;
use super::{interrupt, refuse};
use crate::engine::{FlashEvent, Phase};
use crate::humanize;
use crate::protocol::{ErrorKind, Outcome, WireEvent};
use crate::request::{Exit, FlashOptions};
use crate::sign;
use crate::station::{
    self, Eligibility, SeenDrive, Station, StationError, StationEvent, StationOptions, Summary,
};

/// How often the drives are looked at: a card is picked up within a
/// quarter of a second.
const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

pub(super) fn run(args: StationArgs) -> Exit {
    let cancel = interrupt::install(args.json);
    let mut config = (&args.config).into();
    // The same customisation as `flash`, through the same preparation.
    let customise = match args.customisation.to_options(&mut config) {
        Ok(customise) => customise,
        Err(message) => return refuse(args.json, ErrorKind::Config, &message),
    };
    let options = StationOptions {
        flash: FlashOptions {
            image: args.image.clone(),
            config,
            customise,
            verify: !args.no_verify,
            expected_sha256: args.sha256.clone(),
            full: args.full,
            eject: !args.no_eject,
            // No targets: the drives come as they are plugged in; options
            // a station does not take keep their defaults.
            ..FlashOptions::default()
        },
        identity: (&args.identity).into(),
        report: args.identity.report.clone(),
        count: args.count,
        eligibility: Eligibility {
            matches: args.matches.clone(),
            allow_large: args.allow_large,
        },
        again: args.again,
        poll_interval: POLL_INTERVAL,
        probe: if args.no_probe {
            crate::target::probe::ProbeMode::Off
        } else {
            crate::target::probe::ProbeMode::Quick
        },
    };
    if args.count == Some(0) {
        return refuse(args.json, ErrorKind::Usage, "--count must be at least 1");
    }
    let mut station = match Station::prepare(options) {
        Ok(station) => station,
        Err(e) => return refuse(args.json, error_kind(&e), &e.to_string()),
    };
    if let Some(key) = &args.identity.sign {
        // Read (and decrypted) before any drive is written, as `flash`
        // does: a wrong password is a refusal, not drives left unsigned.
        let signed = sign::read_secret_key(key, || super::key::ask_password(key))
            .map_err(|e| e.to_string())
            .and_then(|key| station.sign_with(key).map_err(|e| e.to_string()));
        if let Err(message) = signed {
            return refuse(args.json, ErrorKind::Refused, &message);
        }
    }
    if args.json {
        emit(&start_event(&station));
    }
    // From here a signal stops the station: drives in flight are cancelled
    // and reported, then the summary.
    interrupt::started_writing();
    let (tx, rx) = crossbeam_channel::unbounded();
    let printer = Printer { json: args.json };
    let summary = std::thread::scope(|s| {
        let loop_thread = std::thread::Builder::new()
            .name("station".into())
            .spawn_scoped(s, move || station.run(&tx, cancel))
            .unwrap_or_else(|e| panic!("cannot start the station thread: {e}"));
        for event in rx {
            printer.print(&event);
        }
        loop_thread
            .join()
            .unwrap_or_else(|_| panic!("the station thread panicked"))
    });
    printer.summary(&summary);
    if summary.failed + summary.cancelled > 0 || summary.report_failed {
        Exit::Failed
    } else {
        Exit::Ok
    }
}

fn error_kind(error: &StationError) -> ErrorKind {
    match error {
        StationError::Request(e) => e.kind(),
        StationError::Identity(_) => ErrorKind::Config,
        StationError::StreamImage(_) => ErrorKind::Image,
        StationError::Report(_)
        | StationError::Drives(_)
        | StationError::Spool(_)
        | StationError::SignWithoutReport => ErrorKind::Refused,
    }
}

fn start_event(station: &Station) -> WireEvent {
    let source = station.source();
    WireEvent::start(
        source.path().display().to_string(),
        source.format().name().to_string(),
        source.size_hint(),
        Vec::new(),
        station.configured(),
    )
}

/// Says what happens, as JSON lines or as text on stderr.
struct Printer {
    json: bool,
}

impl Printer {
    fn print(&self, event: &StationEvent) {
        if self.json {
            self.print_json(event);
        } else {
            self.print_text(event);
        }
    }

    fn print_json(&self, event: &StationEvent) {
        if let StationEvent::Warning(message) = event {
            eprintln!("imprint: {message}");
        }
        for line in event.to_wire() {
            emit(&line);
        }
    }

    fn print_text(&self, event: &StationEvent) {
        match event {
            StationEvent::Started { present } => {
                eprintln!("Waiting for drives (Ctrl-C stops).");
                if !present.is_empty() {
                    eprintln!("Present now, not flashed (plug one in again to flash it):");
                    for (drive, reason) in present {
                        eprintln!("  {}: {reason}", describe(drive));
                    }
                }
            }
            StationEvent::Inserted(drive) => eprintln!("+ {}", describe(drive)),
            StationEvent::Skipped { drive, reason } => {
                eprintln!("  skipped {}: {reason}", drive.path().display())
            }
            StationEvent::Removed(drive) => eprintln!("- {} removed", drive.path().display()),
            StationEvent::Flashing { drive, .. } => {
                eprintln!("  flashing {}", drive.path().display())
            }
            StationEvent::Flash { drive, event } => {
                // One line when verification begins; the record ends it.
                if let FlashEvent::Progress {
                    phase: Phase::Verify,
                    bytes: 0,
                    ..
                } = event
                {
                    eprintln!("  {} written, verifying", drive.path().display());
                }
            }
            StationEvent::Finished { drive, record } => {
                let path = drive.path().display();
                match record.result {
                    Outcome::Ok => eprintln!(
                        "✓ {path} done: {} written and verified{}{}",
                        humanize::bytes(record.written_bytes),
                        record
                            .mb_per_s
                            .map(|r| format!(", {r} MB/s"))
                            .unwrap_or_default(),
                        identity_text(record),
                    ),
                    Outcome::Failed => eprintln!(
                        "✗ {path} failed: {}",
                        record.error.as_deref().unwrap_or("failed")
                    ),
                    Outcome::Cancelled => eprintln!("✗ {path} stopped, incomplete"),
                }
            }
            StationEvent::Warning(message) => eprintln!("imprint: {message}"),
        }
    }

    fn summary(&self, summary: &Summary) {
        if self.json {
            emit(&WireEvent::Done {
                ok: summary.ok,
                failed: summary.failed + summary.cancelled,
                image_sha256: summary.image_sha256.clone(),
                image_bytes: None,
                output: None,
                boot_partition: None,
                config_sha256: None,
                warnings: Vec::new(),
                customisation: None,
            });
        }
        eprintln!(
            "Station stopped: {} ok, {} failed, {} cut off, {} skipped.",
            summary.ok, summary.failed, summary.cancelled, summary.skipped
        );
    }
}

fn describe(drive: &SeenDrive) -> String {
    format!(
        "{} — {} ({})",
        station::describe(drive),
        humanize::bytes(drive.drive.size_bytes),
        drive.id
    )
}

/// ", uuid …, hostname …" for a drive with its own identity.
fn identity_text(record: &crate::report::DriveRecord) -> String {
    let mut parts = Vec::new();
    if let Some(row) = record.row {
        parts.push(format!("row {row}"));
    }
    if let Some(uuid) = &record.uuid {
        parts.push(format!("uuid {uuid}"));
    }
    if let Some(hostname) = &record.hostname {
        parts.push(format!("hostname {hostname}"));
    }
    parts.iter().map(|p| format!(", {p}")).collect()
}

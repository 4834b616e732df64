//! The Station view's state: a board of tiles, one per drive that appears,
//! fed by the station's `WireEvent`s — from a station running in this
//! process (when the app may write drives) or in its privileged helper
//! (`pkexec imprint station … --json`), the same lines either way.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::options::HelperOptions;
use super::station_setup::StationSetup;
use super::station_words;
use crate::engine::Phase;
use crate::protocol::{ErrorKind, Outcome, WireEvent};
use crate::request::FlashOptions;
use crate::station::{Eligibility, Station, StationOptions};

/// What a tile shows.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TileState {
    /// Inserted; checks and configuration under way.
    Waiting,
    /// Writing or verifying, with the fraction done (0–1) when known.
    Busy(Phase, Option<f32>),
    Done,
    /// Failed, with the reason in plain words.
    Failed(String),
    /// Stopped before it was complete.
    Cancelled,
    /// Not flashed, and why.
    Skipped(String),
}

/// One drive on the board.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tile {
    /// The station's stable id of the drive.
    pub drive: String,
    pub path: String,
    /// "SanDisk Ultra", else the device path.
    pub name: String,
    pub state: TileState,
    /// "uuid 0123… · hostname line-7", when it has its own identity.
    pub identity: Option<String>,
}

/// Every tile and the counters.
#[derive(Debug, Clone, Default)]
pub(super) struct Board {
    pub tiles: Vec<Tile>,
    pub done: usize,
    pub failed: usize,
    pub started: Option<Instant>,
    /// What the station could not record (a report line it could not
    /// write): the operator must know, the drives go on.
    pub warnings: Vec<String>,
}

impl Board {
    /// Takes one line of the station's protocol into account.
    pub(super) fn apply(&mut self, event: &WireEvent) {
        match event {
            WireEvent::Inserted {
                drive, path, model, ..
            } => {
                let tile = Tile {
                    drive: drive.clone(),
                    path: path.clone(),
                    name: model.clone().unwrap_or_else(|| path.clone()),
                    state: TileState::Waiting,
                    identity: None,
                };
                // A path is reused by the next drive plugged in there.
                self.tiles.retain(|t| t.drive != *drive && t.path != *path);
                self.tiles.push(tile);
            }
            // Drives present at the start have no tile: only inserted ones.
            WireEvent::Skipped { drive, reason, .. } => match station_words::skip_reason(reason) {
                Some(words) => self.set(drive, TileState::Skipped(words)),
                // Not one of the station's drives: no tile.
                None => self.tiles.retain(|t| t.drive != *drive),
            },
            WireEvent::Flashing {
                drive,
                uuid,
                hostname,
                ..
            } => {
                let parts: Vec<String> = [
                    uuid.as_ref().map(|u| format!("uuid {u}")),
                    hostname.as_ref().map(|h| format!("hostname {h}")),
                ]
                .into_iter()
                .flatten()
                .collect();
                if let Some(tile) = self.tile_mut(drive) {
                    tile.identity = (!parts.is_empty()).then(|| parts.join(" · "));
                }
            }
            WireEvent::Progress {
                phase,
                bytes,
                total,
                drive: Some(drive),
                ..
            } => {
                let fraction = total
                    .filter(|t| *t > 0)
                    .map(|t| (*bytes as f32 / t as f32).min(1.0));
                self.set(drive, TileState::Busy(*phase, fraction));
            }
            WireEvent::TargetDone {
                outcome,
                error,
                drive: Some(drive),
                ..
            } => {
                let state = match outcome {
                    Outcome::Ok => {
                        self.done += 1;
                        TileState::Done
                    }
                    Outcome::Failed => {
                        self.failed += 1;
                        TileState::Failed(error.clone().unwrap_or_else(|| "failed".into()))
                    }
                    Outcome::Cancelled => TileState::Cancelled,
                };
                self.set(drive, state);
            }
            // Its slot is free once it is finished; a drive taken out while
            // being written keeps its tile until its failure is reported.
            WireEvent::Error {
                kind: ErrorKind::Report,
                error,
            } => self.warnings.push(error.clone()),
            WireEvent::Removed { drive, .. } => self.tiles.retain(|t| {
                t.drive != *drive || matches!(t.state, TileState::Busy(..) | TileState::Waiting)
            }),
            _ => {}
        }
    }

    fn tile_mut(&mut self, drive: &str) -> Option<&mut Tile> {
        self.tiles.iter_mut().find(|t| t.drive == drive)
    }

    fn set(&mut self, drive: &str, state: TileState) {
        if let Some(tile) = self.tile_mut(drive) {
            tile.state = state;
        }
    }

    /// Drives done per hour since the station started (after a minute, so
    /// the first card does not read as hundreds per hour).
    pub(super) fn per_hour(&self) -> Option<f64> {
        let elapsed = self.started?.elapsed();
        (elapsed >= Duration::from_secs(60))
            .then(|| self.done as f64 / elapsed.as_secs_f64() * 3600.0)
    }
}

/// What the station thread or helper sends the app.
#[derive(Debug)]
// A few lines a second: boxing each event would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum StationMsg {
    Wire(WireEvent),
    /// The station is over; with the reason when it could not start.
    Ended(Option<String>),
}

/// A running station.
pub(super) struct StationRun {
    pub events: Receiver<StationMsg>,
    stop: Stop,
}

enum Stop {
    InProcess(Arc<AtomicBool>),
    Helper(u32),
}

impl StationRun {
    /// Stops the station: drives in flight are cancelled and reported.
    pub(super) fn stop(&self) {
        match &self.stop {
            Stop::InProcess(cancel) => cancel.store(true, Ordering::Relaxed),
            Stop::Helper(pid) => crate::platform::interrupt_process(*pid),
        }
    }
}

/// Starts the station: in this process when it may write any drive, else
/// in the privileged helper. Returns at once.
pub(super) fn start(
    setup: &StationSetup,
    helper: &HelperOptions,
    ctx: &egui::Context,
) -> StationRun {
    if crate::platform::is_administrator() {
        start_in_process(setup, ctx)
    } else {
        start_helper(setup, helper, ctx)
    }
}

fn start_in_process(setup: &StationSetup, ctx: &egui::Context) -> StationRun {
    let (tx, rx) = crossbeam_channel::unbounded();
    let cancel = Arc::new(AtomicBool::new(false));
    let options = StationOptions {
        flash: FlashOptions {
            image: setup.image.clone(),
            config: setup.config.clone(),
            verify: true,
            expected_sha256: None,
            full: false,
            eject: true,
            ..FlashOptions::default()
        },
        identity: Default::default(),
        report: Some(setup.report.clone()),
        count: None,
        eligibility: Eligibility {
            matches: setup.matches(),
            allow_large: setup.allow_large,
        },
        again: setup.again,
        poll_interval: Duration::from_millis(250),
        probe: Default::default(),
    };
    let (ctx, stop) = (ctx.clone(), cancel.clone());
    let spawned = std::thread::Builder::new()
        .name("station".into())
        .spawn(move || {
            let station = match Station::prepare(options) {
                Ok(station) => station,
                Err(e) => {
                    let _ = tx.send(StationMsg::Ended(Some(e.to_string())));
                    ctx.request_repaint();
                    return;
                }
            };
            let (events_tx, events) = crossbeam_channel::unbounded();
            std::thread::scope(|s| {
                s.spawn(move || station.run(&events_tx, stop));
                // Ends when the station ends and drops its sender.
                for event in events {
                    for line in event.to_wire() {
                        let _ = tx.send(StationMsg::Wire(line));
                    }
                    ctx.request_repaint();
                }
            });
            let _ = tx.send(StationMsg::Ended(None));
            ctx.request_repaint();
        });
    if let Err(e) = spawned {
        let (tx, failed) = crossbeam_channel::unbounded();
        let _ = tx.send(StationMsg::Ended(Some(format!(
            "cannot start the station: {e}"
        ))));
        return StationRun {
            events: failed,
            stop: Stop::InProcess(cancel),
        };
    }
    StationRun {
        events: rx,
        stop: Stop::InProcess(cancel),
    }
}

fn start_helper(setup: &StationSetup, helper: &HelperOptions, ctx: &egui::Context) -> StationRun {
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut command = match helper.elevate.split_first() {
        Some((program, rest)) => {
            let mut command = Command::new(program);
            command.args(rest).arg(&helper.exe);
            command
        }
        None => Command::new(&helper.exe),
    };
    command
        .args(setup.helper_args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = tx.send(StationMsg::Ended(Some(format!(
                "Imprint could not ask for administrator rights to run the station: {e}"
            ))));
            return StationRun {
                events: rx,
                stop: Stop::Helper(0),
            };
        }
    };
    let pid = child.id();
    let ctx = ctx.clone();
    let _ = std::thread::Builder::new()
        .name("station-helper".into())
        .spawn(move || read_helper(&mut child, &tx, &ctx));
    StationRun {
        events: rx,
        stop: Stop::Helper(pid),
    }
}

/// Passes the helper's events on; at its end, what it said on stderr when
/// it could not start.
fn read_helper(child: &mut std::process::Child, tx: &Sender<StationMsg>, ctx: &egui::Context) {
    let mut refusal = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match WireEvent::parse(&line) {
                // A report line it could not write stops nothing: shown.
                Some(WireEvent::Error { kind, error }) if kind != ErrorKind::Report => {
                    refusal = Some(error)
                }
                Some(event) => {
                    let _ = tx.send(StationMsg::Wire(event));
                }
                None => {}
            }
            ctx.request_repaint();
        }
    }
    let _ = child.wait();
    let _ = tx.send(StationMsg::Ended(refusal));
    ctx.request_repaint();
}

#[cfg(test)]
#[path = "station_board_tests.rs"]
mod tests;

//! Switching to the Station view and back, starting and stopping the
//! station, and taking in its events once per frame.

use std::path::PathBuf;

use crossbeam_channel::TryRecvError;

use super::action::Action;
use super::app::{ImageSlot, ImprintApp, Screen};
use super::config_check::ConfigStatus;
use super::station_board::{self, Board, StationMsg, StationSetup};
use super::views::station::StationScreen;

impl ImprintApp {
    /// Why the Station view cannot be opened now, or `None`: it takes the
    /// image and configuration as Flash! does, but no drives.
    pub(super) fn station_blocker(&self) -> Option<&'static str> {
        match &self.image {
            ImageSlot::Ready(_) => {}
            _ => return Some("Select an image first"),
        }
        if self.config.local_error().is_some()
            || matches!(self.config_status, ConfigStatus::Invalid(_))
        {
            return Some("Fix the balenaOS configuration first");
        }
        if matches!(self.config_status, ConfigStatus::Checking) {
            return Some("Checking the configuration…");
        }
        None
    }

    pub(super) fn handle_station(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::OpenStation => self.open_station(),
            Action::EditStationMatch(text) => {
                if let Screen::Station(screen) = &mut self.screen {
                    screen.setup.matches = text;
                }
            }
            Action::EditStationReport(text) => {
                if let Screen::Station(screen) = &mut self.screen {
                    screen.setup.report = PathBuf::from(text);
                }
            }
            Action::StartStation => {
                if let Screen::Station(screen) = &mut self.screen {
                    screen.error = None;
                    screen.board = Board {
                        started: Some(std::time::Instant::now()),
                        ..Board::default()
                    };
                    screen.run = Some(station_board::start(&screen.setup, &self.helper, ctx));
                }
            }
            Action::StopStation => {
                if let Screen::Station(screen) = &mut self.screen
                    && let Some(run) = &screen.run
                {
                    screen.stopping = true;
                    run.stop();
                }
            }
            Action::LeaveStation => {
                let running =
                    matches!(&self.screen, Screen::Station(s) if s.run.is_some() && !s.ended);
                if !running {
                    self.screen = Screen::Select;
                }
            }
            _ => {}
        }
    }

    fn open_station(&mut self) {
        if self.station_blocker().is_some() {
            return;
        }
        let Some(info) = self.image.info() else {
            return;
        };
        let config = self.config.to_options();
        let config_name = config
            .config
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| format!("with {}", n.to_string_lossy()));
        self.screen = Screen::Station(Box::new(StationScreen {
            image_name: info.name.clone(),
            config_name,
            setup: StationSetup {
                image: info.source.path().to_path_buf(),
                config,
                matches: String::new(),
                report: station_board::default_report(),
            },
            board: Board::default(),
            run: None,
            stopping: false,
            ended: false,
            error: None,
        }));
    }

    /// Takes in what the station reported since the last frame.
    pub(super) fn poll_station(&mut self) {
        let Screen::Station(screen) = &mut self.screen else {
            return;
        };
        let Some(run) = &screen.run else {
            return;
        };
        loop {
            match run.events.try_recv() {
                Ok(StationMsg::Wire(event)) => screen.board.apply(&event),
                Ok(StationMsg::Ended(error)) => {
                    screen.ended = true;
                    screen.error = error;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    screen.ended = true;
                    break;
                }
            }
        }
    }
}

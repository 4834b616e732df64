//! Switching to the Station view and back, starting and stopping the
//! station, and taking in its events once per frame. The screen's data is
//! in `Screen::Station`; the running station is the shell's `station_run`.

use std::path::PathBuf;

use crossbeam_channel::TryRecvError;

use super::app::ImprintApp;
use super::app_state::Screen;
use super::station_board::{self, Board, StationMsg};
use super::station_setup::{self, StationSetup};
use super::views::station::StationScreen;

impl ImprintApp {
    pub(super) fn edit_station_match(&mut self, text: String) {
        if let Screen::Station(screen) = &mut self.state.screen {
            screen.setup.matches = text;
        }
    }

    pub(super) fn set_station_again(&mut self, on: bool) {
        if let Screen::Station(screen) = &mut self.state.screen {
            screen.setup.again = on;
        }
    }

    pub(super) fn set_station_allow_large(&mut self, on: bool) {
        if let Screen::Station(screen) = &mut self.state.screen {
            screen.setup.allow_large = on;
        }
    }

    pub(super) fn edit_station_report(&mut self, text: String) {
        if let Screen::Station(screen) = &mut self.state.screen {
            screen.setup.report = PathBuf::from(text);
        }
    }

    pub(super) fn start_station(&mut self, ctx: &egui::Context) {
        if let Screen::Station(screen) = &mut self.state.screen {
            screen.error = None;
            screen.board = Board {
                started: Some(std::time::Instant::now()),
                ..Board::default()
            };
            screen.started = true;
            self.station_run = Some(station_board::start(&screen.setup, &self.helper, ctx));
        }
    }

    pub(super) fn stop_station(&mut self) {
        if let Screen::Station(screen) = &mut self.state.screen
            && let Some(run) = &self.station_run
        {
            screen.stopping = true;
            run.stop();
        }
    }

    pub(super) fn leave_station(&mut self) {
        let running = matches!(&self.state.screen, Screen::Station(s) if s.started && !s.ended);
        if !running {
            self.state.screen = Screen::Select;
            self.station_run = None;
        }
    }

    pub(super) fn open_station(&mut self) {
        if self.state.station_blocker().is_some() {
            return;
        }
        let Some(info) = self.state.image.info() else {
            return;
        };
        let config = self.state.config.to_options();
        let config_name = self.state.config.summary().map(|s| format!("with {s}"));
        self.state.screen = Screen::Station(Box::new(StationScreen {
            image_name: info.name.clone(),
            config_name,
            setup: StationSetup {
                image: info.source.path().to_path_buf(),
                config,
                matches: String::new(),
                report: station_setup::default_report(),
                again: false,
                allow_large: false,
            },
            board: Board::default(),
            started: false,
            stopping: false,
            ended: false,
            error: None,
        }));
        self.station_run = None;
    }

    /// Takes in what the station reported since the last frame.
    pub(super) fn poll_station(&mut self) {
        let (Screen::Station(screen), Some(run)) = (&mut self.state.screen, &self.station_run)
        else {
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

//! The Station view: the image and configuration chosen on the selection
//! screen, locked; which drives to take and where the record goes; then a
//! grid of tiles, one per drive plugged in, readable from a metre away (16
//! tiles fit a 1280×800 window), with counters and one Stop button.

use egui::{Color32, RichText};

use super::super::action::Action;
use super::super::station_board::{Board, Tile, TileState};
use super::super::theme;
use super::widgets;
use crate::engine::Phase;

/// The station screen's state.
pub(crate) struct StationScreen {
    pub image_name: String,
    /// "config.json: fleet.json", when one is embedded.
    pub config_name: Option<String>,
    pub setup: super::super::station_setup::StationSetup,
    pub board: Board,
    /// Start was pressed: the station runs (its handle is the shell's).
    pub started: bool,
    /// Stop was pressed; drives in flight are being cancelled.
    pub stopping: bool,
    /// The station is over (stopped, or could not start: `error`).
    pub ended: bool,
    pub error: Option<String>,
}

/// A tile's size: four columns of sixteen tiles in 1280×800.
const TILE_MIN_WIDTH: f32 = 280.0;
const TILE_HEIGHT: f32 = 140.0;
const STATE_SIZE: f32 = 30.0;
/// A skipped drive's border; its word is the theme's secondary text
/// (plain grey is 2.6:1 on the light theme).
const SKIPPED: Color32 = Color32::GRAY;

pub(crate) fn station_screen_ui(
    ui: &mut egui::Ui,
    screen: &StationScreen,
    actions: &mut Vec<Action>,
) {
    egui::Panel::top("station_bar")
        .frame(widgets::bar_frame(ui))
        .show(ui, |ui| top_bar_ui(ui, screen, actions));
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if let Some(error) = &screen.error {
                    widgets::banner_frame().show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.label(
                            RichText::new(format!("The station could not start: {error}"))
                                .color(theme::error_text(ui.visuals())),
                        );
                    });
                    ui.add_space(8.0);
                }
                warnings_ui(ui, &screen.board.warnings);
                if !screen.started && !screen.ended {
                    setup_ui(ui, screen, actions);
                } else {
                    tiles_ui(ui, &screen.board);
                }
            });
    });
}

/// What the station could not record, above the tiles: a drive written
/// but not in the record file is something to fix now, not to find later.
fn warnings_ui(ui: &mut egui::Ui, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    widgets::banner_frame().show(ui, |ui| {
        ui.set_width(ui.available_width());
        for warning in warnings {
            ui.label(
                RichText::new(format!("Not recorded: {warning}"))
                    .color(theme::error_text(ui.visuals())),
            );
        }
    });
    ui.add_space(8.0);
}

fn top_bar_ui(ui: &mut egui::Ui, screen: &StationScreen, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        ui.label(
            RichText::new("Station")
                .size(theme::SCREEN_TITLE_SIZE)
                .strong()
                .color(theme::accent_text(ui.visuals())),
        );
        ui.add_space(12.0);
        ui.vertical(|ui| {
            ui.label(RichText::new(&screen.image_name).strong());
            if let Some(config) = &screen.config_name {
                ui.label(widgets::secondary(ui, config));
            }
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if screen.started && !screen.ended {
                let label = if screen.stopping {
                    "Stopping…"
                } else {
                    "Stop"
                };
                if ui
                    .add_enabled(!screen.stopping, widgets::destructive_button(label))
                    .clicked()
                {
                    actions.push(Action::StopStation);
                }
            } else if ui.button("Back").clicked() {
                actions.push(Action::LeaveStation);
            }
            if screen.started || screen.ended {
                counters_ui(ui, &screen.board);
            }
        });
    });
}

fn counters_ui(ui: &mut egui::Ui, board: &Board) {
    let per_hour = board
        .per_hour()
        .map(|n| format!(" · {n:.0} per hour"))
        .unwrap_or_default();
    ui.label(
        RichText::new(format!(
            "Done {} · Failed {}{per_hour}",
            board.done, board.failed
        ))
        .size(22.0)
        .strong(),
    );
}

fn setup_ui(ui: &mut egui::Ui, screen: &StationScreen, actions: &mut Vec<Action>) {
    widgets::centered_column_ui(ui, |ui| {
        ui.add_space(12.0);
        widgets::card_ui(ui, |ui| {
            ui.label(
                "Every drive plugged in from now on is flashed at once, alone, and verified. \
                 Drives plugged in already are left alone; a drive is flashed once.",
            );
            ui.add_space(8.0);
            let label = ui.label("Only drives matching");
            ui.label(widgets::secondary(
                ui,
                "Optional: device, serial or file patterns, e.g. /dev/sd*. \
                 Without, every removable drive is taken.",
            ));
            let mut matches = screen.setup.matches.clone();
            let response = ui
                .add(
                    egui::TextEdit::singleline(&mut matches)
                        .hint_text("removable drives")
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            if response.changed() {
                actions.push(Action::EditStationMatch(matches));
            }
            ui.add_space(8.0);
            let mut again = screen.setup.again;
            if ui
                .checkbox(
                    &mut again,
                    "Flash a drive again when it is plugged in again",
                )
                .changed()
            {
                actions.push(Action::SetStationAgain(again));
            }
            let mut large = screen.setup.allow_large;
            if ui
                .checkbox(&mut large, "Allow drives over 128 GB")
                .on_hover_text("Off, larger drives are skipped: they are more often hard disks")
                .changed()
            {
                actions.push(Action::SetStationAllowLarge(large));
            }
            ui.add_space(8.0);
            let label = ui.label("Record file");
            ui.label(widgets::secondary(ui, "One line per drive, appended."));
            let mut report = screen.setup.report.display().to_string();
            let response = ui
                .add(egui::TextEdit::singleline(&mut report).desired_width(f32::INFINITY))
                .labelled_by(label.id);
            if response.changed() {
                actions.push(Action::EditStationReport(report));
            }
            ui.add_space(12.0);
            if ui.add(widgets::primary_button("Start station")).clicked() {
                actions.push(Action::StartStation);
            }
        });
    });
}

fn tiles_ui(ui: &mut egui::Ui, board: &Board) {
    if board.tiles.is_empty() {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            ui.label(
                RichText::new("Plug in a drive")
                    .size(STATE_SIZE)
                    .color(ui.visuals().weak_text_color()),
            );
        });
        return;
    }
    let columns = ((ui.available_width() / TILE_MIN_WIDTH).floor() as usize).max(1);
    let gap = 8.0;
    let width = (ui.available_width() - gap * (columns as f32 - 1.0)) / columns as f32;
    for row in board.tiles.chunks(columns) {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = gap;
            for tile in row {
                tile_ui(ui, tile, width);
            }
        });
        ui.add_space(gap);
    }
}

fn tile_ui(ui: &mut egui::Ui, tile: &Tile, width: f32) {
    let (text, color) = state_text(&tile.state);
    widgets::card_frame(ui, Some(color)).show(ui, |ui| {
        // The frame's margins are outside this size.
        ui.set_width(width - 36.0);
        ui.set_height(TILE_HEIGHT - 36.0);
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(&tile.name).size(18.0).strong());
                if tile.name != tile.path {
                    ui.label(widgets::secondary(ui, &tile.path));
                }
            });
            // The border keeps the mark colour; the words take the shade that
            // reads on this theme (architecture §6).
            let text_color = if color == SKIPPED {
                ui.visuals().weak_text_color()
            } else {
                theme::text_color(ui.visuals(), color)
            };
            ui.label(
                RichText::new(text)
                    .size(STATE_SIZE)
                    .strong()
                    .color(text_color),
            );
            if let TileState::Busy(_, Some(fraction)) = tile.state {
                ui.add(egui::ProgressBar::new(fraction).desired_height(10.0));
            }
            let detail = match &tile.state {
                TileState::Failed(reason) | TileState::Skipped(reason) => Some(reason.as_str()),
                _ => tile.identity.as_deref(),
            };
            if let Some(detail) = detail {
                // Two lines at most; the rest on hover.
                let mut job = egui::text::LayoutJob::single_section(
                    detail.to_string(),
                    egui::TextFormat {
                        font_id: egui::FontId::proportional(15.0),
                        color: ui.visuals().text_color(),
                        ..Default::default()
                    },
                );
                job.wrap = egui::text::TextWrapping {
                    max_width: ui.available_width(),
                    max_rows: 2,
                    break_anywhere: false,
                    overflow_character: Some('…'),
                };
                ui.add(egui::Label::new(job)).on_hover_text(detail);
            }
        });
    });
}

/// The state in a word or two, and its colour.
fn state_text(state: &TileState) -> (String, Color32) {
    let percent = |f: &Option<f32>| {
        f.map(|f| format!(" {:.0} %", f * 100.0))
            .unwrap_or_default()
    };
    match state {
        TileState::Waiting => ("Waiting".into(), theme::WARNING),
        TileState::Busy(Phase::Write, f) => (format!("Writing{}", percent(f)), theme::ACCENT),
        TileState::Busy(Phase::Verify, f) => (format!("Verifying{}", percent(f)), theme::ACCENT),
        TileState::Done => ("Done".into(), theme::SUCCESS),
        TileState::Failed(_) => ("Failed".into(), theme::ERROR),
        TileState::Cancelled => ("Stopped".into(), theme::WARNING),
        TileState::Skipped(_) => ("Skipped".into(), SKIPPED),
    }
}

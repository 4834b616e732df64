//! The desktop app (eframe/egui): select an image, select drives, flash,
//! watch each drive's progress, see each drive's result.
//!
//! The app is split the way rerun splits its viewer: [`state`] holds the
//! selection and the flash run (plain data, unit-tested), `app_state` the
//! rest of what the views show (plain data too), `app` is the shell that
//! owns it with the channels, workers and running handles, `app_poll` does
//! the per-frame logic (draining the channels), `views` draws the state and
//! reports actions, `commands` dispatches each to one method (with
//! `select_commands`, `path_commands`, `station_mode`), and the background
//! work lives in its own files: `drive_feed` (the live drive list),
//! `image_probe` (opening an image), `demo_image` (the built-in demo),
//! `file_dialog` (the native dialogs), `message` (how problems are worded),
//! `config_check` (balenaOS configuration), `engine_run` and `helper` (a
//! flash run in this process or in a privileged child process;
//! docs/architecture.md §6).

mod action;
mod app;
mod app_poll;
mod app_queries;
mod app_state;
mod checksum;
mod commands;
mod config_check;
mod demo_image;
mod download;
mod drive_feed;
mod drive_holds;
mod engine_run;
mod file_dialog;
mod file_target;
mod helper;
mod helper_job;
mod image_probe;
mod incomplete;
mod message;
mod notify;
mod options;
mod path_commands;
mod progress;
mod run_event;
mod run_options;
mod run_queries;
mod run_time;
mod select_commands;
mod settings;
pub mod state;
mod station_board;
mod station_mode;
mod station_setup;
mod station_words;
mod theme;
mod url_feed;
mod views;

use std::path::PathBuf;

use crate::request::Exit;

pub use app::ImprintApp;
pub use drive_feed::DriveFeed;
pub use file_dialog::FileChooser;
pub use notify::{Notification, Notifier};
pub use options::{AppOptions, HelperMode, HelperOptions};

/// The application id: the name of the `.desktop` file and the Wayland
/// app id, so the window gets the icon of the installed desktop entry.
pub const APP_ID: &str = "io.github.imprint.Imprint";

/// Opens the window and runs until it is closed; returns the exit code.
pub fn run(image: Option<PathBuf>) -> Exit {
    let options = AppOptions {
        image,
        ..AppOptions::from_env()
    };
    let native = eframe::NativeOptions {
        viewport: viewport(),
        ..Default::default()
    };
    let result = eframe::run_native(
        "Imprint",
        native,
        Box::new(move |cc| {
            close_on_interrupt(&cc.egui_ctx);
            Ok(Box::new(ImprintApp::new(cc, options)))
        }),
    );
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            // No window means nowhere else to say it.
            eprintln!("imprint: cannot open the desktop app: {e}");
            eprintln!("imprint: the command line still works; see `imprint --help`");
            Exit::Refused
        }
    }
}

/// The smallest window the app fits: 800×480 (the Raspberry Pi
/// touchscreen, Etcher's window) less a title bar, with room to spare.
const MIN_WINDOW: [f32; 2] = [640.0, 400.0];

/// The main window: its title, icon and sizes.
fn viewport() -> egui::ViewportBuilder {
    egui::ViewportBuilder::default()
        .with_title("Imprint")
        .with_app_id(APP_ID)
        .with_inner_size([960.0, 680.0])
        .with_min_inner_size(MIN_WINDOW)
        .with_drag_and_drop(true)
        .with_icon(theme::window_icon())
}

#[cfg(test)]
#[test]
fn the_window_may_be_as_small_as_800_by_480_with_a_title_bar() {
    // It was 800×600 at least: the touchscreen could not show it at all.
    let min = viewport().min_inner_size.unwrap();
    assert!(min.x <= 800.0 && min.y <= 480.0 - 40.0, "{min:?}");
}

/// Ctrl-C (SIGINT) closes the window the normal way, so eframe shuts down
/// cleanly and the exit code is 0, instead of the process dying mid-frame.
fn close_on_interrupt(ctx: &egui::Context) {
    let ctx = ctx.clone();
    let installed = ctrlc::set_handler(move || {
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        ctx.request_repaint();
    });
    if let Err(e) = installed {
        // Only Ctrl-C handling is lost; the window works.
        eprintln!("imprint: Ctrl-C will not close the window: {e}");
    }
}

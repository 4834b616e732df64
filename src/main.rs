//! The `imprint` binary: without a sub-command (or with `gui`, or with an
//! image's path alone) it opens the desktop app, with any other it runs the
//! command line.

use std::path::PathBuf;
use std::process::ExitCode;

use imprint::cli::{self, Command};
use imprint::request::Exit;

fn main() -> ExitCode {
    imprint::platform::return_large_buffers_to_the_system();
    let (command, image) = match cli::parse() {
        Ok(parsed) => (parsed.command, parsed.image),
        Err(exit) => return exit.into(),
    };
    match command {
        // `imprint IMAGE` opens the app with that image.
        None => open_app(image),
        Some(Command::Gui { image }) => open_app(image),
        Some(command) => cli::run(command),
    }
    .into()
}

#[cfg(feature = "gui")]
fn open_app(image: Option<PathBuf>) -> Exit {
    imprint::gui::run(image)
}

#[cfg(not(feature = "gui"))]
fn open_app(_image: Option<PathBuf>) -> Exit {
    eprintln!(
        "imprint: this build has no desktop app (built without the `gui` feature); try `imprint --help`"
    );
    Exit::Refused
}

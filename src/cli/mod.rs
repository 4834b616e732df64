//! The command line: `flash`, `verify`, `configure`, `list`, `hash`, `gui`.
//!
//! Exit codes (DESIGN.md §5): 0 every target succeeded; 1 at least one target
//! failed while writing or verifying; 2 refused before anything was written.

mod args;
pub mod configure;
mod flash;
mod interrupt;
mod json_lines;
mod list;
mod sink;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

use crate::protocol::{ErrorKind, WireEvent};

pub use args::{Cli, Command, ConfigArgs, FlashArgs};

/// Every target succeeded.
pub const EXIT_OK: u8 = 0;
/// At least one target failed while writing or verifying.
pub const EXIT_FAILED: u8 = 1;
/// Refused before writing anything: usage, unreadable image, unsafe target,
/// invalid configuration.
pub const EXIT_REFUSED: u8 = 2;

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::from(EXIT_OK);
            }
            // A machine reading --json learns of a usage error too, as an
            // event, not only from text on stderr meant for people.
            if std::env::args_os().any(|arg| arg == "--json") {
                let rendered = e.render().to_string();
                // The error itself, without the usage lines and hints after it.
                let message = rendered.split("\n\n").next().unwrap_or_default();
                let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
                json_lines::emit(&WireEvent::error(
                    ErrorKind::Usage,
                    message.trim_start_matches("error: "),
                ));
            }
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    let code = match cli.command {
        None => open_app(None),
        Some(Command::Gui { image }) => open_app(image),
        Some(Command::Flash(args)) => flash::run(args),
        Some(Command::Verify(args)) => flash::verify(args),
        Some(Command::Hash { image }) => flash::hash(&image),
        Some(Command::Configure(args)) => configure::run(args),
        Some(Command::List(args)) => list::run(args),
    };
    ExitCode::from(code)
}

#[cfg(feature = "gui")]
fn open_app(image: Option<std::path::PathBuf>) -> u8 {
    crate::gui::run(image)
}

#[cfg(not(feature = "gui"))]
fn open_app(_image: Option<std::path::PathBuf>) -> u8 {
    eprintln!(
        "imprint: this build has no desktop app (built without the `gui` feature); try `imprint --help`"
    );
    EXIT_REFUSED
}

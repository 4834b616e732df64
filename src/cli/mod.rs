//! The command line: `flash`, `verify`, `configure`, `list`, `hash`, `gui`.
//!
//! Exit codes (DESIGN.md §5): 0 every target succeeded; 1 at least one target
//! failed while writing or verifying; 2 refused before anything was written.

mod args;
pub mod configure;
mod flash;
mod json_lines;
mod list;
mod sink;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

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
            return ExitCode::from(if e.use_stderr() {
                EXIT_REFUSED
            } else {
                EXIT_OK
            });
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

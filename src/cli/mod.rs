//! The command line: `flash`, `verify`, `configure`, `list`, `hash`,
//! `station`, `key`, `verify-drive`, `backup`, `gui`.
//!
//! Exit codes ([`Exit`], docs/architecture.md §5): 0 every target succeeded; 1 at least one target
//! failed while writing or verifying; 2 refused before anything was written.

mod args;
mod backup;
mod configure;
mod customise_args;
mod flash;
mod flash_each;
mod interrupt;
mod json_lines;
mod key;
mod list;
mod signed_image;
mod sink;
mod station;
mod terminal;
mod verify_drive;

use clap::Parser;

use crate::protocol::{ErrorKind, WireEvent};
use crate::request::Exit;

pub use args::{Cli, Command, ConfigArgs, FlashArgs, IdentityArgs, StationArgs};
pub use backup::BackupArgs;

/// Parses the command line. A usage error (or `--help`) is printed here and
/// its exit status returned.
pub fn parse() -> Result<Cli, Exit> {
    Cli::try_parse().map_err(|e| {
        let _ = e.print();
        if !e.use_stderr() {
            return Exit::Ok;
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
        Exit::Refused
    })
}

/// Runs a command of the command line. The app's commands (none, `gui`)
/// are `main`'s to open, not this module's.
pub fn run(command: Command) -> Exit {
    match command {
        Command::Flash(args) => flash::run(args),
        Command::Verify(args) => flash::verify(args),
        Command::Hash { image } => flash::hash(&image),
        Command::Configure(args) => configure::run(args),
        Command::List(args) => list::run(args),
        Command::Station(args) => station::run(args),
        Command::Key(args) => key::run(args),
        Command::VerifyDrive(args) => verify_drive::run(args),
        Command::Backup(args) => backup::run(args),
        Command::Gui { .. } => {
            eprintln!("imprint: this build has no desktop app; try `imprint --help`");
            Exit::Refused
        }
    }
}

/// Says why nothing was written — on stderr, and as an `error` event under
/// `--json` — and returns [`Exit::Refused`].
fn refuse(json: bool, kind: ErrorKind, message: &str) -> Exit {
    if json {
        json_lines::emit(&WireEvent::error(kind, message));
    }
    eprintln!("imprint: {message}");
    Exit::Refused
}

//! The `imprint` binary: without a sub-command it opens the desktop app, with
//! one it runs the command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    imprint::cli::main()
}

//! `imprint list`: the drives a user may flash.

use super::args::ListArgs;

pub fn run(args: ListArgs) -> u8 {
    let _ = args;
    eprintln!("imprint list: not available yet");
    super::EXIT_REFUSED
}

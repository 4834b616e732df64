//! `imprint configure`: a configured copy of an image as a new raw file.

use super::args::ConfigureArgs;

pub fn run(args: ConfigureArgs) -> u8 {
    let _ = args;
    eprintln!("imprint configure: not available yet");
    super::EXIT_REFUSED
}

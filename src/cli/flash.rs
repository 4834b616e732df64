//! `imprint flash`, `verify` and `hash`.

use std::path::Path;

use super::args::{FlashArgs, VerifyArgs};

pub fn run(args: FlashArgs) -> u8 {
    let _ = args;
    super::EXIT_REFUSED
}

pub fn verify(args: VerifyArgs) -> u8 {
    let _ = args;
    super::EXIT_REFUSED
}

pub fn hash(image: &Path) -> u8 {
    let _ = image;
    super::EXIT_REFUSED
}

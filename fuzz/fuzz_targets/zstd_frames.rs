#![no_main]
//! Fuzz target: see `imprint::fuzzing::zstd_frames`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    imprint::fuzzing::zstd_frames(data);
});

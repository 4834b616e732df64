#![no_main]
//! Fuzz target: see `imprint::fuzzing::xz_index`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    imprint::fuzzing::xz_index(data);
});

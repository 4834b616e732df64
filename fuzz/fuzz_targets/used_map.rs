#![no_main]
//! Fuzz target: see `imprint::fuzzing::used_map`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    imprint::fuzzing::used_map(data);
});

#![no_main]
//! Fuzz target: see `imprint::fuzzing::config_json`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    imprint::fuzzing::config_json(data);
});

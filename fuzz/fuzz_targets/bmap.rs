#![no_main]
//! Fuzz target: see `imprint::fuzzing::bmap`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    imprint::fuzzing::bmap(data);
});

#![no_main]
//! Fuzz target: see `imprint::fuzzing::zip_archive`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    imprint::fuzzing::zip_archive(data);
});

#![no_main]
//! Fuzz target: see `imprint::fuzzing::partition_table`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    imprint::fuzzing::partition_table(data);
});

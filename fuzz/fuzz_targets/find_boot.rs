#![no_main]
//! Fuzz target: see `imprint::fuzzing::find_boot`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // fatfs panics on some corrupt filesystems; Imprint catches those
        // panics and reports an error, which is the behaviour under test.
        // libFuzzer's hook would abort on them even though they are caught;
        // a panic that escapes is still a crash (libfuzzer-sys aborts), and
        // every panic outside fatfs is printed.
        std::panic::set_hook(Box::new(|info| {
            if !info.location().is_some_and(|l| l.file().contains("/fatfs-")) {
                eprintln!("{info}");
            }
        }));
    },
    |data: &[u8]| {
        imprint::fuzzing::find_boot(data);
    }
);

//! Keeps the platform room sealed: outside `src/platform`, no code names
//! `libc`, and production code (before a file's `#[cfg(test)]` module)
//! uses no `std::os` extension trait. A new OS then only needs a module of
//! its own; an OS call added elsewhere fails this test rather than the
//! next port.

use std::fs;
use std::path::{Path, PathBuf};

/// Production code outside `platform` that may use `std::os`, and why.
/// (None today: a WiFi SSID's bytes come from `OsStr::as_encoded_bytes`.)
const ALLOWED_STD_OS: [(&str, &str); 0] = [];

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Every `libc` anywhere and every `std::os` in production code, outside
/// `src/platform`, as "path:line: text".
fn os_calls_outside_platform(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut found = Vec::new();
    for path in files {
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if relative.starts_with("src/platform/") {
            continue;
        }
        let allowed = ALLOWED_STD_OS.iter().any(|(file, _)| *file == relative);
        let text = fs::read_to_string(&path).unwrap();
        // A `foo_tests.rs` beside `foo.rs` is its `#[cfg(test)]` module.
        let mut in_tests = relative.ends_with("_tests.rs");
        for (number, line) in text.lines().enumerate() {
            in_tests |= line.trim_start() == "#[cfg(test)]";
            let std_os = line.contains("std::os::") && !in_tests && !allowed;
            if line.contains("libc::") || std_os {
                found.push(format!("{relative}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn no_os_call_outside_the_platform() {
    let found = os_calls_outside_platform(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        found.is_empty(),
        "OS calls outside src/platform (add them to the platform surface):\n{}",
        found.join("\n")
    );
}

#[test]
fn an_os_call_outside_the_platform_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("platform")).unwrap();
    fs::create_dir_all(src.join("gui")).unwrap();
    fs::write(src.join("platform/linux.rs"), "libc::getuid();").unwrap();
    fs::write(
        src.join("gui/options.rs"),
        "use std::os::unix::fs::MetadataExt;\nfn f() { libc::geteuid(); }\n#[cfg(test)]\nmod tests { use std::os::fd::OwnedFd; }\n",
    )
    .unwrap();
    assert_eq!(
        os_calls_outside_platform(tmp.path()),
        [
            "src/gui/options.rs:1: use std::os::unix::fs::MetadataExt;",
            "src/gui/options.rs:2: fn f() { libc::geteuid(); }",
        ]
    );
}

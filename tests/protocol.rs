//! The JSON-lines protocol as documented: every example line of README.md is
//! an event of `imprint::protocol::WireEvent`, written exactly as the
//! command line writes it, so the front door cannot drift from the code.

use imprint::protocol::WireEvent;

#[test]
fn the_readme_examples_are_wire_events_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let lines: Vec<&str> = readme
        .lines()
        .filter(|line| line.starts_with("{\"event\":"))
        .collect();
    assert!(lines.len() >= 5, "README.md shows the protocol: {lines:?}");
    let mut names = Vec::new();
    for line in lines {
        let event = WireEvent::parse(line)
            .unwrap_or_else(|| panic!("README line is not a WireEvent: {line}"));
        assert_eq!(
            event.to_line(),
            line,
            "README line differs from what is written"
        );
        names.push(line.split('"').nth(3).unwrap().to_string());
    }
    for name in [
        "start",
        "progress",
        "target_done",
        "done",
        "inserted",
        "skipped",
        "removed",
        "error",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "README shows no {name} event"
        );
    }
}

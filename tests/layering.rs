//! The layers of `docs/architecture.md` §1, checked: every top module of the
//! library is in that table, and a module names (`crate::x`) only modules in
//! rows above its own, never one in its own row or below. The table is read
//! from the document itself, so the rule and its documentation cannot drift.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const DOC: &str = "docs/architecture.md";

/// The modules of each row of §1's table, lowest first: module → row.
fn layers(doc: &str) -> BTreeMap<String, usize> {
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with("1. Layers"))
        .expect("docs/architecture.md has a §1 Layers");
    let mut rows = BTreeMap::new();
    let table = section
        .lines()
        .skip_while(|l| !l.starts_with("| module"))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    for (row, line) in table.enumerate() {
        let first_cell = line.split('|').nth(1).unwrap_or_default();
        for name in first_cell.split('`').skip(1).step_by(2) {
            rows.insert(name.to_string(), row);
        }
    }
    assert!(rows.len() > 10, "§1's table was not found: {rows:?}");
    rows
}

/// The top modules `src/lib.rs` declares.
fn top_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::name` references in `text`, outside line comments.
fn referenced(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for piece in code.split("crate::").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

/// Every violation in the tree under `root`, as "file: names x (row r)".
fn violations(root: &Path) -> Vec<String> {
    let doc = std::fs::read_to_string(root.join(DOC)).unwrap();
    let rows = layers(&doc);
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let mut found = Vec::new();
    for module in top_modules(&lib) {
        let Some(&own) = rows.get(&module) else {
            found.push(format!("module `{module}` is missing from {DOC} §1"));
            continue;
        };
        let mut files = Vec::new();
        let dir = root.join("src").join(&module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        let file = root.join("src").join(format!("{module}.rs"));
        if file.is_file() {
            files.push(file);
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for name in referenced(&text) {
                let allowed = name == module || rows.get(&name).is_some_and(|&row| row < own);
                if !allowed && rows.contains_key(&name) {
                    found.push(format!(
                        "{}: names crate::{name}, which is not above `{module}` in {DOC} §1",
                        file.strip_prefix(root).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn every_module_names_only_the_layers_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = violations(root);
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

/// The check itself can fail: the engine naming the app, or the two front
/// ends naming each other, is caught.
#[test]
fn the_layering_check_catches_an_import_from_above() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(copy.path().join("docs")).unwrap();
    std::fs::copy(root.join(DOC), copy.path().join(DOC)).unwrap();
    let src = copy.path().join("src");
    std::fs::create_dir_all(src.join("engine")).unwrap();
    std::fs::create_dir_all(src.join("cli")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod engine;\npub mod cli;\n").unwrap();
    std::fs::write(src.join("engine/mod.rs"), "use crate::gui::*;\n").unwrap();
    std::fs::write(src.join("cli/mod.rs"), "use crate::gui::app;\n").unwrap();
    let found = violations(copy.path());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("src/cli/mod.rs: names crate::gui"),
        "{found:?}"
    );
    assert!(
        found[1].contains("src/engine/mod.rs: names crate::gui"),
        "{found:?}"
    );
}

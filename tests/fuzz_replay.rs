//! Replays the committed fuzz inputs on stable: the hand-made seeds
//! (fuzz/seeds), the minimised corpus (fuzz/corpus) and every input that
//! once crashed, hung or exhausted memory (fuzz/regressions), each through
//! the `imprint::fuzzing` function its target calls. The fuzz targets
//! themselves need nightly and run by hand (fuzz/README.md).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use imprint::fuzzing;

/// Far above what any committed input takes (milliseconds); an input this
/// slow means a parser regressed towards a hang.
const MAX_INPUT_TIME: Duration = Duration::from_secs(5);

type Target = fn(&[u8]) -> bool;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `folder`, sorted; none when it does not exist.
fn inputs(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `target` on every committed input of `name`; returns how many.
fn replay(name: &str, target: Target) -> usize {
    let seeds = inputs(&fuzz_dir().join("seeds").join(name));
    assert!(!seeds.is_empty(), "no seeds for {name}");
    let mut count = 0;
    for folder in ["seeds", "corpus", "regressions"] {
        for path in inputs(&fuzz_dir().join(folder).join(name)) {
            let data = fs::read(&path).unwrap();
            let started = Instant::now();
            let accepted = target(&data);
            let elapsed = started.elapsed();
            assert!(
                elapsed < MAX_INPUT_TIME,
                "{} took {elapsed:?}",
                path.display()
            );
            let is_valid_seed = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("valid-"));
            if is_valid_seed {
                assert!(accepted, "{} is no longer accepted", path.display());
            }
            count += 1;
        }
    }
    count
}

#[test]
fn fuzz_replay_used_map() {
    replay("used_map", fuzzing::used_map);
}

#[test]
fn fuzz_replay_bmap() {
    replay("bmap", fuzzing::bmap);
}

#[test]
fn fuzz_replay_sniff() {
    replay("sniff", fuzzing::sniff);
}

#[test]
fn fuzz_replay_xz_index() {
    replay("xz_index", fuzzing::xz_index);
}

#[test]
fn fuzz_replay_zstd_frames() {
    replay("zstd_frames", fuzzing::zstd_frames);
}

#[test]
fn fuzz_replay_zip_archive() {
    replay("zip_archive", fuzzing::zip_archive);
}

#[test]
fn fuzz_replay_partition_table() {
    replay("partition_table", fuzzing::partition_table);
}

#[test]
fn fuzz_replay_find_boot() {
    replay("find_boot", fuzzing::find_boot);
}

#[test]
fn fuzz_replay_fat_configure() {
    replay("fat_configure", fuzzing::fat_configure);
}

#[test]
fn fuzz_replay_config_json() {
    replay("config_json", fuzzing::config_json);
}

/// Every target folder in fuzz/ has its test above: a new target cannot be
/// added without its replay.
#[test]
fn fuzz_replay_covers_every_target() {
    let mut targets: Vec<String> = inputs(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    targets.sort();
    let mut replayed = [
        "sniff",
        "xz_index",
        "zstd_frames",
        "zip_archive",
        "partition_table",
        "find_boot",
        "fat_configure",
        "config_json",
        "used_map",
        "bmap",
    ];
    replayed.sort();
    assert_eq!(targets, replayed);
}

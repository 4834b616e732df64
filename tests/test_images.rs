//! The project's own test images (tests/fixtures/) are what the tests take
//! them for: README.md lists every file and states the figures the tests
//! use, `test.img` has the partitions the tests rely on, and
//! `make-fixtures.sh`, run again, makes files that decode to the committed
//! ones (so the committed files are the script's, not hand-edited).

use std::io::Read;
use std::path::Path;
use std::process::Command;

use imprint::source::ImageSource;
use sha2::{Digest, Sha256};

use crate::support::{
    GPT_TEST_IMG_BYTES, GPT_TEST_IMG_SHA256, TEST_IMG_BYTES, TEST_IMG_P1_BYTES, TEST_IMG_P1_OFFSET,
    TEST_IMG_P2_BYTES, TEST_IMG_P2_OFFSET, TEST_IMG_SHA256, fixture, fixtures_dir, skip_without,
};

/// The files of tests/fixtures/ that are not test images.
const NOT_IMAGES: [&str; 3] = ["README.md", "make-fixtures.sh", "make_zips.py"];

/// The test images of `dir`, by name, sorted.
fn image_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| !NOT_IMAGES.contains(&name.as_str()))
        .collect();
    names.sort();
    names
}

/// What Imprint reads from `path`: "LEN SHA256" of the decoded image, or
/// the error that refused it at open.
fn decoded(path: &Path) -> String {
    let source = match ImageSource::open(path) {
        Ok(source) => source,
        Err(error) => {
            return format!("refused: {error}").replace(&path.display().to_string(), "IMAGE");
        }
    };
    let mut reader = source.stream().expect("stream");
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let got = reader
            .read(&mut buffer)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if got == 0 {
            break;
        }
        hasher.update(&buffer[..got]);
        len += got as u64;
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{len} {hex}")
}

/// A fixture regenerated without updating README.md and the constants of
/// tests/support/mod.rs fails here.
#[test]
fn fixtures_readme_lists_every_file_and_the_figures_the_tests_use() {
    let readme = std::fs::read_to_string(fixtures_dir().join("README.md")).unwrap();
    for name in image_names(&fixtures_dir())
        .iter()
        .map(String::as_str)
        .chain(NOT_IMAGES[1..].iter().copied())
    {
        assert!(
            readme.contains(&format!("`{name}`")),
            "README.md lists {name}"
        );
    }
    for figure in [
        TEST_IMG_SHA256.to_string(),
        GPT_TEST_IMG_SHA256.to_string(),
        TEST_IMG_BYTES.to_string(),
        GPT_TEST_IMG_BYTES.to_string(),
    ] {
        assert!(readme.contains(&figure), "README.md states {figure}");
    }
}

/// The partitions of test.img are what the tests in bootcfg.rs, flash/ and
/// gui/ assume.
#[test]
fn test_img_has_two_fat12_partitions_of_type_0e() {
    let source = ImageSource::open(&fixture("test.img.xz")).unwrap();
    let table = imprint::bootcfg::partition_table(source.stream().unwrap()).unwrap();
    let described: Vec<String> = table.partitions.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        described,
        [
            format!(
                "1 (offset {TEST_IMG_P1_OFFSET}, {TEST_IMG_P1_BYTES} bytes, type 0x0e, FAT labelled \"NEW VOLUME\")"
            ),
            format!(
                "2 (offset {TEST_IMG_P2_OFFSET}, {TEST_IMG_P2_BYTES} bytes, type 0x0e, FAT labelled \"VOLUME\")"
            ),
        ]
    );
}

/// Runs make-fixtures.sh into a temporary folder: it makes the same set of
/// files, each decoding to what the committed one decodes to (or refused
/// alike). Compressed bytes may differ with a compressor's version, the
/// decoded images may not.
#[test]
fn make_fixtures_script_remakes_the_committed_images() {
    let tools = [
        "sfdisk",
        "mkfs.vfat",
        "mcopy",
        "mke2fs",
        "xz",
        "gzip",
        "bzip2",
        "zstd",
        "python3",
    ];
    let missing: Vec<_> = tools
        .iter()
        .filter(|tool| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        skip_without(&format!("{missing:?} (scripts/install-deps)"));
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let run = Command::new("bash")
        .arg(fixtures_dir().join("make-fixtures.sh"))
        .arg(out.path())
        .output()
        .expect("run make-fixtures.sh");
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "make-fixtures.sh failed:\n{said}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // It prints the figures of the two raw images.
    for line in [
        format!("test.img  {TEST_IMG_BYTES} bytes  sha256 {TEST_IMG_SHA256}"),
        format!("gpt-test.img  {GPT_TEST_IMG_BYTES} bytes  sha256 {GPT_TEST_IMG_SHA256}"),
    ] {
        assert!(said.lines().any(|l| l == line), "{line}\n{said}");
    }
    assert_eq!(image_names(out.path()), image_names(&fixtures_dir()));
    for name in image_names(&fixtures_dir()) {
        assert_eq!(
            decoded(&out.path().join(&name)),
            decoded(&fixture(&name)),
            "{name}"
        );
    }
}

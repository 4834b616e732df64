//! Tests of the cut-short check (`incomplete`) on the fixtures, whole and
//! truncated.

use super::*;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn cut(name: &str, keep: usize) -> tempfile::NamedTempFile {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &bytes[..keep.min(bytes.len())]).unwrap();
    file
}

#[test]
fn whole_files_are_complete() {
    assert!(!is_cut_short(&fixture("test.img.xz"), ImageFormat::Xz));
    assert!(!is_cut_short(&fixture("zip-deflate.zip"), ImageFormat::Zip));
    // Stream padding after the footer is allowed.
    let mut padded = std::fs::read(fixture("test.img.xz")).unwrap();
    padded.extend_from_slice(&[0; 8]);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), padded).unwrap();
    assert!(!is_cut_short(file.path(), ImageFormat::Xz));
}

#[test]
fn files_cut_anywhere_are_short() {
    for keep in [100, 700, 1290] {
        let xz = cut("test.img.xz", keep);
        assert!(is_cut_short(xz.path(), ImageFormat::Xz), "xz cut at {keep}");
    }
    for keep in [30, 3000, 5800] {
        let zip = cut("zip-deflate.zip", keep);
        assert!(
            is_cut_short(zip.path(), ImageFormat::Zip),
            "zip cut at {keep}"
        );
    }
    // Formats that record no end are never called short here.
    let gz = cut("test.img.gz", 100);
    assert!(!is_cut_short(gz.path(), ImageFormat::Gzip));
}

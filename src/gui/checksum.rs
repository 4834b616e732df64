//! The expected SHA-256 of the image file: pasted by the user on the image
//! card, or found beside the image (`SHA256SUMS`, `<image>.sha256`,
//! `<image>.sha256sum`, the line naming the image), compared with the
//! file's own SHA-256 before anything is written. A mismatch blocks Flash!:
//! the download is damaged or not the one published.

use std::path::{Path, PathBuf};

use super::app_state::FileHash;

/// Checksum files larger than this are not checksum files.
const MAX_SUMS_BYTES: u64 = 1 << 20;

/// A checksum found beside the image, and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub sha256: String,
    pub file: PathBuf,
}

/// How the file compares with the expected checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// No checksum to compare with.
    NotGiven,
    /// The typed text is not 64 hexadecimal digits.
    Malformed,
    /// The file's SHA-256 is still being computed.
    Waiting,
    Matches,
    Mismatch,
    /// The file's SHA-256 could not be computed.
    Unknown,
}

/// 64 hexadecimal digits, lower-cased, from what the user pasted (spaces,
/// a trailing file name, an "SHA256:" prefix are tolerated).
pub(super) fn normalise(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text
        .strip_prefix("sha256:")
        .or_else(|| text.strip_prefix("SHA256:"))
        .unwrap_or(text)
        .trim();
    let hash = text.split_whitespace().next()?;
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hash.to_ascii_lowercase())
}

/// The checksum of the file called `name` in a checksum file's text:
/// GNU lines (`HASH  name`, `HASH *name`), BSD lines
/// (`SHA256 (name) = HASH`), or — for a `<image>.sha256` file, `alone` —
/// a lone hash.
pub(super) fn parse_sums(text: &str, name: &str, alone: bool) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    for line in &lines {
        if let Some(rest) = line.strip_prefix("SHA256 (")
            && let Some((file, hash)) = rest.split_once(") = ")
        {
            if base_name(file) == name {
                return normalise(hash);
            }
            continue;
        }
        if let Some((hash, file)) = line.split_once(char::is_whitespace) {
            let file = file.trim_start().trim_start_matches('*');
            if base_name(file) == name {
                return normalise(hash);
            }
        }
    }
    match lines.as_slice() {
        [only] if alone && only.split_whitespace().count() == 1 => normalise(only),
        _ => None,
    }
}

/// A path's last component ("./images/a.img.xz" → "a.img.xz").
fn base_name(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

/// Looks beside `image` for its published checksum.
pub(super) fn find_beside(image: &Path) -> Option<Found> {
    let name = image.file_name()?.to_str()?;
    let folder = image.parent()?;
    let candidates = [
        (folder.join(format!("{name}.sha256")), true),
        (folder.join(format!("{name}.sha256sum")), true),
        (folder.join("SHA256SUMS"), false),
        (folder.join("sha256sums.txt"), false),
    ];
    candidates.into_iter().find_map(|(file, alone)| {
        let meta = std::fs::metadata(&file).ok()?;
        if !meta.is_file() || meta.len() > MAX_SUMS_BYTES {
            return None;
        }
        let text = std::fs::read_to_string(&file).ok()?;
        let sha256 = parse_sums(&text, name, alone)?;
        Some(Found { sha256, file })
    })
}

/// How the file's hash compares with `typed` (what the user pasted, which
/// wins) or `found`.
pub(super) fn verdict(typed: &str, found: Option<&Found>, file_hash: &FileHash) -> Verdict {
    let expected = if typed.trim().is_empty() {
        match found {
            Some(found) => found.sha256.clone(),
            None => return Verdict::NotGiven,
        }
    } else {
        match normalise(typed) {
            Some(hash) => hash,
            None => return Verdict::Malformed,
        }
    };
    match file_hash {
        FileHash::Done(hash) if *hash == expected => Verdict::Matches,
        FileHash::Done(_) => Verdict::Mismatch,
        FileHash::Computing => Verdict::Waiting,
        FileHash::None | FileHash::Failed(_) => Verdict::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0786ad1fdcba31a3f03ee80eb1d6e8c7ee2f4647a2b4b6f1855c9fe0719784de";
    const B: &str = "1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn checksum_files_are_read_in_their_usual_forms() {
        let gnu = format!("{B}  other.img.xz\n{A} *os.img.xz\n");
        assert_eq!(parse_sums(&gnu, "os.img.xz", false).as_deref(), Some(A));
        assert_eq!(parse_sums(&gnu, "missing.img", false), None);
        let bsd = format!("SHA256 (./dl/os.img.xz) = {}\n", A.to_uppercase());
        assert_eq!(parse_sums(&bsd, "os.img.xz", false).as_deref(), Some(A));
        // A lone hash only counts in a file named after the image.
        assert_eq!(
            parse_sums(&format!("{A}\n"), "os.img.xz", true).as_deref(),
            Some(A)
        );
        assert_eq!(parse_sums(&format!("{A}\n"), "os.img.xz", false), None);
        assert_eq!(
            normalise(&format!("  sha256:{A}  os.img.xz")).as_deref(),
            Some(A)
        );
        assert_eq!(normalise("abc"), None);
    }

    #[test]
    fn a_typed_checksum_wins_over_a_found_one() {
        let found = Found {
            sha256: A.into(),
            file: "SHA256SUMS".into(),
        };
        let done = FileHash::Done(A.into());
        assert_eq!(verdict("", Some(&found), &done), Verdict::Matches);
        assert_eq!(verdict(B, Some(&found), &done), Verdict::Mismatch);
        assert_eq!(verdict("12", Some(&found), &done), Verdict::Malformed);
        assert_eq!(verdict("", None, &done), Verdict::NotGiven);
    }
}

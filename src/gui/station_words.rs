//! The station's reasons in the app's words. The station loop words its
//! skips for the command line ("name it with --match", "--again flashes a
//! drive again"); the Station view has no flags, so each is said as what it
//! means, and a drive the station was told to ignore gets no tile at all.

use super::message;

/// A skipped drive's reason for its tile, or `None` when the drive is not
/// one of the station's (it does not match the chosen drives): no tile.
pub(super) fn skip_reason(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.starts_with("not named by --match") {
        return None;
    }
    let words = if raw.starts_with("a virtual drive") {
        "A virtual drive: name it under \"Only drives matching\" to flash it.".to_string()
    } else if raw.starts_with("a fixed drive") {
        "A fixed drive, not removable: name it under \"Only drives matching\" to flash it."
            .to_string()
    } else if let Some(rest) = raw.strip_prefix("larger than 128 GB") {
        // "(500 GB); --allow-large flashes it" → "(500 GB)".
        let size = rest.split(';').next().unwrap_or("").trim();
        format!("Larger than 128 GB {size}: not flashed, in case it is a hard disk.")
    } else if raw.starts_with("flashed already") {
        "Flashed already in this run.".to_string()
    } else if raw.starts_with("--count") {
        "Enough drives are finished.".to_string()
    } else if raw.contains("--") {
        // A flag means nothing here: the part before it still may.
        let plain = raw.split(';').next().unwrap_or(raw).trim();
        if plain.contains("--") {
            "Skipped.".to_string()
        } else {
            message::sentence(plain)
        }
    } else {
        message::sentence(raw)
    };
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_flag_reaches_a_tile() {
        for raw in [
            "a virtual drive (loop device); name it with --match to flash it",
            "a fixed drive, not removable; name it with --match to flash it",
            "larger than 128 GB (500 GB); --allow-large flashes it",
            "flashed already in this station run; --again flashes a drive again",
            "--count 3: enough drives are finished or being flashed",
            "something new; --frobnicate fixes it",
        ] {
            let words = skip_reason(raw).unwrap();
            assert!(!words.contains("--"), "{raw} → {words}");
        }
        assert_eq!(
            skip_reason("larger than 128 GB (500 GB); --allow-large flashes it").unwrap(),
            "Larger than 128 GB (500 GB): not flashed, in case it is a hard disk."
        );
        assert_eq!(
            skip_reason("a system drive (/ is mounted from it)").unwrap(),
            "A system drive (/ is mounted from it)."
        );
    }

    #[test]
    fn a_drive_that_does_not_match_gets_no_tile() {
        assert_eq!(skip_reason("not named by --match"), None);
    }
}

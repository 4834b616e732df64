//! Editing `cmdline.txt`, the kernel command line a Raspberry Pi's firmware
//! reads from the boot partition: one line of words. Imprint's words
//! replace earlier ones of the same parameter (an image customised twice
//! keeps one of each) and every other word stays in its place.

/// `original` with each of `words` added, any word of the same parameter
/// (the text before `=`, or the whole word) taken out first; the line end
/// is kept as the image had it.
pub(crate) fn with_words(original: &[u8], words: &[String]) -> Vec<u8> {
    let text = String::from_utf8_lossy(original);
    let ending = if text.ends_with("\r\n") {
        "\r\n"
    } else if text.ends_with('\n') {
        "\n"
    } else {
        ""
    };
    let parameter = |word: &str| word.split('=').next().unwrap_or(word).to_string();
    let replaced: Vec<String> = words.iter().map(|w| parameter(w)).collect();
    let mut kept: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !replaced.contains(&parameter(w)))
        .collect();
    kept.extend(words.iter().map(String::as_str));
    let mut line = kept.join(" ");
    line.push_str(ending);
    line.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_added_once() {
        let original = b"console=tty1 root=PARTUUID=1 rootwait systemd.run=/old\n";
        let words = [
            "systemd.run=/boot/firstrun.sh".to_string(),
            "quiet".to_string(),
        ];
        let once = with_words(original, &words);
        assert_eq!(
            once,
            b"console=tty1 root=PARTUUID=1 rootwait systemd.run=/boot/firstrun.sh quiet\n"
        );
        assert_eq!(with_words(&once, &words), once);
    }
}

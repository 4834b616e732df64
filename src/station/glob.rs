//! `--match` patterns: shell globs (`*`, `?`, `[a-z]`, `[!0-9]`), where `*`
//! also crosses `/` so `*loop*` matches `/dev/loop3`.

/// Whether `text` matches the glob `pattern` as a whole.
pub(super) fn matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point for the last `*`: linear
    // in practice, never exponential.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                '*' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                '?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(&pattern, p, text[t]) {
                        if matched {
                            p = next;
                            t += 1;
                            continue;
                        }
                    } else if text[t] == '[' {
                        // An unclosed `[` is a plain character.
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                c if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((star_p, star_t)) => {
                p = star_p + 1;
                t = star_t + 1;
                star = Some((star_p, star_t + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// The class `[…]` starting at `pattern[start]`: whether `c` is in it and
/// where the pattern goes on; `None` when the `[` is not closed.
fn class(pattern: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negated = matches!(pattern.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let &item = pattern.get(i)?;
        if item == ']' && !first {
            return Some((found != negated, i + 1));
        }
        first = false;
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|&end| end != ']') {
            let end = pattern[i + 2];
            found |= (item..=end).contains(&c);
            i += 3;
        } else {
            found |= item == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs_match_as_a_shell_does() {
        let cases = [
            ("/dev/loop*", "/dev/loop12", true),
            ("*loop*", "/dev/loop3", true),
            ("/dev/loop?", "/dev/loop12", false),
            ("/dev/loop[0-4]", "/dev/loop3", true),
            ("/dev/loop[!0-4]", "/dev/loop3", false),
            ("/tmp/*/card-*.img", "/tmp/x/y/card-7.img", true),
            ("AA*", "AA0123", true),
            ("AA*", "BAA", false),
            ("a[", "a[", true),
            ("", "", true),
            ("*", "", true),
            ("a*b*c", "aXXbYYbZc", true),
            ("a*b*c", "aXXbYYbZ", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(pattern, text), expected, "{pattern} ~ {text}");
        }
    }
}

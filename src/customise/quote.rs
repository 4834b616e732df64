//! Quoting values into the files the formats write: a shell word, a YAML
//! double-quoted scalar. Every value from the user passes through one of
//! these, so none can end its string and become code or structure.

/// `value` as one POSIX shell word in single quotes.
pub(crate) fn shell(value: &str) -> String {
    format!("'{}'", value.replace('\'', r#"'"'"'"#))
}

/// A crypt hash (`$6$salt$digest`: letters, digits, `./$`) as one shell
/// word in double quotes, each `$` escaped: single quotes would do, but
/// shellcheck takes `'$6$…'` for a forgotten expansion.
pub(crate) fn shell_hash(hash: &str) -> String {
    debug_assert!(
        hash.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"./$".contains(&b))
    );
    let safe: String = hash
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "./$".contains(*c))
        .collect();
    format!("\"{}\"", safe.replace('$', "\\$"))
}

/// `bytes` as a YAML double-quoted scalar: `\` and `"` escaped, control
/// characters and bytes that are not UTF-8 as `\xHH` (so an SSID's exact
/// octets reach netplan).
pub(crate) fn yaml_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                c if c.is_control() && (c as u32) < 0x100 => {
                    out.push_str(&format!("\\x{:02x}", c as u32));
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out.push('"');
    out
}

/// `value` as a YAML double-quoted scalar.
pub(crate) fn yaml(value: &str) -> String {
    yaml_bytes(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_stay_words() {
        assert_eq!(shell("a b"), "'a b'");
        assert_eq!(shell("it's"), r#"'it'"'"'s'"#);
        assert_eq!(shell_hash("$6$a.b$c/d"), r#""\$6\$a.b\$c/d""#);
    }

    #[test]
    fn yaml_scalars_escape() {
        assert_eq!(yaml(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(yaml_bytes(b"x\n\xff"), r#""x\x0a\xff""#);
    }
}

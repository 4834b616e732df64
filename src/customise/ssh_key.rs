//! OpenSSH public keys as `ssh-keygen` writes them (`TYPE BASE64 [COMMENT]`,
//! one a line): each is checked to be a key, so that a private key, a
//! fingerprint or a truncated paste is refused before any card is written.

use base64ct::{Base64, Encoding};

/// The key types OpenSSH accepts in `authorized_keys` today (DSA is gone).
const TYPES: [&str; 8] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-ed448",
];

/// The keys of `text` (a `.pub` or `authorized_keys` file without
/// options), each a line `TYPE BASE64 [COMMENT]`; blank lines and `#`
/// comments are skipped. An error names the line and what is wrong.
pub(crate) fn parse_keys(text: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        check_key(line).map_err(|why| format!("line {}: {why}", index + 1))?;
        keys.push(line.to_string());
    }
    if keys.is_empty() {
        return Err("it holds no public key".to_string());
    }
    Ok(keys)
}

fn check_key(line: &str) -> Result<(), String> {
    if line.contains("PRIVATE KEY") {
        return Err("this is a private key: give the .pub file beside it".to_string());
    }
    if line
        .chars()
        .any(|c| c.is_control() || c == '"' || c == '\\')
    {
        return Err("a key line may not hold quotes, backslashes or control characters".into());
    }
    let mut fields = line.split_whitespace();
    let kind = fields.next().unwrap_or_default();
    if !TYPES.contains(&kind) {
        return Err(format!(
            "{kind:?} is not an OpenSSH public key type ({})",
            TYPES.join(", ")
        ));
    }
    let blob = fields.next().ok_or("the key's base64 part is missing")?;
    let blob = Base64::decode_vec(blob).map_err(|_| "the key's base64 part is not base64")?;
    // The blob starts with the key type again, as an SSH string.
    let len = blob
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("the key is truncated")?;
    if blob.get(4..4 + len) != Some(kind.as_bytes()) {
        return Err(format!("the key's data is not a {kind} key"));
    }
    if blob.len() < 4 + len + 4 + 32 {
        return Err("the key is truncated".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAKNJtD2FcWoPXSDTUlCqtxL6YfW/zxisppmC8qHYc6y user@host";

    #[test]
    fn a_public_key_parses() {
        let keys = parse_keys(&format!("# mine\n\n{ED25519}\n")).unwrap();
        assert_eq!(keys, [ED25519]);
    }

    #[test]
    fn wrong_keys_are_refused_with_their_line() {
        let private = "-----BEGIN OPENSSH PRIVATE KEY-----";
        assert!(parse_keys(private).unwrap_err().contains("private key"));
        let truncated = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3a";
        assert!(parse_keys(truncated).is_err());
        let mislabelled = ED25519.replace("ssh-ed25519", "ssh-rsa");
        let err = parse_keys(&format!("{ED25519}\n{mislabelled}")).unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
        assert!(parse_keys("SHA256:abc user").is_err());
        assert!(parse_keys("\n# only a comment\n").is_err());
    }
}

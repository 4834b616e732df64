//! Login passwords as SHA-512 crypt (`$6$`) hashes, the form `/etc/shadow`,
//! `chpasswd -e`, userconf and cloud-init's `passwd` take. The plain text
//! exists only in memory while the run is prepared; the salt is random,
//! drawn once when the plan is made, so that every drive of the run gets
//! the same bytes and verification covers them.

use sha_crypt::{PasswordHasher, ShaCrypt};

/// Random salt bytes: 12 give crypt's longest salt, 16 characters.
const SALT_BYTES: usize = 12;

/// The `$6$` hash of `password` with a fresh random salt. Line ends are
/// dropped first: a password read from a file or pasted keeps its newline,
/// which no login prompt ever sends.
pub(crate) fn hash_password(password: &str) -> String {
    let mut salt = [0u8; SALT_BYTES];
    // The OS's random source only fails on a broken system; a fixed salt
    // would make equal passwords equal hashes on every card.
    getrandom::fill(&mut salt).expect("the OS's random number source works");
    hash_with_salt(password, &salt)
}

fn hash_with_salt(password: &str, salt: &[u8]) -> String {
    let password: String = password
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect();
    let hash = ShaCrypt::SHA512
        .hash_password_with_salt(password.as_bytes(), salt)
        .expect("SHA-512 crypt of any password and a 12-byte salt")
        .to_string();
    // 5000 rounds is SHA-crypt's default, and naming it changes only the
    // text: `$6$SALT$…` is the form glibc, openssl and /etc/shadow write.
    match hash.strip_prefix("$6$rounds=5000$") {
        Some(rest) => format!("$6${rest}"),
        None => hash,
    }
}

/// Whether `hash` is a SHA-512 crypt hash of `password` (`$6$`).
#[cfg(test)]
pub(crate) fn verify(password: &str, hash: &str) -> bool {
    let Ok(parsed) = hash.parse::<sha_crypt::PasswordHash>() else {
        return false;
    };
    use sha_crypt::PasswordVerifier;
    hash.starts_with("$6$")
        && ShaCrypt::SHA512
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_sha512_crypt_and_verifies() {
        let hash = hash_password("correct horse\n");
        assert!(
            hash.starts_with("$6$") && !hash.contains("rounds="),
            "{hash}"
        );
        let salt = hash.split('$').nth(2).unwrap();
        assert_eq!(salt.len(), 16);
        assert!(verify("correct horse", &hash));
        assert!(!verify("wrong", &hash));
        assert_ne!(hash, hash_password("correct horse"), "salts are random");
    }

    #[test]
    fn matches_glibc_crypt_for_a_known_salt() {
        // `openssl passwd -6 -salt saltsalt password`
        assert!(verify(
            "password",
            "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/"
        ));
    }
}

//! The rules each setting of a customisation must follow, checked before
//! anything is written: a value a first boot would choke on (a hostname
//! with a space, a timezone that does not exist) is refused with the rule.

use std::path::Path;

/// An RFC 1123 host name: labels of 1 to 63 letters, digits and hyphens,
/// neither starting nor ending with a hyphen, 253 characters at most.
pub(crate) fn hostname(name: &str) -> Result<(), String> {
    let rule = "a hostname is letters, digits and hyphens (RFC 1123), in labels of at most \
                63 separated by dots, not starting or ending with a hyphen";
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if name.is_empty() || name.len() > 253 || !labels_ok {
        return Err(format!("{name:?}: {rule}"));
    }
    Ok(())
}

/// A user name Debian's `adduser` accepts by default (`NAME_REGEX`), and
/// not one a system account holds.
pub(crate) fn user_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !first_ok || !rest_ok || name.len() > 32 {
        return Err(format!(
            "{name:?}: a user name is a lower-case letter, then lower-case letters, digits, \
             '-' or '_', 32 at most"
        ));
    }
    if ["root", "daemon", "bin", "sys", "nobody"].contains(&name) {
        return Err(format!(
            "{name:?} is a system account; choose another user name"
        ));
    }
    Ok(())
}

/// A tz database name (`Europe/London`, `UTC`): when this system has the
/// database, one it holds.
pub(crate) fn timezone(name: &str) -> Result<(), String> {
    let shape_ok = !name.is_empty()
        && name.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b))
        });
    if !shape_ok {
        return Err(format!(
            "{name:?} is not a timezone name: use the tz database's, e.g. Europe/London or UTC"
        ));
    }
    let zoneinfo = Path::new("/usr/share/zoneinfo");
    if zoneinfo.is_dir() && !zoneinfo.join(name).is_file() {
        return Err(format!(
            "{name:?} is not in the tz database (/usr/share/zoneinfo): use a name such as \
             Europe/London, America/New_York or UTC"
        ));
    }
    Ok(())
}

/// A glibc locale name: `en_GB.UTF-8`, `de_DE@euro`, `C.UTF-8`.
pub(crate) fn locale(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.@-".contains(&b));
    if !ok {
        return Err(format!(
            "{name:?} is not a locale name: use one such as en_GB.UTF-8"
        ));
    }
    Ok(())
}

/// An XKB keyboard layout name (`gb`, `us`, `de`).
pub(crate) fn keyboard(name: &str) -> Result<(), String> {
    let ok = (2..=32).contains(&name.len())
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        return Err(format!(
            "{name:?} is not a keyboard layout: use an XKB layout name such as gb, us or de"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_follow_rfc_1123() {
        for good in ["h", "pi-01", "node7.example.org", &"a".repeat(63)] {
            assert!(hostname(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-pi",
            "pi-",
            "my pi",
            "pi_1",
            "a..b",
            &"a".repeat(64),
            "é",
        ] {
            assert!(hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_names_follow_debian() {
        assert!(user_name("u").is_ok());
        assert!(user_name("pi_2-x").is_ok());
        for bad in ["", "U", "1u", "root", "a b", "a:b", &"a".repeat(33)] {
            assert!(user_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timezones_locales_and_layouts() {
        assert!(timezone("Europe/London").is_ok());
        assert!(timezone("UTC").is_ok());
        assert!(timezone("../etc/passwd").is_err());
        assert!(timezone("Europe/Atlantis").is_err() || !Path::new("/usr/share/zoneinfo").is_dir());
        assert!(locale("en_GB.UTF-8").is_ok());
        assert!(locale("en GB").is_err());
        assert!(keyboard("gb").is_ok());
        assert!(keyboard("GB;rm").is_err());
    }
}

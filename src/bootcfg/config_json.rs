//! The user's balenaOS `config.json`: read, validated, and rendered as the
//! compact bytes written into the boot partition, every number exactly as
//! the user wrote it ([`Json`]).

use std::path::Path;

use sha2::{Digest, Sha256};

use super::{BootConfigError, Json};
use crate::user_file::read_user_file;

/// The largest config file read: balenaCloud's are a few KiB, and the boot
/// partition is small.
pub const CONFIG_LIMIT_BYTES: u64 = 1 << 20;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A validated config.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigJson {
    /// Compact UTF-8 JSON, as written to `/config.json`.
    pub bytes: Vec<u8>,
    /// The `deviceType` it is meant for, when it says.
    pub device_type: Option<String>,
}

impl ConfigJson {
    /// Reads and validates the config file at `path` (at most
    /// [`CONFIG_LIMIT_BYTES`]; a FIFO is fine, a device is not).
    pub fn load(path: &Path) -> Result<ConfigJson, BootConfigError> {
        let text = read_user_file(path, CONFIG_LIMIT_BYTES).map_err(|source| {
            BootConfigError::ReadConfig {
                path: path.to_path_buf(),
                cause: source,
            }
        })?;
        ConfigJson::parse(&text, path)
    }

    /// Validates `text` (the contents of `path`): a JSON object whose
    /// `applicationId`, when present, is a non-negative whole number (of
    /// any size: balenaCloud's ids are, and a float would change it) and
    /// whose `deviceType`,
    /// when present, is a non-empty string. A UTF-8 byte order mark, which
    /// Windows editors add, is skipped (JSON itself forbids it).
    pub fn parse(text: &[u8], path: &Path) -> Result<ConfigJson, BootConfigError> {
        let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
        let value = Json::parse(text).map_err(|source| BootConfigError::ParseConfig {
            path: path.to_path_buf(),
            cause: source,
        })?;
        let invalid = |reason: &str| BootConfigError::InvalidConfig {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let Json::Object(fields) = &value else {
            return Err(invalid("it must be a JSON object ({ … })"));
        };
        if let Some(id) = fields.get("applicationId")
            && !id.number_text().is_some_and(is_whole_number)
        {
            return Err(invalid(
                "\"applicationId\" must be a whole number of 0 or more, written in digits (like 1234567), as balenaCloud gives it",
            ));
        }
        let device_type = match fields.get("deviceType") {
            None => None,
            Some(Json::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(_) => return Err(invalid("\"deviceType\" must be a non-empty string")),
        };
        Ok(ConfigJson {
            bytes: value.to_bytes(),
            device_type,
        })
    }

    /// SHA-256 of [`ConfigJson::bytes`], lower-case hex.
    pub fn sha256_hex(&self) -> String {
        crate::hex::hex(&Sha256::digest(&self.bytes))
    }
}

/// `0`, or digits not starting with 0: no sign, fraction or exponent.
fn is_whole_number(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigJson, BootConfigError> {
        ConfigJson::parse(text.as_bytes(), Path::new("c.json"))
    }

    #[test]
    fn accepts_a_config_and_writes_it_compactly() {
        let config =
            parse("{\n  \"applicationId\": 1234,\n  \"deviceType\": \"raspberrypi4-64\"\n}")
                .unwrap();
        assert_eq!(
            String::from_utf8(config.bytes.clone()).unwrap(),
            r#"{"applicationId":1234,"deviceType":"raspberrypi4-64"}"#
        );
        assert_eq!(config.device_type.as_deref(), Some("raspberrypi4-64"));
        assert_eq!(config.sha256_hex().len(), 64);
    }

    #[test]
    fn refuses_what_is_not_a_config() {
        assert!(matches!(
            parse("{"),
            Err(BootConfigError::ParseConfig { .. })
        ));
        assert!(matches!(
            parse("[1]"),
            Err(BootConfigError::InvalidConfig { .. })
        ));
        assert!(matches!(
            parse(r#"{"applicationId":"1234"}"#),
            Err(BootConfigError::InvalidConfig { .. })
        ));
        assert!(matches!(
            parse(r#"{"deviceType":""}"#),
            Err(BootConfigError::InvalidConfig { .. })
        ));
        assert!(matches!(
            parse(r#"{"deviceType":3}"#),
            Err(BootConfigError::InvalidConfig { .. })
        ));
        assert!(parse("{}").is_ok());
    }

    #[test]
    fn application_id_is_a_whole_number_of_any_size_kept_as_written() {
        let config = parse(
            r#"{"applicationId": 123456789012345678901234567890, "x": 0.1000000000000000055511151231257827}"#,
        )
        .unwrap();
        assert_eq!(
            config.bytes,
            br#"{"applicationId":123456789012345678901234567890,"x":0.1000000000000000055511151231257827}"#
        );
        assert!(parse(r#"{"applicationId":0}"#).is_ok());
        for id in ["-1", "1.5", "1e3", "-0", "\"7\"", "null"] {
            let err = parse(&format!(r#"{{"applicationId":{id}}}"#)).unwrap_err();
            assert!(err.to_string().contains("whole number"), "{id}: {err}");
        }
    }

    /// Found by fuzzing: serde_json's default float parser can be 1 ULP
    /// off, so `-1.5e34` was written as `-1.5e+34`, which read back as
    /// -1.4999999999999999e34. Numbers are now kept as their text.
    #[test]
    fn numbers_are_written_exactly() {
        let config = parse(r#"{"f":-1.5e34,"g":0.1,"h":1.7976931348623157e308}"#).unwrap();
        assert_eq!(
            config.bytes,
            br#"{"f":-1.5e34,"g":0.1,"h":1.7976931348623157e308}"#
        );
        let written: serde_json::Value = serde_json::from_slice(&config.bytes).unwrap();
        assert_eq!(written["f"].as_f64(), Some(-1.5e34));
        assert_eq!(written["g"].as_f64(), Some(0.1));
        assert_eq!(written["h"].as_f64(), Some(f64::MAX));
        let again = ConfigJson::parse(&config.bytes, Path::new("c.json")).unwrap();
        assert_eq!(again.bytes, config.bytes);
    }

    #[test]
    fn a_utf8_byte_order_mark_is_skipped() {
        let config =
            ConfigJson::parse(b"\xEF\xBB\xBF{\"deviceType\":\"x\"}", Path::new("c")).unwrap();
        assert_eq!(config.bytes, br#"{"deviceType":"x"}"#);
        // Only at the start: anywhere else it is not JSON.
        assert!(ConfigJson::parse(b" \xEF\xBB\xBF{}", Path::new("c")).is_err());
    }

    #[test]
    fn a_device_is_refused_without_reading_it() {
        let err = ConfigJson::load(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read config file /dev/zero: it is a character device, not a file"
        );
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let err = ConfigJson::load(Path::new("/nonexistent/c.json")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/c.json"), "{err}");
    }
}

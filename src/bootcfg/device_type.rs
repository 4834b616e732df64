//! The image's `/device-type.json`: which device it is for (`slug`) and, in
//! `configuration.config.partition`, which partition holds `config.json`.

use serde_json::Value;

/// Path of the file in a balenaOS boot partition.
pub(crate) const DEVICE_TYPE_PATH: &str = "device-type.json";

/// What Imprint uses of a `/device-type.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DeviceType {
    pub slug: Option<String>,
    /// The partition number `configuration.config.partition` names: a
    /// number, `{"primary": N}`, or `{"primary": 4, "logical": M}` (M + 4).
    pub config_partition: Option<u32>,
}

impl DeviceType {
    /// Parses the file's bytes; anything unreadable in it is simply absent.
    pub(crate) fn parse(bytes: &[u8]) -> DeviceType {
        let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
            return DeviceType::default();
        };
        let slug = value
            .get("slug")
            .and_then(Value::as_str)
            .map(str::to_string);
        let config_partition = value
            .pointer("/configuration/config/partition")
            .and_then(partition_number);
        DeviceType {
            slug,
            config_partition,
        }
    }
}

fn partition_number(spec: &Value) -> Option<u32> {
    let as_u32 = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
    if let Some(number) = as_u32(spec) {
        return Some(number);
    }
    match (
        spec.get("primary").and_then(as_u32),
        spec.get("logical").and_then(as_u32),
    ) {
        (_, Some(logical)) => logical.checked_add(4),
        (Some(primary), None) => Some(primary),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_partition_form() {
        let parse = |json: &str| DeviceType::parse(json.as_bytes()).config_partition;
        assert_eq!(
            parse(r#"{"configuration":{"config":{"partition":1}}}"#),
            Some(1)
        );
        assert_eq!(
            parse(r#"{"configuration":{"config":{"partition":{"primary":2}}}}"#),
            Some(2)
        );
        assert_eq!(
            parse(r#"{"configuration":{"config":{"partition":{"primary":4,"logical":1}}}}"#),
            Some(5)
        );
        assert_eq!(parse(r#"{"slug":"x"}"#), None);
        assert_eq!(parse("not json"), None);
    }

    #[test]
    fn reads_the_slug() {
        let device = DeviceType::parse(br#"{"slug":"raspberrypi4-64","name":"Raspberry Pi 4"}"#);
        assert_eq!(device.slug.as_deref(), Some("raspberrypi4-64"));
    }
}

//! `{serial}`, `{n}` and `{uuid}` in the string values of a configuration.

use crate::bootcfg::Json as Value;

const PLACEHOLDERS: [&str; 3] = ["{serial}", "{n}", "{uuid}"];

/// What the placeholders of one drive stand for.
pub(super) struct Values<'a> {
    pub serial: &'a str,
    pub n: u64,
    pub uuid: Option<&'a str>,
}

/// Whether any string in `value` (keys excepted) holds a placeholder.
pub(super) fn uses_placeholders(value: &Value) -> bool {
    match value {
        Value::String(s) => PLACEHOLDERS.iter().any(|p| s.contains(p)),
        Value::Array(items) => items.iter().any(uses_placeholders),
        Value::Object(map) => map.values().any(uses_placeholders),
        _ => false,
    }
}

/// Fills the placeholders of every string in `value`; false when `{uuid}`
/// is used and `values` has none.
pub(super) fn fill(value: &mut Value, values: &Values<'_>) -> bool {
    match value {
        Value::String(s) => match substitute(s, values) {
            Some(filled) => {
                *s = filled;
                true
            }
            None => false,
        },
        Value::Array(items) => items.iter_mut().all(|item| fill(item, values)),
        Value::Object(map) => map.values_mut().all(|item| fill(item, values)),
        _ => true,
    }
}

/// `text` with its placeholders replaced in one pass (so a serial that
/// happens to contain `{n}` stays as it is); `None` when `{uuid}` is used
/// and there is none.
fn substitute(text: &str, values: &Values<'_>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let n = values.n.to_string();
        let replacement = if rest.starts_with("{serial}") {
            Some(("{serial}", values.serial))
        } else if rest.starts_with("{n}") {
            Some(("{n}", n.as_str()))
        } else if rest.starts_with("{uuid}") {
            Some(("{uuid}", values.uuid?))
        } else {
            None
        };
        match replacement {
            Some((placeholder, value)) => {
                out.push_str(value);
                rest = &rest[placeholder.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        Value::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn placeholders_are_filled_in_nested_strings_only() {
        let mut value = json(r#"{"hostname": "node-{n}-{serial}", "a": ["{uuid}{"], "{n}": 3}"#);
        let values = Values {
            serial: "S{n}",
            n: 7,
            uuid: Some("ab"),
        };
        assert!(uses_placeholders(&value));
        assert!(fill(&mut value, &values));
        assert_eq!(
            value,
            json(r#"{"hostname": "node-7-S{n}", "a": ["ab{"], "{n}": 3}"#)
        );
    }

    #[test]
    fn a_uuid_placeholder_without_a_uuid_is_refused() {
        let mut value = json(r#"{"name": "{uuid}"}"#);
        let values = Values {
            serial: "",
            n: 1,
            uuid: None,
        };
        assert!(!fill(&mut value, &values));
    }
}

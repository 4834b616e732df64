//! JSON whose numbers stay exactly as the user wrote them: an
//! `applicationId` past 64 bits stays its digits (serde_json's `Value`
//! would make it a float), `0.1000000000000000055511151231257827` keeps
//! every digit. Numbers are kept as their text (`RawValue`) and written
//! back byte for byte; everything else is written compactly, object keys
//! in sorted order, as serde_json writes a `Value`.
//!
//! serde_json's `arbitrary_precision` feature would do the same for the
//! whole crate, but it changes how every number deserialises and breaks
//! internally tagged types such as `protocol::WireEvent`; this type keeps
//! the exactness to config.json.

use std::collections::BTreeMap;

use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON object, keys sorted.
pub type JsonMap = BTreeMap<String, Json>;

/// A JSON value with its numbers as written.
#[derive(Debug, Clone)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's text, as it stood in the input.
    Number(Box<RawValue>),
    String(String),
    Array(Vec<Json>),
    Object(JsonMap),
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        match (self, other) {
            (Json::Null, Json::Null) => true,
            (Json::Bool(a), Json::Bool(b)) => a == b,
            (Json::Number(a), Json::Number(b)) => a.get() == b.get(),
            (Json::String(a), Json::String(b)) => a == b,
            (Json::Array(a), Json::Array(b)) => a == b,
            (Json::Object(a), Json::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Json {}

impl Json {
    /// Parses `text`: one JSON value (whitespace around it allowed). A key
    /// given twice keeps its last value, as serde_json does.
    pub fn parse(text: &[u8]) -> Result<Json, serde_json::Error> {
        let raw: Box<RawValue> = serde_json::from_slice(text)?;
        Json::from_raw(&raw)
    }

    /// The value of `raw`, each level parsed from its own text.
    fn from_raw(raw: &RawValue) -> Result<Json, serde_json::Error> {
        let text = raw.get().trim_start();
        Ok(match text.as_bytes().first() {
            Some(b'{') => {
                let fields: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text)?;
                let mut map = JsonMap::new();
                for (key, value) in fields {
                    map.insert(key, Json::from_raw(&value)?);
                }
                Json::Object(map)
            }
            Some(b'[') => {
                let items: Vec<Box<RawValue>> = serde_json::from_str(text)?;
                Json::Array(
                    items
                        .iter()
                        .map(|item| Json::from_raw(item))
                        .collect::<Result<_, _>>()?,
                )
            }
            Some(b'"') => Json::String(serde_json::from_str(text)?),
            Some(b't' | b'f') => Json::Bool(serde_json::from_str(text)?),
            Some(b'n') => Json::Null,
            _ => Json::Number(raw.to_owned()),
        })
    }

    /// `text` as a JSON number, exactly as written; `None` when it is not
    /// one (a CSV cell for a key whose template value is a number).
    pub fn number(text: &str) -> Option<Json> {
        let raw = RawValue::from_string(text.to_string()).ok()?;
        matches!(raw.get().as_bytes().first(), Some(b'-' | b'0'..=b'9'))
            .then_some(Json::Number(raw))
    }

    /// Compact UTF-8 JSON, numbers as written.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a JSON value always serialises")
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number's text, as written.
    pub fn number_text(&self) -> Option<&str> {
        match self {
            Json::Number(raw) => Some(raw.get()),
            _ => None,
        }
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(raw) => raw.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => items.serialize(serializer),
            Json::Object(map) => map.serialize(serializer),
        }
    }
}

#[cfg(test)]
#[path = "exact_json_tests.rs"]
mod tests;

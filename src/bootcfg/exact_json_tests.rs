//! Numbers written back byte for byte; everything else compact and sorted.

use super::*;

fn round_trip(text: &str) -> String {
    String::from_utf8(Json::parse(text.as_bytes()).unwrap().to_bytes()).unwrap()
}

#[test]
fn numbers_keep_every_digit_as_written() {
    assert_eq!(
        round_trip(
            r#"{ "x": 0.1000000000000000055511151231257827, "applicationId": 123456789012345678901234567890,
                 "e": -1.5E+34, "a": [1e3, -0, {"z": 12.50}] }"#
        ),
        r#"{"a":[1e3,-0,{"z":12.50}],"applicationId":123456789012345678901234567890,"e":-1.5E+34,"x":0.1000000000000000055511151231257827}"#
    );
}

#[test]
fn strings_keys_and_literals_are_written_as_serde_json_writes_them() {
    let text = r#"{"b":"tab\there \u00e9 \"q\"","a":[true,false,null],"b":"last","c":{}}"#;
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(round_trip(text), serde_json::to_string(&value).unwrap());
}

#[test]
fn what_is_not_json_is_refused() {
    for text in ["{", "[1,]", "01", "1 2", r#"{"a":"\ud800"}"#, ""] {
        assert!(Json::parse(text.as_bytes()).is_err(), "{text:?}");
    }
}

#[test]
fn a_cell_is_a_number_only_when_it_is_one_json_number() {
    assert_eq!(
        Json::number("123456789012345678901234567890")
            .and_then(|n| n.number_text().map(str::to_string)),
        Some("123456789012345678901234567890".to_string())
    );
    for cell in ["abc", "\"1\"", "1 2", "true", "[1]", "", "+1"] {
        assert!(Json::number(cell).is_none(), "{cell:?}");
    }
}

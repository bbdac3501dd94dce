//! Metadata: free-form JSON objects attached to tenants and users.

use serde_json::{Map, Value};

use super::error::FieldViolation;

/// Largest serialized metadata accepted, in bytes.
pub const MAX_BYTES: usize = 64 * 1024;

/// A JSON object.
pub type Metadata = Map<String, Value>;

/// Parses a serialized JSON object. Anything else (an array, a string, malformed JSON) is refused.
pub fn parse(field: &str, raw: &str) -> Result<Metadata, FieldViolation> {
    match parse_value(field, raw)? {
        Value::Object(map) => Ok(map),
        _ => Err(FieldViolation::new(field, "must be a JSON object")),
    }
}

/// Parses serialized JSON of any kind (tenants' metadata: Frontegg stores `42` as readily as an
/// object), at most [`MAX_BYTES`] long.
pub fn parse_value(field: &str, raw: &str) -> Result<Value, FieldViolation> {
    if raw.len() > MAX_BYTES {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {MAX_BYTES} bytes"),
        ));
    }
    serde_json::from_str::<Value>(raw).map_err(|_| FieldViolation::new(field, "must be JSON"))
}

/// Merges `additions` into `metadata`: an object's keys into an object, overwriting keys that
/// exist; any other value replaces what was there.
pub fn merge(metadata: &mut Value, additions: Value) {
    match (metadata, additions) {
        (Value::Object(map), Value::Object(additions)) => map.extend(additions),
        (metadata, additions) => *metadata = additions,
    }
}

/// A tenant's metadata as a JSON body carries it, serialized: a string that holds JSON text is
/// that JSON (Frontegg's own form, as it answers metadata), any other string is a string value,
/// and any other value (Frontegg's Rust client sends `42` or an object) is itself; `null` is none.
pub fn from_wire(value: Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) if serde_json::from_str::<Value>(&text).is_ok() => text,
        value => value.to_string(),
    }
}

/// Serialized JSON as a caller sends it: a string holding JSON text, or (as Frontegg's Rust
/// client sends it) the JSON value itself, re-serialized; `null` reads as absent.
pub fn deserialize_text<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(match <Value as serde::Deserialize>::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(text) => Some(text),
        value => Some(value.to_string()),
    })
}

/// Parses an optional serialized JSON object, where empty means unset, and returns it re-serialized.
pub fn optional(field: &str, raw: &str) -> Result<Option<String>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    parse(field, raw).map(|map| Some(Value::Object(map).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_are_metadata() {
        assert!(parse("metadata", r#"{"plan":"pro","seats":5}"#).is_ok());
        for bad in ["[]", "\"x\"", "42", "{", "null", ""] {
            assert!(parse("metadata", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merging_an_object_keeps_other_keys_and_anything_else_replaces() {
        let mut metadata = serde_json::json!({"a": 1, "b": 2});
        merge(&mut metadata, serde_json::json!({"b": 3}));
        assert_eq!(metadata, serde_json::json!({"a": 1, "b": 3}));
        merge(&mut metadata, serde_json::json!(42));
        assert_eq!(metadata, serde_json::json!(42));
        merge(&mut metadata, serde_json::json!({"c": true}));
        assert_eq!(metadata, serde_json::json!({"c": true}));
        assert_eq!(parse_value("metadata", "42").unwrap(), serde_json::json!(42));
        assert!(parse_value("metadata", "{").is_err());
        assert_eq!(from_wire(serde_json::json!(42)), "42");
        assert_eq!(from_wire(serde_json::json!(r#"{"a":1}"#)), r#"{"a":1}"#);
        assert_eq!(from_wire(serde_json::json!("plain")), r#""plain""#);
        assert_eq!(from_wire(serde_json::Value::Null), "");
    }

    #[test]
    fn optional_metadata_treats_empty_as_unset() {
        assert_eq!(optional("metadata", "").unwrap(), None);
        assert_eq!(
            optional("metadata", "{ \"a\" : 1 }").unwrap().as_deref(),
            Some(r#"{"a":1}"#)
        );
    }
}

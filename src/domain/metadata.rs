//! Metadata: free-form JSON objects attached to tenants and users.

use serde_json::{Map, Value};

use super::error::FieldViolation;

/// Largest serialized metadata accepted, in bytes.
pub const MAX_BYTES: usize = 64 * 1024;

/// A JSON object.
pub type Metadata = Map<String, Value>;

/// Parses a serialized JSON object. Anything else (an array, a string, malformed JSON) is refused.
pub fn parse(field: &str, raw: &str) -> Result<Metadata, FieldViolation> {
    if raw.len() > MAX_BYTES {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {MAX_BYTES} bytes"),
        ));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(FieldViolation::new(field, "must be a JSON object")),
    }
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
    fn optional_metadata_treats_empty_as_unset() {
        assert_eq!(optional("metadata", "").unwrap(), None);
        assert_eq!(
            optional("metadata", "{ \"a\" : 1 }").unwrap().as_deref(),
            Some(r#"{"a":1}"#)
        );
    }
}

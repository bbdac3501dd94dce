//! Policy documents: typed settings with a built-in default, an environment's document over it,
//! and, where the contract allows it, a tenant's document over that.
//!
//! Each document is stored as the JSON object of the fields that were written, never the whole
//! value: a field nobody set follows the default, also when a later release changes it. The value
//! in force is the default with the environment's fields laid over it, then the tenant's
//! ([`overlay`]). An update is a JSON merge patch (RFC 7396) on the stored object, kept only when
//! the value it leads to is valid.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use super::{Error, error::Result};

/// A kind of policy document.
pub trait PolicyDocument: Serialize + DeserializeOwned + Default + Clone + Send + Sync + 'static {
    /// Its name in storage; never changes once released.
    const KIND: &'static str;
    /// Whether a tenant may hold its own document over the environment's.
    const TENANT_OVERRIDE: bool;

    /// Refuses a value that the document's rules do not allow, naming the field.
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// The value in force: `T`'s default with each stored document's fields laid over it, in order
/// (the environment's, then the tenant's). A stored field that no longer fits `T` is an internal
/// error: what was written was checked.
pub fn overlay<T: PolicyDocument>(layers: &[&Map<String, Value>]) -> Result<T> {
    let mut value = serde_json::to_value(T::default()).map_err(Error::internal)?;
    for layer in layers {
        merge(&mut value, &Value::Object((*layer).clone()));
    }
    serde_json::from_value(value)
        .map_err(|e| Error::internal(anyhow::anyhow!("stored {} policy no longer reads: {e}", T::KIND)))
}

/// `stored` with `patch` applied (RFC 7396: a `null` member removes the field, so it follows the
/// level below again), and the value in force that it leads to over `below`. Fields `T` does not
/// have, and values of the wrong type, are INVALID_ARGUMENT naming the field; so is a value
/// `T::validate` refuses.
pub fn patched<T: PolicyDocument>(
    below: &[&Map<String, Value>],
    stored: &Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<(Map<String, Value>, T)> {
    let known = match serde_json::to_value(T::default()).map_err(Error::internal)? {
        Value::Object(fields) => fields,
        _ => return Err(Error::internal(anyhow::anyhow!("{} is not an object", T::KIND))),
    };
    let mut next = Value::Object(stored.clone());
    for (field, value) in patch {
        if !known.contains_key(field) {
            return Err(Error::invalid(snake(field), "is not a field of this policy"));
        }
        // Each field alone over the default, so a type error names its field.
        if !value.is_null() {
            let mut alone = Value::Object(known.clone());
            merge(
                &mut alone,
                &Value::Object(Map::from_iter([(field.clone(), value.clone())])),
            );
            if let Err(e) = serde_json::from_value::<T>(alone) {
                return Err(Error::invalid(snake(field), wrong_type(&e)));
            }
        }
        merge(
            &mut next,
            &Value::Object(Map::from_iter([(field.clone(), value.clone())])),
        );
    }
    let Value::Object(next) = next else {
        return Err(Error::internal(anyhow::anyhow!(
            "a merged object is not an object"
        )));
    };
    let mut layers = below.to_vec();
    layers.push(&next);
    let value: T = overlay(&layers).map_err(|_| Error::invalid("body", "does not make a valid policy"))?;
    value.validate()?;
    Ok((next, value))
}

/// snake_case of a document's camelCase field, as domain errors name fields (the REST gateway
/// spells them in camelCase again).
fn snake(field: &str) -> String {
    let mut snake = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// What serde said was wrong, without its position in the document (which is ours, not the
/// caller's).
fn wrong_type(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// RFC 7396 merge of `patch` into `target`.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(fields) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            fields.remove(key);
        } else {
            merge(fields.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    struct Lockout {
        enabled: bool,
        max_attempts: u32,
    }

    impl Default for Lockout {
        fn default() -> Self {
            Self {
                enabled: false,
                max_attempts: 5,
            }
        }
    }

    impl PolicyDocument for Lockout {
        const KIND: &'static str = "lockout";
        const TENANT_OVERRIDE: bool = true;

        fn validate(&self) -> Result<()> {
            if self.max_attempts == 0 {
                return Err(Error::invalid("max_attempts", "must be at least 1"));
            }
            Ok(())
        }
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(fields) => fields,
            _ => unreachable!(),
        }
    }

    #[test]
    fn layers_override_in_order_and_unset_fields_follow_the_default() {
        let environment = object(json!({"enabled": true}));
        let tenant = object(json!({"maxAttempts": 3}));
        let value: Lockout = overlay(&[&environment, &tenant]).unwrap();
        assert_eq!(
            value,
            Lockout {
                enabled: true,
                max_attempts: 3
            }
        );
        assert_eq!(overlay::<Lockout>(&[]).unwrap(), Lockout::default());
    }

    #[test]
    fn a_patch_keeps_only_written_fields_and_null_gives_a_field_back() {
        let (stored, value) =
            patched::<Lockout>(&[], &Map::new(), &object(json!({"maxAttempts": 9}))).unwrap();
        assert_eq!(stored, object(json!({"maxAttempts": 9})));
        assert_eq!(value.max_attempts, 9);
        let (stored, value) = patched::<Lockout>(
            &[],
            &stored,
            &object(json!({"maxAttempts": null, "enabled": true})),
        )
        .unwrap();
        assert_eq!(stored, object(json!({"enabled": true})));
        assert_eq!(value.max_attempts, 5);
    }

    #[test]
    fn unknown_fields_wrong_types_and_invalid_values_name_their_field() {
        let field = |patch: Value| match patched::<Lockout>(&[], &Map::new(), &object(patch)) {
            Err(Error::InvalidArgument(violations)) => violations[0].field.clone(),
            other => panic!("expected a violation, got {other:?}"),
        };
        assert_eq!(field(json!({"color": "red"})), "color");
        assert_eq!(field(json!({"enabled": "yes"})), "enabled");
        assert_eq!(field(json!({"maxAttempts": -1})), "max_attempts");
        assert_eq!(field(json!({"maxAttempts": 0})), "max_attempts");
    }
}

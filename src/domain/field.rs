//! Checks shared by the fields of several requests.

use super::error::{FieldViolation, Result};

/// Longest single-line text field, in characters.
pub const MAX_TEXT: usize = 255;
/// Longest URL, in characters.
pub const MAX_URL: usize = 4095;

/// A required single-line text of 1..=`max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, FieldViolation> {
    if value.trim().is_empty() {
        return Err(FieldViolation::new(field, "must not be empty"));
    }
    single_line(field, value, max).map(str::to_owned)
}

/// An optional single-line text of at most `max` characters: empty means unset.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<Option<String>, FieldViolation> {
    if value.is_empty() {
        return Ok(None);
    }
    single_line(field, value, max).map(|v| Some(v.to_owned()))
}

/// An optional URL with an http or https scheme: empty means unset.
pub fn optional_url(field: &str, value: &str) -> Result<Option<String>, FieldViolation> {
    let Some(value) = optional_text(field, value, MAX_URL)? else {
        return Ok(None);
    };
    match url::Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(value)),
        _ => Err(FieldViolation::new(field, "must be an http or https URL")),
    }
}

/// An identifier chosen by a caller: 1..=255 characters with no whitespace, control characters or
/// slashes, so it can travel in a URL path.
pub fn identifier(field: &str, value: &str) -> Result<String, FieldViolation> {
    if value.is_empty() {
        return Err(FieldViolation::new(field, "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '\\')
    {
        return Err(FieldViolation::new(
            field,
            "must not contain whitespace, control characters or slashes",
        ));
    }
    Ok(value.to_owned())
}

/// A phone number: an optional leading `+`, then 4 to 20 digits, optionally grouped by spaces,
/// dashes, dots or parentheses. Empty means unset.
pub fn optional_phone(field: &str, value: &str) -> Result<Option<String>, FieldViolation> {
    if value.is_empty() {
        return Ok(None);
    }
    let rest = value.strip_prefix('+').unwrap_or(value);
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    let well_formed = rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
    if !well_formed || !(4..=20).contains(&digits) || value.len() > 32 {
        return Err(FieldViolation::new(
            field,
            "must be a phone number such as +14155550100",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// The lower-case form text is matched and sorted by, the same on every database: folded here,
/// Unicode-aware, rather than by SQL's `lower()`, which SQLite applies to ASCII letters only.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Applies one field of a partial update: when `value` is set, parses it into `slot`.
pub fn patch<T>(
    slot: &mut T,
    value: Option<String>,
    parse: impl FnOnce(&str) -> Result<T, FieldViolation>,
) -> Result<(), FieldViolation> {
    if let Some(value) = value {
        *slot = parse(&value)?;
    }
    Ok(())
}

fn single_line<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str, FieldViolation> {
    if value.chars().count() > max {
        return Err(FieldViolation::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldViolation::new(field, "must not contain control characters"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_reject_slashes_spaces_and_overlong_values() {
        assert!(identifier("tenant_id", "acme-1.eu_west").is_ok());
        assert!(identifier("tenant_id", "a/b").is_err());
        assert!(identifier("tenant_id", "a b").is_err());
        assert!(identifier("tenant_id", "").is_err());
        assert!(identifier("tenant_id", &"x".repeat(256)).is_err());
    }

    #[test]
    fn required_text_rejects_blank_and_control_characters() {
        assert!(required_text("name", "  ", 10).is_err());
        assert!(required_text("name", "a\nb", 10).is_err());
        assert_eq!(required_text("name", "Acme", 10).unwrap(), "Acme");
        assert!(required_text("name", "élan vital", 10).is_ok());
        assert!(required_text("name", "élan vital!", 10).is_err());
    }

    #[test]
    fn urls_need_an_http_scheme() {
        assert!(optional_url("website", "https://acme.test").unwrap().is_some());
        assert!(optional_url("website", "").unwrap().is_none());
        assert!(optional_url("website", "javascript:alert(1)").is_err());
        assert!(optional_url("website", "not a url").is_err());
    }

    #[test]
    fn phone_numbers_are_digits_with_light_punctuation() {
        assert!(
            optional_phone("phone_number", "+1 (415) 555-0100")
                .unwrap()
                .is_some()
        );
        assert!(optional_phone("phone_number", "12").is_err());
        assert!(optional_phone("phone_number", "call me").is_err());
    }
}

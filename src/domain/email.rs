//! Email addresses.

use std::{fmt, str::FromStr};

use super::error::FieldViolation;

/// Longest address accepted, in bytes (the SMTP path limit).
const MAX_LEN: usize = 254;

/// A syntactically valid email address in lower case, so equal addresses compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses `value` as the request field `field`.
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldViolation> {
        let value = value.trim();
        if value.is_empty() {
            return Err(FieldViolation::new(field, "must not be empty"));
        }
        if value.len() > MAX_LEN {
            return Err(FieldViolation::new(
                field,
                format!("must be at most {MAX_LEN} bytes"),
            ));
        }
        // Display names ("Ann <ann@x.test>") and domain literals are valid RFC 5322 but not
        // addresses anyone signs in with.
        match email_address::EmailAddress::from_str(value) {
            Ok(parsed)
                if parsed.email() == value
                    && !parsed.domain().starts_with('[')
                    && parsed.domain().contains('.') =>
            {
                Ok(Email(value.to_lowercase()))
            }
            _ => Err(FieldViolation::new(field, "must be a valid email address")),
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Takes the address out.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_lowercased_and_trimmed() {
        let email = Email::parse("email", " Ann.Lee@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ann.lee@example.com");
    }

    #[test]
    fn malformed_addresses_are_rejected_with_the_field_named() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@@example.com",
            "Ann <ann@example.com>",
            "ann@localhost",
            "ann@[127.0.0.1]",
        ] {
            let violation = Email::parse("email", bad).unwrap_err();
            assert_eq!(violation.field, "email", "{bad}");
        }
    }

    #[test]
    fn overlong_addresses_are_rejected() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse("email", &long).is_err());
    }
}

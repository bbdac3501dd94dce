//! Environments: the unit of isolation. Each has its own credentials, signing keys, tenants and users.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    error::{FieldViolation, Result},
    field::{self, MAX_TEXT},
    password::PasswordPolicy,
};

/// An environment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// The environment's id.
    pub id: String,
    /// What operators call it; empty for environments made before names existed.
    pub name: String,
    /// Client id used to authenticate as the environment.
    pub client_id: String,
    /// argon2id hash of the environment's secret.
    pub secret_hash: String,
    /// Vendor host that selects this environment, if several share a server.
    pub host: Option<String>,
    /// Policies and lifetimes.
    pub settings: EnvironmentSettings,
    /// Its identity settings (a policy document, read with it).
    pub identity: super::configuration::IdentitySettings,
    /// Its groups configuration (a policy document, read with it), which sign-in and token
    /// refresh consult for every member.
    pub groups: super::group::GroupsConfiguration,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When its secret last changed, if ever since it was created: environment tokens issued
    /// before then are refused.
    pub secret_changed_at: Option<DateTime<Utc>>,
}

/// A request to create an environment, unchecked.
#[derive(Debug, Clone, Default)]
pub struct CreateEnvironment {
    /// What operators call it.
    pub name: String,
    /// The vendor host (`frontegg-vendor-host`) whose public requests it serves; empty for none.
    pub host: String,
    /// The client id to authenticate with; generated when empty.
    pub client_id: String,
}

/// A checked request to create an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnvironment {
    /// What operators call it.
    pub name: String,
    /// The vendor host it serves, if any.
    pub host: Option<String>,
    /// The client id; generated when unset.
    pub client_id: Option<String>,
}

impl CreateEnvironment {
    /// Checks every field.
    pub fn parse(self) -> Result<NewEnvironment> {
        Ok(NewEnvironment {
            name: field::required_text("name", &self.name, MAX_TEXT)?,
            host: parse_host(&self.host)?,
            client_id: match self.client_id.as_str() {
                "" => None,
                raw => Some(field::identifier("client_id", raw)?),
            },
        })
    }
}

/// A request to change an environment: `None` leaves a field as it is; an empty host removes it.
#[derive(Debug, Clone, Default)]
pub struct UpdateEnvironment {
    /// New name; cannot be cleared.
    pub name: Option<String>,
    /// New vendor host; empty for none.
    pub host: Option<String>,
}

/// A checked change of an environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentChanges {
    /// New name.
    pub name: Option<String>,
    /// New vendor host: `Some(None)` removes it.
    pub host: Option<Option<String>>,
}

impl UpdateEnvironment {
    /// Checks every field given.
    pub fn parse(self) -> Result<EnvironmentChanges> {
        Ok(EnvironmentChanges {
            name: self
                .name
                .map(|name| field::required_text("name", &name, MAX_TEXT))
                .transpose()?,
            host: self.host.map(|host| parse_host(&host)).transpose()?,
        })
    }
}

/// Longest vendor host: a DNS name, with room for a port.
const MAX_HOST: usize = 260;

/// A vendor host as clients send it in `frontegg-vendor-host`: a host name, optionally with a
/// port; empty means none.
fn parse_host(raw: &str) -> Result<Option<String>, FieldViolation> {
    if raw.is_empty() {
        return Ok(None);
    }
    let valid = raw.len() <= MAX_HOST
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if valid {
        Ok(Some(raw.to_owned()))
    } else {
        Err(FieldViolation::new(
            "host",
            "must be a host name (letters, digits, '.', '-', '_', and ':' before a port)",
        ))
    }
}

/// Per-environment policies and lifetimes. Stored as JSON; absent keys take their defaults, so
/// adding a setting needs no migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EnvironmentSettings {
    /// Lifetime of an activation token, in seconds.
    pub activation_token_ttl_secs: i64,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_secs: i64,
    /// Lifetime of a refresh token, and so of an idle session, in seconds.
    pub refresh_token_ttl_secs: i64,
    /// Rules for new passwords.
    pub password_policy: PasswordPolicy,
}

impl Default for EnvironmentSettings {
    fn default() -> Self {
        Self {
            activation_token_ttl_secs: 24 * 60 * 60,
            access_token_ttl_secs: 60 * 60,
            refresh_token_ttl_secs: 30 * 24 * 60 * 60,
            password_policy: PasswordPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_environments_need_a_name_and_a_plain_host() {
        let parsed = CreateEnvironment {
            name: "Staging".into(),
            host: "staging.example.com:8443".into(),
            client_id: String::new(),
        }
        .parse()
        .unwrap();
        assert_eq!(parsed.host.as_deref(), Some("staging.example.com:8443"));
        assert_eq!(parsed.client_id, None);
        let violation = |request: CreateEnvironment| match request.parse() {
            Err(crate::domain::Error::InvalidArgument(v)) => v[0].field.clone(),
            other => panic!("expected a violation, got {other:?}"),
        };
        assert_eq!(violation(CreateEnvironment::default()), "name");
        let bad_host = CreateEnvironment {
            name: "x".into(),
            host: "https://example.com/".into(),
            ..Default::default()
        };
        assert_eq!(violation(bad_host), "host");
        let bad_client = CreateEnvironment {
            name: "x".into(),
            client_id: "has space".into(),
            ..Default::default()
        };
        assert_eq!(violation(bad_client), "client_id");
        let changes = UpdateEnvironment {
            name: None,
            host: Some(String::new()),
        }
        .parse()
        .unwrap();
        assert_eq!(changes.host, Some(None), "an empty host removes it");
        assert!(
            UpdateEnvironment {
                name: Some(" ".into()),
                host: None
            }
            .parse()
            .is_err()
        );
    }

    #[test]
    fn missing_settings_take_defaults() {
        let settings: EnvironmentSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, EnvironmentSettings::default());
        let settings: EnvironmentSettings =
            serde_json::from_str(r#"{"activationTokenTtlSecs": 60}"#).unwrap();
        assert_eq!(settings.activation_token_ttl_secs, 60);
        assert_eq!(settings.password_policy.min_length, 8);
    }
}

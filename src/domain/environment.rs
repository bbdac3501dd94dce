//! Environments: the unit of isolation. Each has its own credentials, signing keys, tenants and users.

use serde::{Deserialize, Serialize};

use super::password::PasswordPolicy;

/// An environment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    /// The environment's id.
    pub id: String,
    /// Client id used to authenticate as the environment.
    pub client_id: String,
    /// argon2id hash of the environment's secret.
    pub secret_hash: String,
    /// Vendor host that selects this environment, if several share a server.
    pub host: Option<String>,
    /// Policies and lifetimes.
    pub settings: EnvironmentSettings,
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
    fn missing_settings_take_defaults() {
        let settings: EnvironmentSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, EnvironmentSettings::default());
        let settings: EnvironmentSettings =
            serde_json::from_str(r#"{"activationTokenTtlSecs": 60}"#).unwrap();
        assert_eq!(settings.activation_token_ttl_secs, 60);
        assert_eq!(settings.password_policy.min_length, 8);
    }
}

//! The environment's identity configuration (the contract's Core Settings): how its users sign
//! in and what their tokens carry.
//!
//! The settings are a policy document of the environment ([`IdentitySettings`]); the token
//! lifetimes are the environment's own settings, which every token issue reads from memory.

use serde::{Deserialize, Serialize};

use super::{Error, error::Result, policy::PolicyDocument};

/// Longest refresh token lifetime the contract allows: 180 days.
pub const MAX_REFRESH_TOKEN_EXPIRATION: i64 = 180 * 24 * 60 * 60;
/// Shortest token lifetime sigil allows, in seconds: shorter ones expire in flight.
pub const MIN_TOKEN_EXPIRATION: i64 = 30;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// The contract's name of the value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }

            /// The value the contract names `text`; INVALID_ARGUMENT naming `field` otherwise.
            pub fn parse(field: &str, text: &str) -> Result<Self> {
                match text {
                    $($wire => Ok(Self::$variant),)+
                    _ => Err(Error::invalid(
                        field,
                        concat!("must be one of:", $(" ", $wire),+),
                    )),
                }
            }
        }
    };
}

wire_enum!(
    /// SameSite attribute of the refresh cookie.
    CookieSameSite {
        /// Sent only to the gateway's own site.
        Strict = "STRICT",
        /// Sent to the gateway's own site and top-level navigations to it.
        Lax = "LAX",
        /// Sent cross-site too; browsers require `Secure` with it.
        None = "NONE",
    }
);

wire_enum!(
    /// How machines authenticate.
    MachineAuthStrategy {
        /// Client id and secret.
        ClientCredentials = "ClientCredentials",
        /// An access token.
        AccessToken = "AccessToken",
    }
);

wire_enum!(
    /// Signing algorithm of access tokens.
    JwtAlgorithm {
        /// RSA with SHA-256, the only one sigil signs with.
        Rs256 = "RS256",
        /// HMAC with SHA-256 (a shared secret); refused.
        Hs256 = "HS256",
    }
);

wire_enum!(
    /// How users sign in.
    AuthStrategy {
        /// Email and password.
        EmailAndPassword = "EmailAndPassword",
        /// A link sent by email.
        MagicLink = "MagicLink",
        /// A one-time code sent by email.
        Code = "Code",
        /// A one-time code sent by SMS.
        SmsCode = "SmsCode",
        /// Only through an identity provider (SSO).
        NoLocalAuthentication = "NoLocalAuthentication",
    }
);

/// The identity settings of an environment, as stored (policy kind `identity`; environments only).
/// Each field's comment says what sigil does with it; the ones whose feature comes with a later
/// release are kept as written and take effect then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IdentitySettings {
    /// SameSite attribute of the refresh cookie the gateway sets; unset: `NONE` when the cookie is
    /// marked `Secure` (deployment setting), `LAX` otherwise.
    pub cookie_same_site: Option<CookieSameSite>,
    /// How machines authenticate (API tokens).
    pub machine_to_machine_auth_strategy: MachineAuthStrategy,
    /// Whether users may sign up on their own (sign-up).
    pub allow_signups: bool,
    /// Whether API tokens may be created (API tokens).
    pub api_tokens_enabled: bool,
    /// Whether a tenant may override the password complexity policy (security policies).
    pub allow_override_password_complexity: bool,
    /// Whether a tenant may override the password expiration policy (security policies).
    pub allow_override_password_expiration: bool,
    /// Whether a tenant may override the password history policy (security policies).
    pub allow_override_enforce_password_history: bool,
    /// Signing algorithm of access tokens: only `RS256`.
    pub jwt_algorithm: JwtAlgorithm,
    /// Whether users whose email is not verified may sign in with a password; when not, their
    /// sign-in is refused after the password checks out.
    pub allow_not_verified_users_login: bool,
    /// Whether permissions are enforced on the environment's own routes.
    pub force_permissions: bool,
    /// Whether access tokens carry the attributes of a SAML sign-in (SSO).
    pub add_saml_attributes_to_jwt: bool,
    /// How users sign in: password sign-in works only with `EmailAndPassword`.
    pub auth_strategy: AuthStrategy,
    /// Lifetime of a passwordless token, in seconds (passwordless sign-in).
    pub default_passwordless_token_expiration: i64,
    /// Whether a passwordless sign-in must finish on the device that started it.
    pub force_same_device_on_auth: bool,
    /// Whether tenants may invite users (invitations).
    pub allow_tenant_invitations: bool,
    /// Whether refresh tokens are replaced at every use: sigil always replaces them.
    pub rotate_refresh_tokens: bool,
    /// Whether a sign-in may skip checking the user's tenant.
    pub skip_tenant_validation: bool,
    /// Whether access tokens carry the user's role keys (`roles`); when not, the claim is left
    /// out and checks read the roles from the store.
    pub add_roles_to_jwt: bool,
    /// Whether access tokens carry the user's permission keys (`permissions`); when not, the claim
    /// is left out and checks read the permissions from the store.
    pub add_permissions_to_jwt: bool,
    /// Whether a user may choose its tenant at sign-in.
    pub allow_custom_login_tenant_switch: bool,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            cookie_same_site: None,
            machine_to_machine_auth_strategy: MachineAuthStrategy::ClientCredentials,
            allow_signups: false,
            api_tokens_enabled: false,
            allow_override_password_complexity: false,
            allow_override_password_expiration: false,
            allow_override_enforce_password_history: false,
            jwt_algorithm: JwtAlgorithm::Rs256,
            allow_not_verified_users_login: true,
            force_permissions: false,
            add_saml_attributes_to_jwt: false,
            auth_strategy: AuthStrategy::EmailAndPassword,
            default_passwordless_token_expiration: 300,
            force_same_device_on_auth: false,
            allow_tenant_invitations: false,
            rotate_refresh_tokens: true,
            skip_tenant_validation: false,
            add_roles_to_jwt: true,
            add_permissions_to_jwt: true,
            allow_custom_login_tenant_switch: false,
        }
    }
}

impl PolicyDocument for IdentitySettings {
    const KIND: &'static str = "identity";
    const TENANT_OVERRIDE: bool = false;

    fn validate(&self) -> Result<()> {
        if self.jwt_algorithm != JwtAlgorithm::Rs256 {
            return Err(Error::invalid(
                "jwt_algorithm",
                "must be RS256: sigil signs with its rotating RSA keys and never shares a secret",
            ));
        }
        if !self.rotate_refresh_tokens {
            return Err(Error::invalid(
                "rotate_refresh_tokens",
                "must be true: sigil replaces a refresh token at every use and ends the session on reuse",
            ));
        }
        if !(MIN_TOKEN_EXPIRATION..=MAX_REFRESH_TOKEN_EXPIRATION)
            .contains(&self.default_passwordless_token_expiration)
        {
            return Err(Error::invalid(
                "default_passwordless_token_expiration",
                "must be between 30 seconds and 180 days",
            ));
        }
        Ok(())
    }
}

/// A change to the identity configuration: the fields that are set change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateIdentityConfiguration {
    /// Lifetime of an access token, in seconds.
    #[serde(skip)]
    pub default_token_expiration: Option<i64>,
    /// Lifetime of a refresh token, in seconds.
    #[serde(skip)]
    pub default_refresh_token_expiration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_same_site: Option<CookieSameSite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_to_machine_auth_strategy: Option<MachineAuthStrategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_signups: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_tokens_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_override_password_complexity: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_override_password_expiration: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_override_enforce_password_history: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_algorithm: Option<JwtAlgorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_not_verified_users_login: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_permissions: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_saml_attributes_to_jwt: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_strategy: Option<AuthStrategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_passwordless_token_expiration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_same_device_on_auth: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_tenant_invitations: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_refresh_tokens: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_tenant_validation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_roles_to_jwt: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_permissions_to_jwt: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_custom_login_tenant_switch: Option<bool>,
}

impl UpdateIdentityConfiguration {
    /// The settings fields it sets, as a patch of [`IdentitySettings`].
    pub fn settings_patch(&self) -> Result<serde_json::Map<String, serde_json::Value>> {
        match serde_json::to_value(self).map_err(Error::internal)? {
            serde_json::Value::Object(fields) => Ok(fields),
            _ => Err(Error::internal(anyhow::anyhow!("an update is not an object"))),
        }
    }

    /// Checks the token lifetimes it sets; `access` and `refresh` are the lifetimes now.
    /// Returns the lifetimes after it.
    pub fn lifetimes(&self, access: i64, refresh: i64) -> Result<(i64, i64)> {
        let access = self.default_token_expiration.unwrap_or(access);
        let refresh = self.default_refresh_token_expiration.unwrap_or(refresh);
        let mut violations = Vec::new();
        if !(MIN_TOKEN_EXPIRATION..=MAX_REFRESH_TOKEN_EXPIRATION).contains(&access) {
            violations.push((
                "default_token_expiration",
                "must be between 30 seconds and 180 days",
            ));
        }
        if !(MIN_TOKEN_EXPIRATION..=MAX_REFRESH_TOKEN_EXPIRATION).contains(&refresh) {
            violations.push((
                "default_refresh_token_expiration",
                "must be between 30 seconds and 180 days (15552000)",
            ));
        } else if refresh < access {
            violations.push((
                "default_refresh_token_expiration",
                "must not be shorter than an access token's lifetime",
            ));
        }
        match violations.first() {
            Some((field, description)) => Err(Error::invalid(*field, *description)),
            None => Ok((access, refresh)),
        }
    }
}

/// The identity configuration as it applies to an environment now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfiguration {
    /// The environment's id.
    pub id: String,
    /// Lifetime of an access token, in seconds.
    pub default_token_expiration: i64,
    /// Lifetime of a refresh token, in seconds.
    pub default_refresh_token_expiration: i64,
    /// PEM of the key that signs access tokens now.
    pub public_key: String,
    /// SameSite attribute of the refresh cookie, as the gateway sets it.
    pub cookie_same_site: CookieSameSite,
    /// How many times a refresh token may be presented; 0 for once.
    pub refresh_tokens_rotation_limit: i64,
    /// The stored settings.
    pub settings: IdentitySettings,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::policy::patched;

    fn patch(value: serde_json::Value) -> Result<IdentitySettings> {
        let serde_json::Value::Object(fields) = value else {
            unreachable!()
        };
        patched::<IdentitySettings>(&[], &serde_json::Map::new(), &fields).map(|(_, v)| v)
    }

    #[test]
    fn settings_read_back_as_written_and_refuse_what_sigil_cannot_do() {
        let settings = patch(json!({"authStrategy": "MagicLink", "addRolesToJwt": false})).unwrap();
        assert_eq!(settings.auth_strategy, AuthStrategy::MagicLink);
        assert!(!settings.add_roles_to_jwt);
        assert!(settings.add_permissions_to_jwt);
        assert!(patch(json!({"jwt_algorithm": "HS256"})).is_err());
        assert!(patch(json!({"rotate_refresh_tokens": false})).is_err());
        assert!(patch(json!({"authStrategy": "Carrier pigeon"})).is_err());
    }

    #[test]
    fn lifetimes_stay_in_bounds_and_in_order() {
        let update = UpdateIdentityConfiguration {
            default_token_expiration: Some(600),
            ..Default::default()
        };
        assert_eq!(update.lifetimes(3600, 86400).unwrap(), (600, 86400));
        let too_long = UpdateIdentityConfiguration {
            default_refresh_token_expiration: Some(MAX_REFRESH_TOKEN_EXPIRATION + 1),
            ..Default::default()
        };
        assert!(too_long.lifetimes(3600, 86400).is_err());
        assert!(
            update.lifetimes(3600, 300).is_err(),
            "refresh shorter than access"
        );
        assert!(
            UpdateIdentityConfiguration::default()
                .settings_patch()
                .unwrap()
                .is_empty()
        );
    }
}

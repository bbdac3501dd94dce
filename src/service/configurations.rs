//! The environment's identity configuration.

use super::Deps;
use crate::domain::{Error, configuration::IdentityConfiguration, error::Result, scope::Scope};

/// Identity configuration use cases.
#[derive(Clone)]
pub struct Configurations {
    deps: Deps,
}

impl Configurations {
    pub(super) fn new(deps: Deps) -> Self {
        Self { deps }
    }

    /// The identity configuration of the scope's environment, with the PEM of its signing key.
    pub fn identity(&self, scope: &Scope) -> Result<IdentityConfiguration> {
        let environment_id = scope.environment_id();
        let public_key = self.deps.keys.signing_key_pem(environment_id).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("environment {environment_id} has no signing key"))
        })?;
        let settings = &scope.environment().settings;
        Ok(IdentityConfiguration {
            id: environment_id.to_owned(),
            default_token_expiration: settings.access_token_ttl_secs,
            default_refresh_token_expiration: settings.refresh_token_ttl_secs,
            public_key,
            // As the gateway sets the refresh cookie.
            cookie_same_site: if self.deps.settings.cookie_secure {
                "NONE"
            } else {
                "LAX"
            },
            allow_signups: false,
            api_tokens_enabled: false,
            allow_override_password_complexity: false,
            allow_override_password_expiration: false,
            allow_override_enforce_password_history: false,
            jwt_algorithm: "RS256",
            // Sign-in requires an activated user, not a verified email.
            allow_not_verified_users_login: true,
            force_permissions: false,
            auth_strategy: "EmailAndPassword",
            default_passwordless_token_expiration: 0,
            force_same_device_on_auth: false,
            allow_tenant_invitations: false,
            rotate_refresh_tokens: true,
            machine_to_machine_auth_strategy: "ClientCredentials",
            // Access tokens always carry `roles` and `permissions` claims.
            add_roles_to_jwt: true,
            add_permissions_to_jwt: true,
            // A refresh token works once: the previous one is refused (and its reuse ends the session).
            refresh_tokens_rotation_limit: 0,
            add_saml_attributes_to_jwt: false,
            allow_custom_login_tenant_switch: false,
        })
    }
}

//! `identity.v1.ConfigurationService`.

use tonic::{Request, Response, Status};

use super::{
    auth::environment,
    pb::{self, configuration_service_server::ConfigurationService},
};
use crate::{domain::configuration::IdentityConfiguration, service::Configurations};

/// gRPC face of the identity configuration.
pub struct ConfigurationApi {
    configurations: Configurations,
}

impl ConfigurationApi {
    /// Serves `configurations`.
    pub fn new(configurations: Configurations) -> Self {
        Self { configurations }
    }
}

impl From<IdentityConfiguration> for pb::IdentityConfiguration {
    fn from(c: IdentityConfiguration) -> Self {
        Self {
            id: c.id,
            default_token_expiration: c.default_token_expiration,
            default_refresh_token_expiration: c.default_refresh_token_expiration,
            public_key: c.public_key,
            cookie_same_site: c.cookie_same_site.to_owned(),
            allow_signups: c.allow_signups,
            api_tokens_enabled: c.api_tokens_enabled,
            allow_override_password_complexity: c.allow_override_password_complexity,
            allow_override_password_expiration: c.allow_override_password_expiration,
            allow_override_enforce_password_history: c.allow_override_enforce_password_history,
            jwt_algorithm: c.jwt_algorithm.to_owned(),
            allow_not_verified_users_login: c.allow_not_verified_users_login,
            force_permissions: c.force_permissions,
            auth_strategy: c.auth_strategy.to_owned(),
            default_passwordless_token_expiration: c.default_passwordless_token_expiration,
            force_same_device_on_auth: c.force_same_device_on_auth,
            allow_tenant_invitations: c.allow_tenant_invitations,
            rotate_refresh_tokens: c.rotate_refresh_tokens,
            machine_to_machine_auth_strategy: c.machine_to_machine_auth_strategy.to_owned(),
            add_roles_to_jwt: c.add_roles_to_jwt,
            add_permissions_to_jwt: c.add_permissions_to_jwt,
            refresh_tokens_rotation_limit: c.refresh_tokens_rotation_limit,
            add_saml_attributes_to_jwt: c.add_saml_attributes_to_jwt,
            allow_custom_login_tenant_switch: c.allow_custom_login_tenant_switch,
        }
    }
}

#[tonic::async_trait]
impl ConfigurationService for ConfigurationApi {
    async fn get_identity_configuration(
        &self,
        request: Request<pb::GetIdentityConfigurationRequest>,
    ) -> Result<Response<pb::GetIdentityConfigurationResponse>, Status> {
        let scope = environment(&request)?;
        let configuration = self.configurations.identity(&scope)?;
        Ok(Response::new(pb::GetIdentityConfigurationResponse {
            configuration: Some(configuration.into()),
        }))
    }
}

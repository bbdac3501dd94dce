//! `identity.v1.ConfigurationService`.

use tonic::{Request, Response, Status};

use super::{
    auth::scope,
    pb::{self, configuration_service_server::ConfigurationService},
};
use crate::{
    domain::{
        configuration::{
            AuthStrategy, CookieSameSite, IdentityConfiguration, JwtAlgorithm, MachineAuthStrategy,
            UpdateIdentityConfiguration,
        },
        error::Result,
    },
    service::Configurations,
};

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
        let s = c.settings;
        Self {
            id: c.id,
            default_token_expiration: c.default_token_expiration,
            default_refresh_token_expiration: c.default_refresh_token_expiration,
            public_key: c.public_key,
            cookie_same_site: c.cookie_same_site.as_str().to_owned(),
            allow_signups: s.allow_signups,
            api_tokens_enabled: s.api_tokens_enabled,
            allow_override_password_complexity: s.allow_override_password_complexity,
            allow_override_password_expiration: s.allow_override_password_expiration,
            allow_override_enforce_password_history: s.allow_override_enforce_password_history,
            jwt_algorithm: s.jwt_algorithm.as_str().to_owned(),
            allow_not_verified_users_login: s.allow_not_verified_users_login,
            force_permissions: s.force_permissions,
            auth_strategy: s.auth_strategy.as_str().to_owned(),
            default_passwordless_token_expiration: s.default_passwordless_token_expiration,
            force_same_device_on_auth: s.force_same_device_on_auth,
            allow_tenant_invitations: s.allow_tenant_invitations,
            rotate_refresh_tokens: s.rotate_refresh_tokens,
            machine_to_machine_auth_strategy: s.machine_to_machine_auth_strategy.as_str().to_owned(),
            add_roles_to_jwt: s.add_roles_to_jwt,
            add_permissions_to_jwt: s.add_permissions_to_jwt,
            refresh_tokens_rotation_limit: c.refresh_tokens_rotation_limit,
            add_saml_attributes_to_jwt: s.add_saml_attributes_to_jwt,
            allow_custom_login_tenant_switch: s.allow_custom_login_tenant_switch,
            skip_tenant_validation: s.skip_tenant_validation,
        }
    }
}

impl TryFrom<pb::UpdateIdentityConfigurationRequest> for UpdateIdentityConfiguration {
    type Error = crate::domain::Error;

    fn try_from(r: pb::UpdateIdentityConfigurationRequest) -> Result<Self> {
        fn parsed<T>(
            field: &str,
            text: Option<String>,
            parse: fn(&str, &str) -> Result<T>,
        ) -> Result<Option<T>> {
            text.map(|text| parse(field, &text)).transpose()
        }
        Ok(Self {
            default_token_expiration: r.default_token_expiration,
            default_refresh_token_expiration: r.default_refresh_token_expiration,
            cookie_same_site: parsed("cookie_same_site", r.cookie_same_site, CookieSameSite::parse)?,
            machine_to_machine_auth_strategy: parsed(
                "machine_to_machine_auth_strategy",
                r.machine_to_machine_auth_strategy,
                MachineAuthStrategy::parse,
            )?,
            allow_signups: r.allow_signups,
            api_tokens_enabled: r.api_tokens_enabled,
            allow_override_password_complexity: r.allow_override_password_complexity,
            allow_override_password_expiration: r.allow_override_password_expiration,
            allow_override_enforce_password_history: r.allow_override_enforce_password_history,
            jwt_algorithm: parsed("jwt_algorithm", r.jwt_algorithm, JwtAlgorithm::parse)?,
            allow_not_verified_users_login: r.allow_not_verified_users_login,
            force_permissions: r.force_permissions,
            add_saml_attributes_to_jwt: r.add_saml_attributes_to_jwt,
            auth_strategy: parsed("auth_strategy", r.auth_strategy, AuthStrategy::parse)?,
            default_passwordless_token_expiration: r.default_passwordless_token_expiration,
            force_same_device_on_auth: r.force_same_device_on_auth,
            allow_tenant_invitations: r.allow_tenant_invitations,
            rotate_refresh_tokens: r.rotate_refresh_tokens,
            skip_tenant_validation: r.skip_tenant_validation,
            add_roles_to_jwt: r.add_roles_to_jwt,
            add_permissions_to_jwt: r.add_permissions_to_jwt,
            allow_custom_login_tenant_switch: r.allow_custom_login_tenant_switch,
        })
    }
}

#[tonic::async_trait]
impl ConfigurationService for ConfigurationApi {
    async fn get_identity_configuration(
        &self,
        request: Request<pb::GetIdentityConfigurationRequest>,
    ) -> Result<Response<pb::GetIdentityConfigurationResponse>, Status> {
        let scope = scope(&request)?;
        let configuration = self.configurations.identity(&scope).await?;
        Ok(Response::new(pb::GetIdentityConfigurationResponse {
            configuration: Some(configuration.into()),
        }))
    }

    async fn update_identity_configuration(
        &self,
        request: Request<pb::UpdateIdentityConfigurationRequest>,
    ) -> Result<Response<pb::UpdateIdentityConfigurationResponse>, Status> {
        let scope = scope(&request)?;
        let update = request.into_inner().try_into()?;
        let configuration = self.configurations.update(&scope, update).await?;
        Ok(Response::new(pb::UpdateIdentityConfigurationResponse {
            configuration: Some(configuration.into()),
        }))
    }

    async fn get_basic_identity_configuration(
        &self,
        request: Request<pb::GetBasicIdentityConfigurationRequest>,
    ) -> Result<Response<pb::GetBasicIdentityConfigurationResponse>, Status> {
        let scope = scope(&request)?;
        let settings = self.configurations.settings(&scope).await?;
        Ok(Response::new(pb::GetBasicIdentityConfigurationResponse {
            force_permissions: settings.force_permissions,
            machine_to_machine_auth_strategy: settings.machine_to_machine_auth_strategy.as_str().to_owned(),
        }))
    }
}

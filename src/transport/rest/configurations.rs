//! The environment's identity configuration (identity.yml "Core Settings"), as Frontegg's backend
//! SDKs read it: their token validation takes `publicKey` from here and checks every token with it.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Gateway,
    error::{ApiError, EnvironmentCaller},
    sign_in::CallingEnvironment,
};
use crate::domain::configuration::IdentityConfiguration;

/// The contract's `VendorConfigResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorConfig {
    id: String,
    default_token_expiration: i64,
    default_refresh_token_expiration: i64,
    /// PEM of the key that signs access tokens now.
    public_key: String,
    cookie_same_site: &'static str,
    allow_signups: bool,
    api_tokens_enabled: bool,
    allow_override_password_complexity: bool,
    allow_override_password_expiration: bool,
    allow_override_enforce_password_history: bool,
    jwt_algorithm: &'static str,
    /// Only meaningful for HS256, which sigil never uses; a secret is never handed out here.
    jwt_secret: &'static str,
    allow_not_verified_users_login: bool,
    force_permissions: bool,
    auth_strategy: &'static str,
    default_passwordless_token_expiration: i64,
    force_same_device_on_auth: bool,
    allow_tenant_invitations: bool,
    rotate_refresh_tokens: bool,
    machine_to_machine_auth_strategy: &'static str,
    add_roles_to_jwt: bool,
    add_permissions_to_jwt: bool,
    refresh_tokens_rotation_limit: i64,
    add_saml_attributes_to_jwt: bool,
    allow_custom_login_tenant_switch: bool,
}

impl From<IdentityConfiguration> for VendorConfig {
    fn from(c: IdentityConfiguration) -> Self {
        Self {
            id: c.id,
            default_token_expiration: c.default_token_expiration,
            default_refresh_token_expiration: c.default_refresh_token_expiration,
            public_key: c.public_key,
            cookie_same_site: c.cookie_same_site,
            allow_signups: c.allow_signups,
            api_tokens_enabled: c.api_tokens_enabled,
            allow_override_password_complexity: c.allow_override_password_complexity,
            allow_override_password_expiration: c.allow_override_password_expiration,
            allow_override_enforce_password_history: c.allow_override_enforce_password_history,
            jwt_algorithm: c.jwt_algorithm,
            jwt_secret: "",
            allow_not_verified_users_login: c.allow_not_verified_users_login,
            force_permissions: c.force_permissions,
            auth_strategy: c.auth_strategy,
            default_passwordless_token_expiration: c.default_passwordless_token_expiration,
            force_same_device_on_auth: c.force_same_device_on_auth,
            allow_tenant_invitations: c.allow_tenant_invitations,
            rotate_refresh_tokens: c.rotate_refresh_tokens,
            machine_to_machine_auth_strategy: c.machine_to_machine_auth_strategy,
            add_roles_to_jwt: c.add_roles_to_jwt,
            add_permissions_to_jwt: c.add_permissions_to_jwt,
            refresh_tokens_rotation_limit: c.refresh_tokens_rotation_limit,
            add_saml_attributes_to_jwt: c.add_saml_attributes_to_jwt,
            allow_custom_login_tenant_switch: c.allow_custom_login_tenant_switch,
        }
    }
}

/// `GET /identity/resources/configurations/v1`: the calling environment's configuration.
#[utoipa::path(
    get,
    path = "/identity/resources/configurations/v1",
    tag = "Core Settings",
    operation_id = "VendorConfigController_getVendorConfig",
    summary = "The environment's identity configuration, with the PEM of its signing key",
    security(("environmentToken" = [])),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The configuration", body = VendorConfig),
    )
)]
pub async fn get_configuration(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
) -> Result<Response, ApiError> {
    let configuration = gateway.services.configurations.identity(&environment)?;
    Ok(Json(VendorConfig::from(configuration)).into_response())
}

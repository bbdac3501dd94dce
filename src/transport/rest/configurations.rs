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

/// The contract's `VendorConfigResponse`. Every field says what sigil does; features sigil does
/// not have read as off.
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
    let public_key = gateway
        .services
        .tokens
        .signing_key_pem(environment.environment_id())?;
    let settings = &environment.environment().settings;
    Ok(Json(VendorConfig {
        id: environment.environment_id().to_owned(),
        default_token_expiration: settings.access_token_ttl_secs,
        default_refresh_token_expiration: settings.refresh_token_ttl_secs,
        public_key,
        // As the gateway sets the refresh cookie (see `Gateway::refresh_cookie`).
        cookie_same_site: if gateway.cookie_secure { "NONE" } else { "LAX" },
        allow_signups: false,
        api_tokens_enabled: false,
        allow_override_password_complexity: false,
        allow_override_password_expiration: false,
        allow_override_enforce_password_history: false,
        jwt_algorithm: "RS256",
        jwt_secret: "",
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
    .into_response())
}

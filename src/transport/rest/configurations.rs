//! The environment's identity configuration (identity.yml "Core Settings"), as Frontegg's backend
//! SDKs read it: their token validation takes `publicKey` from here and checks every token with it.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    Gateway,
    error::{ApiError, EnvironmentCaller, EnvironmentOrUserCaller, ErrorBody, JsonBody, JsonBodyErrors},
    sign_in::{Acting, CallingEnvironment},
};
use crate::domain::configuration::{
    AuthStrategy, CookieSameSite, IdentityConfiguration, JwtAlgorithm, MachineAuthStrategy,
    UpdateIdentityConfiguration,
};

/// The contract's `VendorConfigResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorConfig {
    id: String,
    default_token_expiration: i64,
    default_refresh_token_expiration: i64,
    /// PEM of the key that signs access tokens now.
    public_key: String,
    #[schema(value_type = String)]
    cookie_same_site: CookieSameSite,
    allow_signups: bool,
    api_tokens_enabled: bool,
    allow_override_password_complexity: bool,
    allow_override_password_expiration: bool,
    allow_override_enforce_password_history: bool,
    #[schema(value_type = String)]
    jwt_algorithm: JwtAlgorithm,
    /// Only meaningful for HS256, which sigil never uses; a secret is never handed out here.
    jwt_secret: &'static str,
    allow_not_verified_users_login: bool,
    force_permissions: bool,
    #[schema(value_type = String)]
    auth_strategy: AuthStrategy,
    default_passwordless_token_expiration: i64,
    force_same_device_on_auth: bool,
    allow_tenant_invitations: bool,
    rotate_refresh_tokens: bool,
    #[schema(value_type = String)]
    machine_to_machine_auth_strategy: MachineAuthStrategy,
    add_roles_to_jwt: bool,
    add_permissions_to_jwt: bool,
    refresh_tokens_rotation_limit: i64,
    add_saml_attributes_to_jwt: bool,
    allow_custom_login_tenant_switch: bool,
    skip_tenant_validation: bool,
}

impl From<IdentityConfiguration> for VendorConfig {
    fn from(c: IdentityConfiguration) -> Self {
        let s = c.settings;
        Self {
            id: c.id,
            default_token_expiration: c.default_token_expiration,
            default_refresh_token_expiration: c.default_refresh_token_expiration,
            public_key: c.public_key,
            cookie_same_site: c.cookie_same_site,
            allow_signups: s.allow_signups,
            api_tokens_enabled: s.api_tokens_enabled,
            allow_override_password_complexity: s.allow_override_password_complexity,
            allow_override_password_expiration: s.allow_override_password_expiration,
            allow_override_enforce_password_history: s.allow_override_enforce_password_history,
            jwt_algorithm: s.jwt_algorithm,
            jwt_secret: "",
            allow_not_verified_users_login: s.allow_not_verified_users_login,
            force_permissions: s.force_permissions,
            auth_strategy: s.auth_strategy,
            default_passwordless_token_expiration: s.default_passwordless_token_expiration,
            force_same_device_on_auth: s.force_same_device_on_auth,
            allow_tenant_invitations: s.allow_tenant_invitations,
            rotate_refresh_tokens: s.rotate_refresh_tokens,
            machine_to_machine_auth_strategy: s.machine_to_machine_auth_strategy,
            add_roles_to_jwt: s.add_roles_to_jwt,
            add_permissions_to_jwt: s.add_permissions_to_jwt,
            refresh_tokens_rotation_limit: c.refresh_tokens_rotation_limit,
            add_saml_attributes_to_jwt: s.add_saml_attributes_to_jwt,
            allow_custom_login_tenant_switch: s.allow_custom_login_tenant_switch,
            skip_tenant_validation: s.skip_tenant_validation,
        }
    }
}

/// The contract's `VendorConfigRequest`: each field given changes; the others stay. Fields of the
/// answer that cannot be set (`id`, `publicKey`, ...) are ignored, so an answer read, changed and
/// sent back works.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorConfigRequest {
    /// Lifetime of an access token, in seconds (30 to 15552000).
    default_token_expiration: Option<i64>,
    /// Lifetime of a refresh token, in seconds (30 to 15552000, not shorter than an access token's).
    default_refresh_token_expiration: Option<i64>,
    #[schema(value_type = Option<String>)]
    cookie_same_site: Option<CookieSameSite>,
    #[schema(value_type = Option<String>)]
    machine_to_machine_auth_strategy: Option<MachineAuthStrategy>,
    allow_signups: Option<bool>,
    api_tokens_enabled: Option<bool>,
    allow_override_password_complexity: Option<bool>,
    allow_override_password_expiration: Option<bool>,
    allow_override_enforce_password_history: Option<bool>,
    /// Only `RS256`.
    #[schema(value_type = Option<String>)]
    jwt_algorithm: Option<JwtAlgorithm>,
    allow_not_verified_users_login: Option<bool>,
    force_permissions: Option<bool>,
    add_saml_attributes_to_jwt: Option<bool>,
    /// Password sign-in works only with `EmailAndPassword`.
    #[schema(value_type = Option<String>)]
    auth_strategy: Option<AuthStrategy>,
    default_passwordless_token_expiration: Option<i64>,
    force_same_device_on_auth: Option<bool>,
    allow_tenant_invitations: Option<bool>,
    /// Only `true`: sigil replaces a refresh token at every use.
    rotate_refresh_tokens: Option<bool>,
    skip_tenant_validation: Option<bool>,
    add_roles_to_jwt: Option<bool>,
    add_permissions_to_jwt: Option<bool>,
    allow_custom_login_tenant_switch: Option<bool>,
}

impl From<VendorConfigRequest> for UpdateIdentityConfiguration {
    fn from(r: VendorConfigRequest) -> Self {
        Self {
            default_token_expiration: r.default_token_expiration,
            default_refresh_token_expiration: r.default_refresh_token_expiration,
            cookie_same_site: r.cookie_same_site,
            machine_to_machine_auth_strategy: r.machine_to_machine_auth_strategy,
            allow_signups: r.allow_signups,
            api_tokens_enabled: r.api_tokens_enabled,
            allow_override_password_complexity: r.allow_override_password_complexity,
            allow_override_password_expiration: r.allow_override_password_expiration,
            allow_override_enforce_password_history: r.allow_override_enforce_password_history,
            jwt_algorithm: r.jwt_algorithm,
            allow_not_verified_users_login: r.allow_not_verified_users_login,
            force_permissions: r.force_permissions,
            add_saml_attributes_to_jwt: r.add_saml_attributes_to_jwt,
            auth_strategy: r.auth_strategy,
            default_passwordless_token_expiration: r.default_passwordless_token_expiration,
            force_same_device_on_auth: r.force_same_device_on_auth,
            allow_tenant_invitations: r.allow_tenant_invitations,
            rotate_refresh_tokens: r.rotate_refresh_tokens,
            skip_tenant_validation: r.skip_tenant_validation,
            add_roles_to_jwt: r.add_roles_to_jwt,
            add_permissions_to_jwt: r.add_permissions_to_jwt,
            allow_custom_login_tenant_switch: r.allow_custom_login_tenant_switch,
        }
    }
}

/// The contract's `VendorConfigBasicResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorConfigBasic {
    force_permissions: bool,
    #[schema(value_type = String)]
    machine_to_machine_auth_strategy: MachineAuthStrategy,
}

/// `GET /identity/resources/configurations/v1`: the environment's configuration.
#[utoipa::path(
    get,
    path = "/identity/resources/configurations/v1",
    tag = "Core Settings",
    operation_id = "VendorConfigController_getVendorConfig",
    summary = "The environment's identity configuration, with the PEM of its signing key",
    security(("environmentToken" = []), ("userToken" = [])),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "The configuration", body = VendorConfig),
    )
)]
pub async fn get_configuration(
    State(gateway): State<Gateway>,
    Acting { scope, .. }: Acting,
) -> Result<Response, ApiError> {
    let configuration = gateway.services.configurations.identity(&scope).await?;
    Ok(Json(VendorConfig::from(configuration)).into_response())
}

/// `POST /identity/resources/configurations/v1`: changes the configuration.
#[utoipa::path(
    post,
    path = "/identity/resources/configurations/v1",
    tag = "Core Settings",
    operation_id = "VendorConfigController_addOrUpdateConfig",
    summary = "Change the identity configuration; only the fields given change",
    security(("environmentToken" = [])),
    request_body = VendorConfigRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The configuration after the change", body = VendorConfig),
        (status = 400, description = "A field is out of bounds, or asks for what sigil does not do", body = ErrorBody),
    )
)]
pub async fn update_configuration(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    JsonBody(body): JsonBody<VendorConfigRequest>,
) -> Result<Response, ApiError> {
    let configuration = gateway
        .services
        .configurations
        .update(&environment, body.into())
        .await?;
    Ok((StatusCode::CREATED, Json(VendorConfig::from(configuration))).into_response())
}

/// `GET /identity/resources/configurations/v1/basic`.
#[utoipa::path(
    get,
    path = "/identity/resources/configurations/v1/basic",
    tag = "Core Settings",
    operation_id = "VendorConfigController_getVendorConfigBasic",
    summary = "The two fields of the identity configuration that backend SDKs read",
    security(("environmentToken" = [])),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The basic configuration", body = VendorConfigBasic),
    )
)]
pub async fn get_basic_configuration(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
) -> Result<Response, ApiError> {
    let settings = gateway.services.configurations.settings(&environment).await?;
    Ok(Json(VendorConfigBasic {
        force_permissions: settings.force_permissions,
        machine_to_machine_auth_strategy: settings.machine_to_machine_auth_strategy,
    })
    .into_response())
}

//! The gateway's OpenAPI document, generated from the handlers' own annotations, so that
//! contract coverage can be computed from it and fuzzers can drive every route.

use std::sync::LazyLock;

use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::{configurations, error::ErrorBody, me, sign_in, tenants, users};

/// Adds the two bearer schemes: environment tokens (from `/auth/vendor`) for management routes,
/// user access tokens (from a sign-in) for the signed-in user's own routes.
struct BearerSchemes;

impl Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, description) in [
            ("environmentToken", "An environment token from POST /auth/vendor"),
            ("userToken", "A user's access token from a sign-in"),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(description))
                        .build(),
                ),
            );
        }
    }
}

/// Every route the gateway serves.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "sigil REST gateway",
        description = "Frontegg's Identity API paths and JSON, served by sigil. Errors answer \
                       `{\"errors\": [...], \"errorCode\": \"...\"}`."
    ),
    paths(
        super::healthz,
        super::livez,
        super::readyz,
        super::jwks,
        openapi_json,
        sign_in::authenticate_vendor,
        sign_in::login,
        sign_in::refresh,
        sign_in::logout,
        sign_in::activate_user,
        sign_in::activate_user_with_code,
        sign_in::activation_strategy,
        sign_in::reset_activation_token,
        configurations::get_configuration,
        tenants::create_tenant,
        tenants::list_all_tenants,
        tenants::get_tenant_v1,
        tenants::get_tenant_v2,
        tenants::list_tenants,
        tenants::update_tenant_v1,
        tenants::update_tenant_v2,
        tenants::delete_tenant,
        tenants::add_tenant_metadata,
        tenants::delete_tenant_metadata,
        users::create_user_v1,
        users::create_user_v2,
        users::create_vendor_user,
        users::get_user,
        users::get_vendor_user,
        users::get_user_by_email,
        users::list_users,
        users::list_users_v1,
        users::search_users,
        users::update_user_globally,
        users::update_user_in_tenant,
        users::delete_user,
        users::add_user_to_tenant,
        users::lock_user,
        users::unlock_user,
        users::verify_user,
        users::generate_activation_token,
        me::get_me_v2,
        me::get_me_v3,
        me::update_me,
        me::my_tenants_v1,
        me::my_tenants_v2,
        me::my_tenants_v3,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerSchemes)
)]
pub struct ApiDoc;

/// The document, serialized once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
});

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "Meta",
    operation_id = "openapi",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI document of the gateway", body = Object))
)]
pub async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str()).into_response()
}

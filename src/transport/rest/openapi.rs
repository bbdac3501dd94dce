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

use super::error::ErrorBody;

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

/// What the gateway's document says beyond its routes, which each handler declares (see
/// `frontegg_api` in the parent module).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "sigil REST gateway",
        description = "Frontegg's Identity API paths and JSON, served by sigil. Errors answer \
                       `{\"errors\": [...], \"errorCode\": \"...\"}`."
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerSchemes)
)]
pub struct ApiDoc;

/// The document, serialized once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    super::document()
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

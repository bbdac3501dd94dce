//! Errors of the REST gateway in the contract's shape, `{"errors": [...], "errorCode": "..."}`,
//! and the extractors that turn unreadable requests into such errors instead of axum's plain text.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Path, Query, Request, rejection::JsonRejection},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use utoipa::{
    IntoResponses,
    openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder},
};

use crate::domain::Error;

tokio::task_local! {
    /// The trace id of the request being served, quoted in internal errors.
    pub(super) static TRACE_ID: String;
}

/// The trace id of the request being served.
pub(super) fn trace_id() -> String {
    TRACE_ID.try_with(Clone::clone).unwrap_or_default()
}

/// The contract's error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong, one entry per problem (a bad field is named first, in camelCase).
    errors: Vec<String>,
    /// Stable UPPER_SNAKE reason to match on, such as `INVALID_ARGUMENT` or `TENANT_NOT_FOUND`.
    error_code: String,
}

/// The error answers a route shares with every other route of its kind of caller (or of body),
/// declared once and named in each route's `responses(...)` before the route's own entries,
/// which win on the same status.
fn shared(entries: &[(u16, &str)]) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    entries
        .iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// Routes called with an environment token.
pub struct EnvironmentCaller;

impl IntoResponses for EnvironmentCaller {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        shared(&[
            (401, "No valid environment token"),
            (403, "The token is a user's, which this route does not take"),
            (
                503,
                "The database is busy; retry after the seconds of the Retry-After header",
            ),
        ])
    }
}

/// Routes called with a user's access token.
pub struct UserCaller;

impl IntoResponses for UserCaller {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        shared(&[
            (400, "The frontegg-user-id header cannot be read"),
            (401, "No valid access token"),
            (
                403,
                "The frontegg-user-id header names another user, the token is not a user's, or the user lacks the route's permission",
            ),
            (
                503,
                "The database is busy; retry after the seconds of the Retry-After header",
            ),
        ])
    }
}

/// Routes called with an environment token or with a user's access token.
pub struct EnvironmentOrUserCaller;

impl IntoResponses for EnvironmentOrUserCaller {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        shared(&[
            (401, "No valid environment or user token"),
            (
                403,
                "The user lacks the route's permission, or the frontegg-user-id header names another user",
            ),
            (
                503,
                "The database is busy; retry after the seconds of the Retry-After header",
            ),
        ])
    }
}

/// Public routes, whose environment is chosen by the `frontegg-vendor-host` header.
pub struct PublicCaller;

impl IntoResponses for PublicCaller {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        shared(&[
            (404, "No environment serves this request"),
            (
                503,
                "The database is busy; retry after the seconds of the Retry-After header",
            ),
        ])
    }
}

/// Routes that check a password, in front of which sign-in attempts are limited.
pub struct LimitedAttempts;

impl IntoResponses for LimitedAttempts {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        shared(&[(
            429,
            "Too many sign-in attempts for this account or from this address; retry after the seconds of the Retry-After header",
        )])
    }
}

/// Routes that read a JSON body.
pub struct JsonBodyErrors;

impl IntoResponses for JsonBodyErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        shared(&[(413, "The body is too large"), (415, "The body is not JSON")])
    }
}

/// An error answered over HTTP.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    errors: Vec<String>,
    code: String,
    /// Whole seconds for a `Retry-After` header.
    retry_after: Option<u64>,
}

impl ApiError {
    /// A request that could not be read: bad JSON, a wrong type, a missing or oversized body.
    fn unreadable(status: StatusCode, detail: String) -> Self {
        let status = match status {
            // A body of the wrong shape is invalid input, as the contract's validation errors are.
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            status if status.is_client_error() => status,
            _ => StatusCode::BAD_REQUEST,
        };
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
            _ => "INVALID_ARGUMENT",
        };
        Self {
            status,
            errors: vec![detail],
            code: code.into(),
            retry_after: None,
        }
    }

    /// A request refused before routing, as invalid input.
    pub(super) fn bad_request(detail: &str) -> Self {
        Self::unreadable(StatusCode::BAD_REQUEST, detail.to_owned())
    }

    /// No route or no such method at this path.
    pub(super) fn no_route(status: StatusCode) -> Self {
        let code = if status == StatusCode::METHOD_NOT_ALLOWED {
            "METHOD_NOT_ALLOWED"
        } else {
            "NOT_FOUND"
        };
        Self {
            status,
            errors: vec![status.canonical_reason().unwrap_or("not found").to_lowercase()],
            code: code.into(),
            retry_after: None,
        }
    }
}

/// camelCase of a snake_case field name, as the REST contract spells fields. A leading
/// underscore stays: the contract's query parameters (`_limit`) start with one.
fn camel(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        match c {
            '_' if !out.is_empty() && !out.ends_with('_') => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let class = error.class();
        let errors = match &error {
            Error::InvalidArgument(violations) => violations
                .iter()
                .map(|v| format!("{}: {}", camel(&v.field), v.description))
                .collect(),
            Error::Internal(cause) => {
                let trace_id = trace_id();
                tracing::error!(error = format!("{cause:#}"), trace_id, "internal error");
                vec![format!("internal error; trace id {trace_id}")]
            }
            other => vec![other.to_string()],
        };
        Self {
            status: StatusCode::from_u16(class.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            errors,
            code: error.reason(),
            // Rounded up: a caller that waits the whole seconds told is not refused again.
            retry_after: error
                .retry_after()
                .map(|wait| wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
                .map(|secs| secs.max(1)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            errors: self.errors,
            error_code: self.code,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// A JSON request body; unreadable bodies are answered with the contract's error body.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    ApiError::unreadable(rejection.status(), rejection.body_text())
}

/// Query parameters; unreadable ones are answered with the contract's error body.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::unreadable(rejection.status(), rejection.body_text())),
        }
    }
}

/// Path parameters; unreadable ones (bad percent-encoding, say) are answered with the
/// contract's error body.
pub struct PathParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::unreadable(rejection.status(), rejection.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::error::FieldViolation;

    #[test]
    fn field_names_are_spelled_in_camel_case() {
        assert_eq!(camel("user_id"), "userId");
        assert_eq!(camel("last_terms_check"), "lastTermsCheck");
        assert_eq!(camel("email"), "email");
        assert_eq!(camel("_limit"), "_limit");
        assert_eq!(camel("_sort_by"), "_sortBy");
    }

    #[test]
    fn invalid_input_is_a_400_naming_the_field() {
        let error = ApiError::from(Error::InvalidArgument(vec![FieldViolation::new(
            "user_id",
            "is required",
        )]));
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.code, "INVALID_ARGUMENT");
        assert_eq!(error.errors, vec!["userId: is required".to_owned()]);
    }

    #[test]
    fn unreadable_bodies_are_client_errors() {
        assert_eq!(
            ApiError::unreadable(StatusCode::UNPROCESSABLE_ENTITY, "x".into()).status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            ApiError::unreadable(StatusCode::PAYLOAD_TOO_LARGE, "x".into()).code,
            "PAYLOAD_TOO_LARGE"
        );
        assert_eq!(
            ApiError::unreadable(StatusCode::INTERNAL_SERVER_ERROR, "x".into()).status,
            StatusCode::BAD_REQUEST
        );
    }
}

//! The signed-in user's own profile and tenants, which Frontegg's frontend SDKs load right after
//! a sign-in (identity.yml, "User Management"), authenticated by the user's access token.

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Gateway,
    error::{ApiError, ErrorBody, JsonBody, JsonBodyErrors, UserCaller},
    params::{USER_HEADER, header},
    sign_in::PublicEnvironment,
    tenants::TenantJson,
    users::{UpdateUserRequest, UserJson},
};
use crate::{
    domain::{
        Error,
        error::AuthFailure,
        page::{MAX_LIMIT, PageRequest},
        scope::Scope,
        tenant::{Tenant, TenantFilter},
    },
    service::tokens::AccessClaims,
    transport::headers::bearer,
};

/// The signed-in user of a request, by its bearer access token, in the environment of the request.
pub struct CallingUser {
    environment: Scope,
    claims: AccessClaims,
}

impl FromRequestParts<Gateway> for CallingUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, gateway: &Gateway) -> Result<Self, Self::Rejection> {
        let PublicEnvironment(environment) = PublicEnvironment::from_request_parts(parts, gateway).await?;
        let token = bearer(&parts.headers).ok_or(Error::Unauthenticated(AuthFailure::MissingToken))?;
        let claims = gateway
            .services
            .tokens
            .validate(environment.environment_id(), token)
            .await?;
        // The contract's gateway fills this header from the token; one that names someone else
        // is a request for another user's data, which a user token does not grant.
        if header(&parts.headers, USER_HEADER)?.is_some_and(|user_id| user_id != claims.sub) {
            return Err(Error::PermissionDenied {
                reason: "USER_MISMATCH",
                message: "the frontegg-user-id header names another user than the token",
            }
            .into());
        }
        let environment = environment.in_tenant(claims.tenant_id.clone());
        Ok(Self { environment, claims })
    }
}

async fn profile(gateway: Gateway, caller: CallingUser) -> Result<Response, ApiError> {
    let user = gateway
        .services
        .users
        .get(&caller.environment, &caller.claims.sub)
        .await?;
    Ok(Json(UserJson::new(user, Some(&caller.claims.tenant_id))).into_response())
}

/// `GET /identity/resources/users/v2/me`, and v3.
#[utoipa::path(
    get,
    path = "/identity/resources/users/v2/me",
    tag = "User Management",
    operation_id = "UsersControllerV2_getUserProfile",
    summary = "The signed-in user's profile, in the tenant of its session",
    security(("userToken" = [])),
    responses(
        UserCaller,
        (status = 200, description = "The user", body = UserJson),
        (status = 404, description = "The user no longer exists", body = ErrorBody),
    )
)]
pub async fn get_me(State(gateway): State<Gateway>, caller: CallingUser) -> Result<Response, ApiError> {
    profile(gateway, caller).await
}

/// `PUT /identity/resources/users/v2/me`.
#[utoipa::path(
    put,
    path = "/identity/resources/users/v2/me",
    tag = "User Management",
    operation_id = "UsersControllerV2_updateUserProfile",
    summary = "Update the signed-in user's profile; only the fields given change",
    security(("userToken" = [])),
    request_body = UpdateUserRequest,
    responses(
        UserCaller, JsonBodyErrors,
        (status = 200, description = "The updated user", body = UserJson),
        (status = 400, description = "A field or the frontegg-user-id header is invalid", body = ErrorBody),
        (status = 404, description = "The user no longer exists", body = ErrorBody),
    )
)]
pub async fn update_me(
    State(gateway): State<Gateway>,
    caller: CallingUser,
    JsonBody(body): JsonBody<UpdateUserRequest>,
) -> Result<Response, ApiError> {
    let user = gateway
        .services
        .users
        .update(&caller.environment, &caller.claims.sub, body.into())
        .await?;
    Ok(Json(UserJson::new(user, Some(&caller.claims.tenant_id))).into_response())
}

/// Every tenant of the calling user, oldest first.
async fn my_tenants(gateway: &Gateway, caller: &CallingUser) -> Result<Vec<Tenant>, Error> {
    let environment_id = &caller.environment;
    let user = gateway
        .services
        .users
        .get(environment_id, &caller.claims.sub)
        .await?;
    let tenant_ids: Vec<String> = user.tenants.into_iter().map(|m| m.tenant_id).collect();
    let mut tenants = Vec::with_capacity(tenant_ids.len());
    for chunk in tenant_ids.chunks(MAX_LIMIT as usize) {
        let filter = TenantFilter {
            tenant_ids: chunk.to_vec(),
            ..Default::default()
        };
        let page = PageRequest {
            limit: MAX_LIMIT,
            offset: 0,
        };
        tenants.extend(
            gateway
                .services
                .tenants
                .list(environment_id, filter, page)
                .await?
                .items,
        );
    }
    Ok(tenants)
}

/// `GetUserTenantsResponseDto`: the user's tenants and the one its session is in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUserTenantsJson {
    /// Every tenant of the user.
    tenants: Vec<TenantJson>,
    /// The tenant of the session; null if the user has left it.
    active_tenant: Option<TenantJson>,
}

async fn tenants_and_active(gateway: Gateway, caller: CallingUser) -> Result<Response, ApiError> {
    let environment_id = caller.environment.environment_id().to_owned();
    let tenants = my_tenants(&gateway, &caller).await?;
    let active_tenant = tenants
        .iter()
        .find(|t| t.tenant_id == caller.claims.tenant_id)
        .cloned()
        .map(|t| TenantJson::new(t, &environment_id));
    let tenants = tenants
        .into_iter()
        .map(|t| TenantJson::new(t, &environment_id))
        .collect();
    Ok(Json(CurrentUserTenantsJson {
        tenants,
        active_tenant,
    })
    .into_response())
}

/// `GET /identity/resources/users/v1/me/tenants`, and v3 (not in the contract, but what
/// Frontegg's frontend SDK loads after a sign-in by default).
#[utoipa::path(
    get,
    path = "/identity/resources/users/v1/me/tenants",
    tag = "User Management",
    operation_id = "UsersControllerV1_getUserTenants",
    summary = "The signed-in user's tenants and the one its session is in",
    security(("userToken" = [])),
    responses(
        UserCaller,
        (status = 200, description = "The tenants", body = CurrentUserTenantsJson),
        (status = 404, description = "The user no longer exists", body = ErrorBody),
    )
)]
pub async fn my_tenants_and_active(
    State(gateway): State<Gateway>,
    caller: CallingUser,
) -> Result<Response, ApiError> {
    tenants_and_active(gateway, caller).await
}

/// `GET /identity/resources/users/v2/me/tenants`: the user's tenants as a plain array (each
/// carries the contract's `tenantId` and `name`, and the rest of the tenant).
#[utoipa::path(
    get,
    path = "/identity/resources/users/v2/me/tenants",
    tag = "User Management",
    operation_id = "UsersControllerV2_getUserTenants",
    summary = "The signed-in user's tenants",
    security(("userToken" = [])),
    params(("frontegg-user-id" = Option<String>, Header, description = "The user; taken from the token when absent")),
    responses(
        UserCaller,
        (status = 200, description = "The tenants", body = Vec<TenantJson>),
        (status = 404, description = "The user no longer exists", body = ErrorBody),
    )
)]
pub async fn my_tenants_v2(
    State(gateway): State<Gateway>,
    caller: CallingUser,
) -> Result<Response, ApiError> {
    let environment_id = caller.environment.environment_id().to_owned();
    let tenants: Vec<TenantJson> = my_tenants(&gateway, &caller)
        .await?
        .into_iter()
        .map(|t| TenantJson::new(t, &environment_id))
        .collect();
    Ok(Json(tenants).into_response())
}

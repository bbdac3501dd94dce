//! The signed-in user's own profile and tenants, which Frontegg's frontend SDKs load right after
//! a sign-in (identity.yml, "User Management"), authenticated by the user's access token.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Gateway,
    error::{ApiError, ErrorBody, JsonBody, JsonBodyErrors, UserCaller},
    permissions::PermissionJson,
    roles::RoleJson,
    sign_in::CallingUser,
    tenants::TenantJson,
    users::{ActiveTenantRequest, UpdateUserRequest, UserJson, user_json},
};
use crate::{
    domain::{Error, tenant::Tenant},
    transport::policy::SignedIn,
};

async fn profile(gateway: Gateway, CallingUser(me): CallingUser) -> Result<Response, ApiError> {
    let user = gateway.services.users.get(&me.scope, &me.claims.sub).await?;
    Ok(Json(user_json(&gateway, &me.scope, user, Some(&me.claims.tenant_id)).await?).into_response())
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
    CallingUser(me): CallingUser,
    JsonBody(body): JsonBody<UpdateUserRequest>,
) -> Result<Response, ApiError> {
    let user = gateway
        .services
        .users
        .update(&me.scope, &me.claims.sub, body.into())
        .await?;
    Ok(Json(user_json(&gateway, &me.scope, user, Some(&me.claims.tenant_id)).await?).into_response())
}

/// Every tenant of the calling user, oldest first.
async fn my_tenants(gateway: &Gateway, me: &SignedIn) -> Result<Vec<Tenant>, Error> {
    let user = gateway.services.users.get(&me.scope, &me.claims.sub).await?;
    gateway.services.tenants.of_user(&me.scope, &user).await
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

async fn tenants_and_active(gateway: Gateway, CallingUser(me): CallingUser) -> Result<Response, ApiError> {
    let environment_id = me.scope.environment_id().to_owned();
    let tenants = my_tenants(&gateway, &me).await?;
    let active_tenant = tenants
        .iter()
        .find(|t| t.tenant_id == me.claims.tenant_id)
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
    CallingUser(me): CallingUser,
) -> Result<Response, ApiError> {
    let environment_id = me.scope.environment_id().to_owned();
    let tenants: Vec<TenantJson> = my_tenants(&gateway, &me)
        .await?
        .into_iter()
        .map(|t| TenantJson::new(t, &environment_id))
        .collect();
    Ok(Json(tenants).into_response())
}

/// The contract's `MeAuthorizationResponseDto`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeAuthorizationJson {
    /// The user's roles in the tenant of its session.
    roles: Vec<RoleJson>,
    /// The permissions they grant.
    permissions: Vec<PermissionJson>,
}

/// `GET /identity/resources/users/v1/me/authorization`.
#[utoipa::path(
    get,
    path = "/identity/resources/users/v1/me/authorization",
    tag = "User Management",
    operation_id = "UsersControllerV1_getMeAuthorization",
    summary = "The signed-in user's roles and permissions in the tenant of its session, as they are now",
    security(("userToken" = [])),
    responses(
        UserCaller,
        (status = 200, description = "The roles and permissions", body = MeAuthorizationJson),
        (status = 404, description = "The user is no longer a member of the tenant", body = ErrorBody),
    )
)]
pub async fn my_authorization(
    State(gateway): State<Gateway>,
    CallingUser(me): CallingUser,
) -> Result<Response, ApiError> {
    let (roles, permissions) = gateway
        .services
        .roles
        .authorization(&me.scope, &me.claims.sub, &me.claims.tenant_id)
        .await?;
    let vendor = me.scope.environment_id();
    Ok(Json(MeAuthorizationJson {
        roles: roles.into_iter().map(|r| RoleJson::new(r, vendor)).collect(),
        permissions: permissions.into_iter().map(PermissionJson::from).collect(),
    })
    .into_response())
}

/// `PUT /identity/resources/users/v1/tenant`: what Frontegg's SDK calls to switch tenants, before
/// it refreshes.
#[utoipa::path(
    put,
    path = "/identity/resources/users/v1/tenant",
    tag = "User Management",
    operation_id = "UsersControllerV1_updateUserTenant",
    summary = "Move the signed-in user's session to another of its tenants; its next refresh is there",
    security(("userToken" = [])),
    request_body = ActiveTenantRequest,
    responses(
        UserCaller, JsonBodyErrors,
        (status = 200, description = "The user in its new tenant", body = UserJson),
        (status = 400, description = "The tenant id is missing or invalid", body = ErrorBody),
        (status = 404, description = "The user is not a member of the tenant", body = ErrorBody),
    )
)]
pub async fn switch_tenant(
    State(gateway): State<Gateway>,
    CallingUser(me): CallingUser,
    JsonBody(body): JsonBody<ActiveTenantRequest>,
) -> Result<Response, ApiError> {
    let user = gateway
        .services
        .users
        .set_active_tenant(&me.scope, &me.claims.sub, &body.tenant_id, Some(&me.claims.sid))
        .await?;
    Ok(Json(user_json(&gateway, &me.scope, user, Some(&body.tenant_id)).await?).into_response())
}

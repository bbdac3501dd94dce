//! Roles at the contract's paths (identity.yml "Roles"), for environments and for tenant admins
//! (a user token with the route's permission, acting in the tenant of its session).

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    Gateway,
    error::{
        ApiError, EnvironmentCaller, EnvironmentOrUserCaller, ErrorBody, JsonBody, JsonBodyErrors, PathParams,
    },
    params::{PageLinks, PageMetadata, Params, TENANT_HEADER, page_parts},
    sign_in::{Acting, CallingEnvironment},
    tenants::time,
};
use crate::domain::{
    Error,
    page::Order,
    role::{CreateRole, CreateRoleFrom, MemberRoles, Role, RoleFilter, UpdateRole},
};

/// The contract's `RoleResponse`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleJson {
    id: String,
    /// The environment's id.
    vendor_id: String,
    /// The tenant whose own role this is; null for a role of the whole environment.
    tenant_id: Option<String>,
    key: String,
    name: String,
    description: Option<String>,
    is_default: bool,
    first_user_role: bool,
    migrate_role: bool,
    /// Lower is stronger.
    level: i32,
    created_at: String,
    updated_at: String,
    /// The ids of its permissions.
    permissions: Vec<String>,
}

impl RoleJson {
    /// The contract's view of `role` of environment `vendor_id`.
    pub fn new(role: Role, vendor_id: &str) -> Self {
        Self {
            id: role.id,
            vendor_id: vendor_id.to_owned(),
            tenant_id: role.tenant_id,
            key: role.key,
            name: role.name,
            description: role.description,
            is_default: role.is_default,
            first_user_role: role.first_user_role,
            migrate_role: role.migrate_role,
            level: role.level,
            created_at: time(role.created_at),
            updated_at: time(role.updated_at),
            permissions: role.permission_ids,
        }
    }
}

fn roles_json(roles: Vec<Role>, vendor_id: &str) -> Vec<RoleJson> {
    roles.into_iter().map(|r| RoleJson::new(r, vendor_id)).collect()
}

/// The contract's `AddRoleRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddRoleRequest {
    key: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// Given to each new member that is given no roles.
    #[serde(default)]
    is_default: bool,
    /// With `isDefault`: given to every existing member now.
    #[serde(default)]
    migrate_role: bool,
    /// Given to the first member of a tenant.
    #[serde(default)]
    first_user_role: bool,
    /// 0 to 32767; lower is stronger.
    #[serde(default)]
    level: i64,
}

/// The contract's `UpdateRoleRequest`: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRoleRequest {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    level: Option<i64>,
    #[serde(default)]
    is_default: Option<bool>,
    #[serde(default)]
    first_user_role: Option<bool>,
    #[serde(default)]
    migrate_role: Option<bool>,
}

/// The contract's `AddPermissionToRoleRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionIdsRequest {
    /// The role's permissions from now on.
    permission_ids: Vec<String>,
}

/// The contract's `UpdateRoleTenantRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleTenantRequest {
    /// The tenant; null makes it a role of the whole environment.
    tenant_id: Option<String>,
}

/// A role in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct RolePath {
    /// The role's id.
    role_id: String,
}

/// `GET /identity/resources/roles/v1`.
#[utoipa::path(
    get,
    path = "/identity/resources/roles/v1",
    tag = "Roles",
    operation_id = "PermissionsControllerV1_getAllRoles",
    summary = "The environment's roles and, in a tenant, the tenant's own",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.roles"])),
    params(("frontegg-tenant-id" = Option<String>, Header, description = "For an environment: also list this tenant's own roles")),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "The roles", body = Vec<RoleJson>),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn list_roles(State(gateway): State<Gateway>, acting: Acting) -> Result<Response, ApiError> {
    let roles = gateway
        .services
        .roles
        .list(&acting.scope, acting.tenant.as_deref())
        .await?;
    Ok(Json(roles_json(roles, acting.scope.environment_id())).into_response())
}

/// `POST /identity/resources/roles/v1`.
#[utoipa::path(
    post,
    path = "/identity/resources/roles/v1",
    tag = "Roles",
    operation_id = "PermissionsControllerV1_addRoles",
    summary = "Create roles, all or none; in a tenant, as its own roles",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.roles"])),
    params(("frontegg-tenant-id" = Option<String>, Header, description = "For an environment: create the tenant's own roles")),
    request_body = Vec<AddRoleRequest>,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 201, description = "The created roles", body = Vec<RoleJson>),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 409, description = "A key is taken", body = ErrorBody),
    )
)]
pub async fn create_roles(
    State(gateway): State<Gateway>,
    acting: Acting,
    JsonBody(body): JsonBody<Vec<AddRoleRequest>>,
) -> Result<Response, ApiError> {
    let requests = body
        .into_iter()
        .map(|r| CreateRole {
            key: r.key,
            name: r.name,
            description: r.description.unwrap_or_default(),
            level: r.level,
            is_default: r.is_default,
            first_user_role: r.first_user_role,
            migrate_role: r.migrate_role,
        })
        .collect();
    let roles = gateway
        .services
        .roles
        .create(&acting.scope, acting.tenant.as_deref(), requests)
        .await?;
    let created = roles_json(roles, acting.scope.environment_id());
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `PATCH /identity/resources/roles/v1/{roleId}`.
#[utoipa::path(
    patch,
    path = "/identity/resources/roles/v1/{roleId}",
    tag = "Roles",
    operation_id = "PermissionsControllerV1_updateRole",
    summary = "Change a role; only the fields given change",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.roles"])),
    params(RolePath),
    request_body = UpdateRoleRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 200, description = "The changed role", body = RoleJson),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 404, description = "No such role (for a user: of its tenant)", body = ErrorBody),
        (status = 409, description = "The key is taken", body = ErrorBody),
    )
)]
pub async fn update_role(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<RolePath>,
    JsonBody(body): JsonBody<UpdateRoleRequest>,
) -> Result<Response, ApiError> {
    let update = UpdateRole {
        key: body.key,
        name: body.name,
        description: body.description,
        level: body.level,
        is_default: body.is_default,
        first_user_role: body.first_user_role,
        migrate_role: body.migrate_role,
    };
    let role = gateway
        .services
        .roles
        .update(&acting.scope, &path.role_id, update)
        .await?;
    Ok(Json(RoleJson::new(role, acting.scope.environment_id())).into_response())
}

/// `DELETE /identity/resources/roles/v1/{roleId}`.
#[utoipa::path(
    delete,
    path = "/identity/resources/roles/v1/{roleId}",
    tag = "Roles",
    operation_id = "PermissionsControllerV1_deleteRole",
    summary = "Delete a role and every assignment of it",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.delete.role"])),
    params(RolePath),
    responses(
        EnvironmentOrUserCaller,
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such role (for a user: of its tenant)", body = ErrorBody),
    )
)]
pub async fn delete_role(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<RolePath>,
) -> Result<Response, ApiError> {
    gateway
        .services
        .roles
        .delete(&acting.scope, &path.role_id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /identity/resources/roles/v1/{roleId}/permissions`.
#[utoipa::path(
    put,
    path = "/identity/resources/roles/v1/{roleId}/permissions",
    tag = "Roles",
    operation_id = "PermissionsControllerV1_setPermissionsToRole",
    summary = "Replace the permissions of a role",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.roles"])),
    params(RolePath),
    request_body = PermissionIdsRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 200, description = "The changed role", body = RoleJson),
        (status = 400, description = "Unknown permission ids, named", body = ErrorBody),
        (status = 404, description = "No such role (for a user: of its tenant)", body = ErrorBody),
    )
)]
pub async fn set_role_permissions(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<RolePath>,
    JsonBody(body): JsonBody<PermissionIdsRequest>,
) -> Result<Response, ApiError> {
    let role = gateway
        .services
        .roles
        .set_permissions(&acting.scope, &path.role_id, body.permission_ids)
        .await?;
    Ok(Json(RoleJson::new(role, acting.scope.environment_id())).into_response())
}

/// `PUT /identity/resources/roles/v1/{roleId}/tenant`.
#[utoipa::path(
    put,
    path = "/identity/resources/roles/v1/{roleId}/tenant",
    tag = "Roles",
    operation_id = "PermissionsControllerV1_updateRoleTenant",
    summary = "Make a role a tenant's own, or the environment's",
    security(("environmentToken" = [])),
    params(RolePath),
    request_body = RoleTenantRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The changed role", body = RoleJson),
        (status = 404, description = "No such role or tenant", body = ErrorBody),
    )
)]
pub async fn set_role_tenant(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<RolePath>,
    JsonBody(body): JsonBody<RoleTenantRequest>,
) -> Result<Response, ApiError> {
    let tenant = body.tenant_id.filter(|t| !t.is_empty());
    let role = gateway
        .services
        .roles
        .set_tenant(&acting.scope, &path.role_id, tenant.as_deref())
        .await?;
    Ok(Json(RoleJson::new(role, acting.scope.environment_id())).into_response())
}

/// Query of `GET /identity/resources/roles/v2`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RoleListQuery {
    /// Page size: 50 when absent or 0, at most 200.
    #[param(rename = "_limit", minimum = 0, maximum = 200)]
    limit: Option<i64>,
    /// Page number, 0 for the first page.
    #[param(rename = "_offset", minimum = 0)]
    offset: Option<i64>,
    /// `createdAt` (the default), `updatedAt`, `key`, `name`, `description`, `isDefault`,
    /// `firstUserRole`, `level`, `permissions`, `userTenants` or `groups`.
    #[param(rename = "_sortBy")]
    sort_by: Option<String>,
    /// `ASC` or `DESC`.
    #[param(rename = "_order")]
    order: Option<String>,
    /// Words the key, name or description must hold, ignoring case.
    #[param(rename = "_filter")]
    filter: Option<String>,
    /// Only roles of these levels (repeated, or joined with commas).
    #[param(rename = "_levels")]
    levels: Option<Vec<i64>>,
    /// Only the own roles of these tenants (an environment's listing only).
    #[param(rename = "_tenantIds")]
    tenant_ids: Option<Vec<String>>,
}

/// A page of roles.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolePage {
    /// The roles on this page.
    items: Vec<RoleJson>,
    /// Totals across all pages.
    #[serde(rename = "_metadata")]
    metadata: PageMetadata,
    /// Neighbouring pages.
    #[serde(rename = "_links")]
    links: PageLinks,
}

/// `GET /identity/resources/roles/v2`.
#[utoipa::path(
    get,
    path = "/identity/resources/roles/v2",
    tag = "Account Roles",
    operation_id = "PermissionsControllerV2_getAllRoles",
    summary = "A page of roles, filtered and sorted",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.roles"])),
    params(
        RoleListQuery,
        ("frontegg-tenant-id" = Option<String>, Header, description = "For an environment: list this tenant's own roles too"),
    ),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "A page of roles", body = RolePage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
    )
)]
pub async fn list_roles_paged(
    State(gateway): State<Gateway>,
    acting: Acting,
    params: Params,
) -> Result<Response, ApiError> {
    let page = params.page()?;
    let levels = params
        .list("_levels")?
        .into_iter()
        .map(|level| {
            level
                .parse::<i64>()
                .map_err(|_| Error::invalid("_levels", "must be whole numbers"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let order = match params.order()? {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    };
    let filter = RoleFilter::parse(
        &params.text("_filter")?.unwrap_or_default(),
        levels,
        params.list("_tenantIds")?,
        params.one("_sortBy")?.unwrap_or_default(),
        order,
    )
    .map_err(Error::from)?;
    let listed = gateway
        .services
        .roles
        .list_page(&acting.scope, acting.tenant.as_deref(), filter, page)
        .await?;
    let (metadata, links) = page_parts(&listed, page);
    let items = roles_json(listed.items, acting.scope.environment_id());
    Ok(Json(RolePage {
        items,
        metadata,
        links,
    })
    .into_response())
}

/// `GET /identity/resources/roles/v2/distinct-levels`.
#[utoipa::path(
    get,
    path = "/identity/resources/roles/v2/distinct-levels",
    tag = "Account Roles",
    operation_id = "RolesControllerV2_getDistinctLevels",
    summary = "The distinct levels of the roles visible in a tenant, ascending",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.roles"])),
    params(("frontegg-tenant-id" = Option<String>, Header, description = "For an environment: count this tenant's own roles too")),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "The levels", body = Vec<i32>),
    )
)]
pub async fn role_levels(State(gateway): State<Gateway>, acting: Acting) -> Result<Response, ApiError> {
    let levels = gateway
        .services
        .roles
        .distinct_levels(&acting.scope, acting.tenant.as_deref())
        .await?;
    Ok(Json(levels).into_response())
}

/// `GET /identity/resources/roles/v2/distinct-tenants`.
#[utoipa::path(
    get,
    path = "/identity/resources/roles/v2/distinct-tenants",
    tag = "Account Roles",
    operation_id = "RolesControllerV2_getDistinctTenants",
    summary = "The tenants that have roles of their own",
    security(("environmentToken" = [])),
    responses(
        EnvironmentCaller,
        (status = 200, description = "Their ids", body = Vec<String>),
    )
)]
pub async fn role_tenants(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
) -> Result<Response, ApiError> {
    let tenants = gateway.services.roles.distinct_tenants(&environment).await?;
    Ok(Json(tenants).into_response())
}

/// The contract's `AddRoleWithPermissionsRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddRoleWithPermissionsRequest {
    key: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// Given to each new member that is given no roles.
    #[serde(default)]
    is_default: bool,
    /// The role whose level the new one takes.
    base_role_id: String,
    /// The new role's permissions.
    #[serde(default)]
    permission_ids: Vec<String>,
}

/// `POST /identity/resources/roles/v2`.
#[utoipa::path(
    post,
    path = "/identity/resources/roles/v2",
    tag = "Account Roles",
    operation_id = "RolesControllerV2_addRole",
    summary = "Create a role with permissions at the level of a base role",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.roles"])),
    params(("frontegg-tenant-id" = Option<String>, Header, description = "For an environment: create the tenant's own role")),
    request_body = AddRoleWithPermissionsRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 200, description = "The created role", body = RoleJson),
        (status = 400, description = "A field is invalid, or the base role or a permission is unknown", body = ErrorBody),
        (status = 409, description = "The key is taken", body = ErrorBody),
    )
)]
pub async fn create_role_v2(
    State(gateway): State<Gateway>,
    acting: Acting,
    JsonBody(body): JsonBody<AddRoleWithPermissionsRequest>,
) -> Result<Response, ApiError> {
    let create = CreateRoleFrom {
        key: body.key,
        name: body.name,
        description: body.description.unwrap_or_default(),
        is_default: body.is_default,
        base_role_id: body.base_role_id,
        permission_ids: body.permission_ids,
    };
    let role = gateway
        .services
        .roles
        .create_from(&acting.scope, acting.tenant.as_deref(), create)
        .await?;
    Ok(Json(RoleJson::new(role, acting.scope.environment_id())).into_response())
}

/// A user in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user's id.
    user_id: String,
}

/// The contract's `AssignUserToRolesDto` and `UnassignUserFromRolesDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleIdsBody {
    /// The roles' ids.
    role_ids: Vec<String>,
}

/// The roles of one user in one tenant (the contract's `AssignUserToRolesResponseDto`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberRolesJson {
    tenant_id: String,
    user_id: String,
    /// Every role the user holds in the tenant.
    roles: Vec<RoleJson>,
}

impl MemberRolesJson {
    fn new(member: MemberRoles, vendor_id: &str) -> Self {
        Self {
            tenant_id: member.tenant_id,
            user_id: member.user_id,
            roles: roles_json(member.roles, vendor_id),
        }
    }
}

/// The tenant a member's roles are changed in: a user's own; an environment's header, required.
fn member_tenant(acting: &Acting) -> Result<String, Error> {
    acting
        .tenant
        .clone()
        .ok_or_else(|| Error::invalid(TENANT_HEADER, "is required"))
}

/// `POST /identity/resources/users/v1/{userId}/roles`.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/{userId}/roles",
    tag = "User Management",
    operation_id = "UsersControllerV1_addRolesToUser",
    summary = "Give a member of a tenant roles, keeping those it has",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.usersRoles"])),
    params(UserPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    request_body = RoleIdsBody,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 201, description = "The member's roles", body = MemberRolesJson),
        (status = 400, description = "Unknown roles or roles of another tenant, named", body = ErrorBody),
        (status = 404, description = "The user is not a member of the tenant", body = ErrorBody),
    )
)]
pub async fn assign_user_roles(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<UserPath>,
    JsonBody(body): JsonBody<RoleIdsBody>,
) -> Result<Response, ApiError> {
    let tenant = member_tenant(&acting)?;
    let held = gateway
        .services
        .roles
        .assign(&acting.scope, &path.user_id, &tenant, body.role_ids)
        .await?;
    let json = MemberRolesJson::new(held, acting.scope.environment_id());
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// `DELETE /identity/resources/users/v1/{userId}/roles`.
#[utoipa::path(
    delete,
    path = "/identity/resources/users/v1/{userId}/roles",
    tag = "User Management",
    operation_id = "UsersControllerV1_deleteRolesFromUser",
    summary = "Take roles from a member of a tenant",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.delete.usersRoles"])),
    params(UserPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    request_body = RoleIdsBody,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 200, description = "The member's roles", body = MemberRolesJson),
        (status = 404, description = "The user is not a member of the tenant", body = ErrorBody),
    )
)]
pub async fn unassign_user_roles(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<UserPath>,
    JsonBody(body): JsonBody<RoleIdsBody>,
) -> Result<Response, ApiError> {
    let tenant = member_tenant(&acting)?;
    let held = gateway
        .services
        .roles
        .unassign(&acting.scope, &path.user_id, &tenant, body.role_ids)
        .await?;
    Ok(Json(MemberRolesJson::new(held, acting.scope.environment_id())).into_response())
}

/// `GET /identity/resources/users/v3/roles`.
#[utoipa::path(
    get,
    path = "/identity/resources/users/v3/roles",
    tag = "User Management",
    operation_id = "UsersControllerV3_getUsersRoles",
    summary = "The roles in a tenant of each of some users",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.users"])),
    params(
        ("ids" = Vec<String>, Query, description = "The users (repeated, or joined with commas)"),
        ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's"),
    ),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "One entry per member asked for", body = Vec<MemberRolesJson>),
        (status = 400, description = "No tenant, or too many ids", body = ErrorBody),
    )
)]
pub async fn users_roles(
    State(gateway): State<Gateway>,
    acting: Acting,
    params: Params,
) -> Result<Response, ApiError> {
    let tenant = member_tenant(&acting)?;
    let held = gateway
        .services
        .roles
        .of_members(&acting.scope, &tenant, params.list("ids")?)
        .await?;
    let vendor = acting.scope.environment_id();
    let json: Vec<MemberRolesJson> = held
        .into_iter()
        .map(|m| MemberRolesJson::new(m, vendor))
        .collect();
    Ok(Json(json).into_response())
}

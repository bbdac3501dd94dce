//! User groups at the contract's paths (identity.yml "User Groups"), for environments (naming the
//! tenant with `frontegg-tenant-id`) and for tenant admins (a user token with the route's
//! permission, acting in the tenant of its session).

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
    roles::RoleJson,
    sign_in::{Acting, CallingEnvironment},
    tenants::time,
};
use crate::domain::{
    Error,
    group::{
        CreateGroup, Group, GroupOrder, GroupView, GroupsConfiguration, Relations, UpdateGroup, UserGroups,
    },
    metadata,
    page::Order,
};

/// The contract's `GroupUserDto`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupUserJson {
    id: String,
    email: String,
    name: Option<String>,
    profile_picture_url: Option<String>,
    created_at: String,
    /// Whether the user has activated its account.
    activated_for_tenant: bool,
}

/// The contract's `GroupResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupJson {
    id: String,
    name: String,
    color: Option<String>,
    description: Option<String>,
    /// Serialized JSON object.
    metadata: Option<String>,
    /// Its roles, when `_groupsRelations` asks for them.
    roles: Vec<RoleJson>,
    /// Its members, when `_groupsRelations` asks for them.
    users: Vec<GroupUserJson>,
    /// `frontegg`, or `scim2` for a group a directory provisions.
    managed_by: String,
    /// The tenant the group lives in.
    tenant_id: String,
    created_at: String,
    updated_at: String,
}

impl GroupJson {
    fn new(view: GroupView, vendor_id: &str) -> Self {
        let group = view.group;
        Self {
            roles: view
                .roles
                .into_iter()
                .map(|r| RoleJson::new(r, vendor_id))
                .collect(),
            users: view
                .users
                .into_iter()
                .map(|u| GroupUserJson {
                    id: u.id,
                    email: u.email,
                    name: u.name,
                    profile_picture_url: u.profile_picture_url,
                    created_at: time(u.created_at),
                    activated_for_tenant: u.activated,
                })
                .collect(),
            ..Self::bare(group)
        }
    }

    /// `group` without its relations.
    fn bare(group: Group) -> Self {
        Self {
            id: group.id,
            name: group.name,
            color: group.color,
            description: group.description,
            metadata: group.metadata,
            roles: Vec::new(),
            users: Vec::new(),
            managed_by: group.managed_by,
            tenant_id: group.tenant_id,
            created_at: time(group.created_at),
            updated_at: time(group.updated_at),
        }
    }
}

fn groups_json(views: Vec<GroupView>, vendor_id: &str) -> Vec<GroupJson> {
    views.into_iter().map(|v| GroupJson::new(v, vendor_id)).collect()
}

/// The contract's `GroupsResponse`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupsJson {
    groups: Vec<GroupJson>,
}

/// The contract's `CreateGroupDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroupRequest {
    /// Unique in the tenant.
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    color: Option<String>,
    /// A JSON object, serialized.
    #[serde(default, deserialize_with = "metadata::deserialize_text")]
    #[schema(value_type = Option<String>)]
    metadata: Option<String>,
}

/// The contract's `UpdateGroupDto`: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateGroupRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    color: Option<String>,
    /// A JSON object, serialized.
    #[serde(default, deserialize_with = "metadata::deserialize_text")]
    #[schema(value_type = Option<String>)]
    metadata: Option<String>,
}

/// The contract's `GetGroupsDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetGroupsRequest {
    /// The groups' ids.
    groups_ids: Vec<String>,
}

/// The contract's `UpdateRolesOnGroupDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleIdsRequest {
    /// The roles to add or remove.
    role_ids: Vec<String>,
}

/// The contract's `UpdateUsersOnGroupDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserIdsRequest {
    /// The users to add or remove.
    user_ids: Vec<String>,
}

/// The contract's `GetGroupConfigurationResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupsConfigurationJson {
    enabled: bool,
    roles_enabled: bool,
}

impl From<GroupsConfiguration> for GroupsConfigurationJson {
    fn from(configuration: GroupsConfiguration) -> Self {
        Self {
            enabled: configuration.enabled,
            roles_enabled: configuration.roles_enabled,
        }
    }
}

/// The contract's `CreateOrUpdateGroupConfigurationDto`: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupsConfigurationRequest {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    roles_enabled: Option<bool>,
}

/// A group in the path, as `/groups/v1/{id}` names it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupPath {
    /// The group's id.
    id: String,
}

/// A group in the path, as the routes of its roles and users name it.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct GroupIdPath {
    /// The group's id.
    group_id: String,
}

/// The tenant a group request acts in: a user's own; an environment's header, required.
fn group_tenant(acting: &Acting) -> Result<String, Error> {
    acting
        .tenant
        .clone()
        .ok_or_else(|| Error::invalid(TENANT_HEADER, "is required"))
}

/// The relations `_groupsRelations` asks for.
fn relations(params: &Params) -> Result<Relations, Error> {
    Ok(Relations::parse(
        "_groupsRelations",
        params.one("_groupsRelations")?.unwrap_or_default(),
    )?)
}

/// `GET /identity/resources/groups/v1`.
#[utoipa::path(
    get,
    path = "/identity/resources/groups/v1",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_getAllGroups",
    summary = "The groups of a tenant, oldest first",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.groups"])),
    params(
        ("_groupsRelations" = Option<String>, Query, description = "`roles`, `users` or `rolesAndUsers`"),
        ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's"),
    ),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "The groups", body = GroupsJson),
        (status = 400, description = "No tenant, or a bad parameter", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn list_groups(
    State(gateway): State<Gateway>,
    acting: Acting,
    params: Params,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    let listed = gateway
        .services
        .groups
        .list(&acting.scope, &tenant, relations(&params)?)
        .await?;
    let groups = groups_json(listed, acting.scope.environment_id());
    Ok(Json(GroupsJson { groups }).into_response())
}

/// `POST /identity/resources/groups/v1`.
#[utoipa::path(
    post,
    path = "/identity/resources/groups/v1",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_createGroup",
    summary = "Create a group in a tenant",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.groups"])),
    params(("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    request_body = CreateGroupRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 201, description = "The created group", body = GroupJson),
        (status = 400, description = "A field is invalid, or no tenant", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "The name is taken in the tenant", body = ErrorBody),
    )
)]
pub async fn create_group(
    State(gateway): State<Gateway>,
    acting: Acting,
    JsonBody(body): JsonBody<CreateGroupRequest>,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    let create = CreateGroup {
        name: body.name,
        description: body.description.unwrap_or_default(),
        color: body.color.unwrap_or_default(),
        metadata: body.metadata.unwrap_or_default(),
    };
    let view = gateway
        .services
        .groups
        .create(&acting.scope, &tenant, create)
        .await?;
    let json = GroupJson::new(view, acting.scope.environment_id());
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// `POST /identity/resources/groups/v1/bulkGet`.
#[utoipa::path(
    post,
    path = "/identity/resources/groups/v1/bulkGet",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_getGroupsByIds",
    summary = "The groups of a tenant among some ids",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.groups"])),
    params(
        ("_groupsRelations" = Option<String>, Query, description = "`roles`, `users` or `rolesAndUsers`"),
        ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's"),
    ),
    request_body = GetGroupsRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 201, description = "The groups found", body = GroupsJson),
        (status = 400, description = "No tenant, or a bad parameter", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn get_groups_by_ids(
    State(gateway): State<Gateway>,
    acting: Acting,
    params: Params,
    JsonBody(body): JsonBody<GetGroupsRequest>,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    let found = gateway
        .services
        .groups
        .get_many(&acting.scope, &tenant, body.groups_ids, relations(&params)?)
        .await?;
    let groups = groups_json(found, acting.scope.environment_id());
    Ok((StatusCode::CREATED, Json(GroupsJson { groups })).into_response())
}

/// `GET /identity/resources/groups/v1/{id}`.
#[utoipa::path(
    get,
    path = "/identity/resources/groups/v1/{id}",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_getGroupById",
    summary = "One group of a tenant",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.groups"])),
    params(
        GroupPath,
        ("_groupsRelations" = Option<String>, Query, description = "`roles`, `users` or `rolesAndUsers`"),
        ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's"),
    ),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "The group", body = GroupJson),
        (status = 404, description = "No such group in the tenant", body = ErrorBody),
    )
)]
pub async fn get_group(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<GroupPath>,
    params: Params,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    let view = gateway
        .services
        .groups
        .get(&acting.scope, &tenant, &path.id, relations(&params)?)
        .await?;
    Ok(Json(GroupJson::new(view, acting.scope.environment_id())).into_response())
}

/// `PATCH /identity/resources/groups/v1/{id}`.
#[utoipa::path(
    patch,
    path = "/identity/resources/groups/v1/{id}",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_updateGroup",
    summary = "Change a group; only the fields given change",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.groups"])),
    params(GroupPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    request_body = UpdateGroupRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 200, description = "The changed group, with its roles and members", body = GroupJson),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 404, description = "No such group in the tenant", body = ErrorBody),
        (status = 409, description = "The name is taken in the tenant", body = ErrorBody),
    )
)]
pub async fn update_group(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<GroupPath>,
    JsonBody(body): JsonBody<UpdateGroupRequest>,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    let update = UpdateGroup {
        name: body.name,
        description: body.description,
        color: body.color,
        metadata: body.metadata,
    };
    let view = gateway
        .services
        .groups
        .update(&acting.scope, &tenant, &path.id, update)
        .await?;
    Ok(Json(GroupJson::new(view, acting.scope.environment_id())).into_response())
}

/// `DELETE /identity/resources/groups/v1/{id}`.
#[utoipa::path(
    delete,
    path = "/identity/resources/groups/v1/{id}",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_deleteGroup",
    summary = "Delete a group with its members' and roles' links",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.delete.groups"])),
    params(GroupPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "Deleted"),
        (status = 404, description = "No such group in the tenant", body = ErrorBody),
    )
)]
pub async fn delete_group(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<GroupPath>,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    gateway
        .services
        .groups
        .delete(&acting.scope, &tenant, &path.id)
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /identity/resources/groups/v1/{groupId}/roles`.
#[utoipa::path(
    post,
    path = "/identity/resources/groups/v1/{groupId}/roles",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_addRolesToGroup",
    summary = "Give a group roles, keeping those it has",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.groupsRoles"])),
    params(GroupIdPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    request_body = RoleIdsRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 201, description = "Given"),
        (status = 400, description = "Unknown roles or roles of another tenant, named", body = ErrorBody),
        (status = 404, description = "No such group in the tenant", body = ErrorBody),
    )
)]
pub async fn add_roles_to_group(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<GroupIdPath>,
    JsonBody(body): JsonBody<RoleIdsRequest>,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    gateway
        .services
        .groups
        .add_roles(&acting.scope, &tenant, &path.group_id, body.role_ids)
        .await?;
    Ok(StatusCode::CREATED.into_response())
}

/// `DELETE /identity/resources/groups/v1/{groupId}/roles`.
#[utoipa::path(
    delete,
    path = "/identity/resources/groups/v1/{groupId}/roles",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_removeRolesFromGroup",
    summary = "Take roles from a group",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.groupsRoles"])),
    params(GroupIdPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    request_body = RoleIdsRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 200, description = "Taken"),
        (status = 404, description = "No such group in the tenant", body = ErrorBody),
    )
)]
pub async fn remove_roles_from_group(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<GroupIdPath>,
    JsonBody(body): JsonBody<RoleIdsRequest>,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    gateway
        .services
        .groups
        .remove_roles(&acting.scope, &tenant, &path.group_id, body.role_ids)
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /identity/resources/groups/v1/{groupId}/users`.
#[utoipa::path(
    post,
    path = "/identity/resources/groups/v1/{groupId}/users",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_addUsersToGroup",
    summary = "Make members of the group's tenant members of the group",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.write.groupsUsers"])),
    params(GroupIdPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    request_body = UserIdsRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 201, description = "Added"),
        (status = 400, description = "Unknown users or users outside the tenant, named", body = ErrorBody),
        (status = 404, description = "No such group in the tenant", body = ErrorBody),
    )
)]
pub async fn add_users_to_group(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<GroupIdPath>,
    JsonBody(body): JsonBody<UserIdsRequest>,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    gateway
        .services
        .groups
        .add_users(&acting.scope, &tenant, &path.group_id, body.user_ids)
        .await?;
    Ok(StatusCode::CREATED.into_response())
}

/// `DELETE /identity/resources/groups/v1/{groupId}/users`.
#[utoipa::path(
    delete,
    path = "/identity/resources/groups/v1/{groupId}/users",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_removeUsersFromGroup",
    summary = "Take users out of a group",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.delete.groupsUsers"])),
    params(GroupIdPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's")),
    request_body = UserIdsRequest,
    responses(
        EnvironmentOrUserCaller, JsonBodyErrors,
        (status = 200, description = "Taken out"),
        (status = 404, description = "No such group in the tenant", body = ErrorBody),
    )
)]
pub async fn remove_users_from_group(
    State(gateway): State<Gateway>,
    acting: Acting,
    PathParams(path): PathParams<GroupIdPath>,
    JsonBody(body): JsonBody<UserIdsRequest>,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    gateway
        .services
        .groups
        .remove_users(&acting.scope, &tenant, &path.group_id, body.user_ids)
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// A page of groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupPage {
    /// The groups on this page.
    items: Vec<GroupJson>,
    /// Totals across all pages.
    #[serde(rename = "_metadata")]
    metadata: PageMetadata,
    /// Neighbouring pages.
    #[serde(rename = "_links")]
    links: PageLinks,
}

/// Query of `GET /identity/resources/groups/v2`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GroupListQuery {
    /// `roles`, `users` or `rolesAndUsers`.
    #[param(rename = "_groupsRelations")]
    relations: Option<String>,
    /// Page size: 50 when absent or 0, at most 200.
    #[param(rename = "_limit", minimum = 0, maximum = 200)]
    limit: Option<i64>,
    /// Page number, 0 for the first page.
    #[param(rename = "_offset", minimum = 0)]
    offset: Option<i64>,
    /// `createdAt` (the default), `updatedAt`, `id` or `name`.
    #[param(rename = "_sortBy")]
    sort_by: Option<String>,
    /// `ASC` or `DESC`.
    #[param(rename = "_order")]
    order: Option<String>,
}

/// `GET /identity/resources/groups/v2`.
#[utoipa::path(
    get,
    path = "/identity/resources/groups/v2",
    tag = "User Groups",
    operation_id = "GroupsControllerV2_getAllGroupsPaginated",
    summary = "A page of the groups of a tenant, sorted",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.groups"])),
    params(
        GroupListQuery,
        ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's"),
    ),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "A page of groups", body = GroupPage),
        (status = 400, description = "No tenant, or a bad parameter", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn list_groups_paged(
    State(gateway): State<Gateway>,
    acting: Acting,
    params: Params,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    let page = params.page()?;
    let order = match params.order()? {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    };
    let sorted = GroupOrder::parse(params.one("_sortBy")?.unwrap_or_default(), order)
        .map_err(|v| Error::invalid("_sortBy", v.description))?;
    let listed = gateway
        .services
        .groups
        .list_page(&acting.scope, &tenant, relations(&params)?, sorted, page)
        .await?;
    let (metadata, links) = page_parts(&listed, page);
    let items = groups_json(listed.items, acting.scope.environment_id());
    Ok(Json(GroupPage {
        items,
        metadata,
        links,
    })
    .into_response())
}

/// The groups of one user in a tenant, as Frontegg's client (`@frontegg/rest-api`
/// `getUsersGroups`) reads them (the contract leaves the shape open).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserGroupsJson {
    /// The environment's id.
    vendor_id: String,
    tenant_id: String,
    user_id: String,
    /// The ids of its groups there, by the groups' names.
    group_ids: Vec<String>,
}

impl UserGroupsJson {
    fn new(member: UserGroups, vendor_id: &str, tenant_id: &str) -> Self {
        Self {
            vendor_id: vendor_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            user_id: member.user_id,
            group_ids: member.groups.into_iter().map(|g| g.id).collect(),
        }
    }
}

/// `GET /identity/resources/users/v3/groups`.
#[utoipa::path(
    get,
    path = "/identity/resources/users/v3/groups",
    tag = "User Management",
    operation_id = "UsersControllerV3_getUsersGroups",
    summary = "The groups in a tenant of each of some users",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.groups"])),
    params(
        ("ids" = Vec<String>, Query, description = "The users (repeated, or joined with commas)"),
        ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant (an environment's calls); a user's is its session's"),
    ),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "One entry per member asked for", body = Vec<UserGroupsJson>),
        (status = 400, description = "No tenant, or too many ids", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn users_groups(
    State(gateway): State<Gateway>,
    acting: Acting,
    params: Params,
) -> Result<Response, ApiError> {
    let tenant = group_tenant(&acting)?;
    let held = gateway
        .services
        .groups
        .of_users(&acting.scope, &tenant, params.list("ids")?)
        .await?;
    let vendor = acting.scope.environment_id();
    let json: Vec<UserGroupsJson> = held
        .into_iter()
        .map(|member| UserGroupsJson::new(member, vendor, &tenant))
        .collect();
    Ok(Json(json).into_response())
}

/// `GET /identity/resources/groups/v1/config`.
#[utoipa::path(
    get,
    path = "/identity/resources/groups/v1/config",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_getGroupsConfiguration",
    summary = "The environment's groups configuration",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.groups"])),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "The configuration", body = GroupsConfigurationJson),
    )
)]
pub async fn groups_configuration(
    State(gateway): State<Gateway>,
    acting: Acting,
) -> Result<Response, ApiError> {
    let configuration = gateway.services.groups.configuration(&acting.scope).await?;
    Ok(Json(GroupsConfigurationJson::from(configuration)).into_response())
}

/// `POST /identity/resources/groups/v1/config`.
#[utoipa::path(
    post,
    path = "/identity/resources/groups/v1/config",
    tag = "User Groups",
    operation_id = "GroupsControllerV1_createOrUpdateGroupsConfiguration",
    summary = "Change the environment's groups configuration; only the fields given change",
    security(("environmentToken" = [])),
    request_body = GroupsConfigurationRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The configuration in force", body = GroupsConfigurationJson),
        (status = 400, description = "A field is invalid", body = ErrorBody),
    )
)]
pub async fn configure_groups(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    JsonBody(body): JsonBody<GroupsConfigurationRequest>,
) -> Result<Response, ApiError> {
    let mut patch = serde_json::Map::new();
    if let Some(enabled) = body.enabled {
        patch.insert("enabled".into(), enabled.into());
    }
    if let Some(roles_enabled) = body.roles_enabled {
        patch.insert("rolesEnabled".into(), roles_enabled.into());
    }
    let configuration = gateway.services.groups.configure(&environment, patch).await?;
    Ok((
        StatusCode::CREATED,
        Json(GroupsConfigurationJson::from(configuration)),
    )
        .into_response())
}

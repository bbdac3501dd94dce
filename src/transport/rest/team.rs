//! A tenant's team at the paths Frontegg's admin portal calls (`@frontegg/rest-api`'s `teams`
//! module; the contract's documents leave them out), for signed-in users acting in the tenant of
//! their session. Skipped for now: `POST members/v1/{id}/resendActivationEmail`, which needs
//! mail delivery.

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
    error::{ApiError, ErrorBody, JsonBody, JsonBodyErrors, PathParams, UserCaller},
    params::Params,
    roles::RoleJson,
    sign_in::CallingUser,
    tenants::time,
};
use crate::{
    domain::{
        Error,
        page::{DEFAULT_LIMIT, Order, PageRequest},
        role::Role,
        user::UserSort,
    },
    service::team::{Member, MemberQuery},
};

/// A member as the admin portal reads it (`ITeamUser`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamUserJson {
    /// The user's id.
    id: String,
    /// Email address.
    email: String,
    /// Display name; empty when unset.
    name: String,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    /// Profile picture URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_image_url: Option<String>,
    /// The tenant the answer is about: the caller's.
    tenant_id: String,
    /// The environment's id.
    vendor_id: String,
    /// The ids of its roles in the tenant.
    role_ids: Vec<String>,
    /// Its roles in the tenant.
    roles: Vec<RoleJson>,
    /// Whether the user has activated the account.
    activated_for_tenant: bool,
    /// Whether the email is verified.
    verified: bool,
    /// Whether a second factor is enrolled (none can be yet).
    mfa_enabled: bool,
    /// Whether the user is locked out.
    is_locked: bool,
    /// Metadata: a JSON object, serialized.
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_data: Option<String>,
    /// Creation time.
    created_at: String,
    /// Last sign-in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_login: Option<String>,
}

impl TeamUserJson {
    fn new(member: Member, tenant_id: &str, vendor_id: &str) -> Self {
        let user = member.user;
        let p = user.profile;
        Self {
            id: user.id,
            email: user.email,
            name: p.name.unwrap_or_default(),
            phone: p.phone_number,
            profile_image_url: p.profile_picture_url,
            tenant_id: tenant_id.to_owned(),
            vendor_id: vendor_id.to_owned(),
            role_ids: member.roles.iter().map(|r| r.id.clone()).collect(),
            roles: member
                .roles
                .into_iter()
                .map(|r| RoleJson::new(r, vendor_id))
                .collect(),
            activated_for_tenant: user.activated,
            verified: user.verified,
            mfa_enabled: false,
            is_locked: user.locked,
            custom_data: p.metadata,
            created_at: time(user.created_at),
            last_login: user.last_login.map(time),
        }
    }
}

/// Query of `GET /team/resources/members/v1`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MembersQuery {
    /// Page size: 50 when absent or 0, at most 200.
    #[param(rename = "pageSize", minimum = 0, maximum = 200)]
    page_size: Option<i64>,
    /// Page number, 0 for the first page.
    #[param(rename = "pageOffset", minimum = 0)]
    page_offset: Option<i64>,
    /// Words that must all appear in a member's email or name, ignoring case.
    #[param(rename = "searchFilter")]
    search_filter: Option<String>,
    /// Field to sort by: `createdAt`, `name`, `email`, `id`, `verified`, `isLocked`,
    /// `provider` or `tenantId`.
    #[param(rename = "sortBy")]
    sort_by: Option<String>,
    /// `asc` or `desc`.
    #[param(rename = "sortDirection")]
    sort_direction: Option<String>,
}

/// A page of the team (`PaginationResult<ITeamUser>`, as the admin portal reads it).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamPage {
    /// The members on this page.
    items: Vec<TeamUserJson>,
    /// Pages of this size.
    total_pages: u64,
    /// Members across all pages.
    total_items: u64,
}

/// `GET /team/resources/members/v1` (`teams.loadUsers`).
#[utoipa::path(
    get,
    path = "/team/resources/members/v1",
    tag = "Team",
    operation_id = "TeamMembersControllerV1_getMembers",
    summary = "The visible members of the signed-in user's tenant, a page at a time, with their roles",
    security(("userToken" = ["fe.secure.read.users"])),
    params(MembersQuery),
    responses(
        UserCaller,
        (status = 200, description = "A page of members", body = TeamPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
    )
)]
pub async fn list_members(
    State(gateway): State<Gateway>,
    CallingUser(me): CallingUser,
    params: Params,
) -> Result<Response, ApiError> {
    let size = match params.integer("pageSize")?.unwrap_or(0) {
        0 => DEFAULT_LIMIT as i64,
        size => size,
    };
    let offset = params
        .integer("pageOffset")?
        .unwrap_or(0)
        .checked_mul(size)
        .filter(|skipped| *skipped >= 0)
        .ok_or_else(|| Error::invalid("pageOffset", "must be a page number from 0"))?;
    let page = PageRequest::parse(size, offset).map_err(|violation| {
        let field = if violation.field == "limit" {
            "pageSize"
        } else {
            "pageOffset"
        };
        Error::invalid(field, violation.description)
    })?;
    let query = MemberQuery {
        search: params.text("searchFilter")?.filter(|s| !s.trim().is_empty()),
        sort: params.sort::<UserSort>("sortBy")?,
        order: Order::parse("sortDirection", params.one("sortDirection")?.unwrap_or_default())
            .map_err(Error::from)?,
    };
    let listed = gateway.services.team.members(&me.scope, query, page).await?;
    let vendor = me.scope.environment_id();
    let tenant = &me.claims.tenant_id;
    Ok(Json(TeamPage {
        total_pages: listed.total_pages,
        total_items: listed.total_items,
        items: listed
            .items
            .into_iter()
            .map(|m| TeamUserJson::new(m, tenant, vendor))
            .collect(),
    })
    .into_response())
}

/// `IUpdateUser`: the member and its roles; the admin portal sends the other fields of the
/// member too, which are ignored (a member's profile is its own).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMemberRequest {
    /// The member's id.
    id: String,
    /// Its roles from now on; blank ids are ignored, so `[""]` takes them all. Absent, the roles
    /// stay as they are.
    #[serde(default)]
    role_ids: Option<Vec<String>>,
}

/// The changed member, as `teams.updateUser` reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedMemberJson {
    /// The member.
    item: TeamUserJson,
}

/// `PUT /team/resources/members/v1` (`teams.updateUser`).
#[utoipa::path(
    put,
    path = "/team/resources/members/v1",
    tag = "Team",
    operation_id = "TeamMembersControllerV1_updateMember",
    summary = "Set the roles of a member of the signed-in user's tenant",
    security(("userToken" = ["fe.secure.write.usersRoles"])),
    request_body = UpdateMemberRequest,
    responses(
        UserCaller, JsonBodyErrors,
        (status = 200, description = "The member with its roles", body = UpdatedMemberJson),
        (status = 400, description = "A role id names no role the tenant sees", body = ErrorBody),
        (status = 404, description = "No such member in the tenant", body = ErrorBody),
    )
)]
pub async fn update_member(
    State(gateway): State<Gateway>,
    CallingUser(me): CallingUser,
    JsonBody(body): JsonBody<UpdateMemberRequest>,
) -> Result<Response, ApiError> {
    let team = &gateway.services.team;
    let member = match body.role_ids {
        Some(role_ids) => team.set_roles(&me.scope, &body.id, role_ids).await?,
        None => team.member(&me.scope, &body.id).await?,
    };
    let item = TeamUserJson::new(member, &me.claims.tenant_id, me.scope.environment_id());
    Ok(Json(UpdatedMemberJson { item }).into_response())
}

/// A member in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberPath {
    /// The member's id.
    id: String,
}

/// `DELETE /team/resources/members/v1/{id}` (`teams.deleteUser`).
#[utoipa::path(
    delete,
    path = "/team/resources/members/v1/{id}",
    tag = "Team",
    operation_id = "TeamMembersControllerV1_deleteMember",
    summary = "Remove a member from the signed-in user's tenant and end its sessions",
    security(("userToken" = ["fe.secure.delete.users"])),
    params(MemberPath),
    responses(
        UserCaller,
        (status = 200, description = "Removed"),
        (status = 404, description = "No such member in the tenant", body = ErrorBody),
    )
)]
pub async fn delete_member(
    State(gateway): State<Gateway>,
    CallingUser(me): CallingUser,
    PathParams(path): PathParams<MemberPath>,
) -> Result<Response, ApiError> {
    gateway.services.team.remove(&me.scope, &path.id).await?;
    Ok(StatusCode::OK.into_response())
}

/// A role as the admin portal reads it (`ITeamUserRole`): the contract's role, with its level
/// also as `permissionLevel`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamRoleJson {
    #[serde(flatten)]
    role: RoleJson,
    /// The role's level: lower is stronger.
    permission_level: i32,
}

impl TeamRoleJson {
    fn new(role: Role, vendor_id: &str) -> Self {
        Self {
            permission_level: role.level,
            role: RoleJson::new(role, vendor_id),
        }
    }
}

/// `GET /team/resources/roles/v1` (`teams.loadAvailableRoles`).
#[utoipa::path(
    get,
    path = "/team/resources/roles/v1",
    tag = "Team",
    operation_id = "TeamRolesControllerV1_getRoles",
    summary = "The roles the signed-in user's tenant sees: the environment's and its own",
    security(("userToken" = ["fe.secure.read.roles"])),
    responses(
        UserCaller,
        (status = 200, description = "The roles", body = Vec<TeamRoleJson>),
    )
)]
pub async fn list_roles(
    State(gateway): State<Gateway>,
    CallingUser(me): CallingUser,
) -> Result<Response, ApiError> {
    let roles = gateway.services.team.roles(&me.scope).await?;
    let vendor = me.scope.environment_id();
    let json: Vec<TeamRoleJson> = roles.into_iter().map(|r| TeamRoleJson::new(r, vendor)).collect();
    Ok(Json(json).into_response())
}

/// `ITeamStats`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamStatsJson {
    /// Visible members.
    total_items: u64,
    /// Visible members who joined in the last seven days.
    added_this_week: u64,
    /// Visible members who are super-users.
    super_admins: u64,
}

/// `GET /team/resources/stats/v1/members` (`teams.loadStats`).
#[utoipa::path(
    get,
    path = "/team/resources/stats/v1/members",
    tag = "Team",
    operation_id = "TeamStatsControllerV1_getMembersStats",
    summary = "The totals of the signed-in user's tenant's members",
    security(("userToken" = ["fe.secure.read.users"])),
    responses(
        UserCaller,
        (status = 200, description = "The totals", body = TeamStatsJson),
    )
)]
pub async fn stats(
    State(gateway): State<Gateway>,
    CallingUser(me): CallingUser,
) -> Result<Response, ApiError> {
    let stats = gateway.services.team.stats(&me.scope).await?;
    Ok(Json(TeamStatsJson {
        total_items: stats.members,
        added_this_week: stats.added_this_week,
        super_admins: stats.super_users,
    })
    .into_response())
}

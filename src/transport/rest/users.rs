//! User management at the contract's paths (identity.yml, "Users" and "User Management"), for
//! callers holding an environment token.

use std::collections::HashMap;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    Gateway,
    error::{ApiError, EnvironmentCaller, ErrorBody, JsonBody, JsonBodyErrors, PathParams},
    params::{
        PageLinks, PageMetadata, Params, TENANT_HEADER, USER_HEADER, header, page_parts, required_header,
    },
    permissions::PermissionJson,
    roles::RoleJson,
    sign_in::CallingEnvironment,
    tenants::time,
};
use crate::domain::{
    Error, Resource, metadata,
    role::Role,
    scope::Scope,
    secret::Secret,
    user::{CreateUser, Phrases, UpdateUser, User, UserCursor, UserFilter, UserSort},
};

/// Metadata as answered when a user has none: an empty object, so that callers can always parse it.
const NO_METADATA: &str = "{}";

/// A user's membership as the contract answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserTenantJson {
    /// The tenant's id.
    tenant_id: String,
    /// The roles the user holds itself in the tenant (not those of its groups).
    roles: Vec<RoleJson>,
}

/// `UserDto` (also `CoreUserDto` and `UserV3Dto`, which share its fields).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserJson {
    /// The user's id.
    id: String,
    /// Email address.
    email: String,
    /// Display name; empty when unset.
    name: String,
    /// Profile picture URL; empty when unset.
    profile_picture_url: String,
    /// Subject of the user's tokens: the id.
    sub: String,
    /// Whether the email is verified.
    verified: bool,
    /// Whether a second factor is enrolled.
    mfa_enrolled: bool,
    /// Whether the user may skip multi-factor authentication.
    mfa_bypass: bool,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<String>,
    /// Roles in the tenant this answer is about.
    roles: Vec<RoleJson>,
    /// Permissions those roles grant there.
    permissions: Vec<PermissionJson>,
    /// How the user signs in.
    provider: String,
    /// The tenant this answer is about: the one asked for, else the user's current tenant.
    tenant_id: String,
    /// Every tenant of the user.
    tenant_ids: Vec<String>,
    /// Whether the user has activated the account.
    activated_for_tenant: bool,
    /// Whether the user is locked out.
    is_locked: bool,
    /// The user's memberships.
    tenants: Vec<UserTenantJson>,
    /// Metadata: a JSON object, serialized.
    metadata: String,
    /// Environment-only metadata: a JSON object, serialized.
    vendor_metadata: String,
    /// Identifier in an external system.
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    /// Creation time.
    created_at: String,
    /// Last sign-in; null if never.
    last_login: Option<String>,
    /// Whether the user may reach sub-tenants (no hierarchy access is granted yet).
    sub_account_access_allowed: bool,
    /// Whether the user is left out of its tenants' member listings.
    invisible: bool,
    /// Whether the user holds every permission in every tenant it is a member of.
    super_user: bool,
}

impl UserJson {
    /// The contract's view of `user`, about tenant `tenant_id` (else its current tenant).
    pub fn new(user: User, tenant_id: Option<&str>) -> Self {
        let p = user.profile;
        let tenant_id = tenant_id
            .map(str::to_owned)
            .or(user.active_tenant_id)
            .unwrap_or_default();
        Self {
            sub: user.id.clone(),
            id: user.id,
            email: user.email,
            name: p.name.unwrap_or_default(),
            profile_picture_url: p.profile_picture_url.unwrap_or_default(),
            verified: user.verified,
            // No second factor can be enrolled yet.
            mfa_enrolled: false,
            mfa_bypass: p.mfa_bypass,
            phone_number: p.phone_number,
            roles: Vec::new(),
            permissions: Vec::new(),
            provider: user.provider,
            tenant_id,
            tenant_ids: user.tenants.iter().map(|m| m.tenant_id.clone()).collect(),
            activated_for_tenant: user.activated,
            is_locked: user.locked,
            tenants: user
                .tenants
                .into_iter()
                .map(|m| UserTenantJson {
                    tenant_id: m.tenant_id,
                    roles: Vec::new(),
                })
                .collect(),
            metadata: p.metadata.unwrap_or_else(|| NO_METADATA.into()),
            vendor_metadata: p.vendor_metadata.unwrap_or_else(|| NO_METADATA.into()),
            external_id: p.external_id,
            created_at: time(user.created_at),
            last_login: user.last_login.map(time),
            sub_account_access_allowed: false,
            invisible: user.invisible,
            super_user: user.super_user,
        }
    }
}

impl UserJson {
    /// The same answer with the user's roles and the permissions they grant, in the tenant the
    /// answer is about.
    fn with_access(mut self, roles: Vec<RoleJson>, permissions: Vec<PermissionJson>) -> Self {
        self.roles = roles;
        self.permissions = permissions;
        self
    }

    /// The same answer with the roles the user holds itself in each of its tenants (`held`, by
    /// tenant id).
    fn with_tenant_roles(mut self, mut held: HashMap<String, Vec<Role>>, vendor: &str) -> Self {
        for membership in &mut self.tenants {
            if let Some(roles) = held.remove(&membership.tenant_id) {
                membership.roles = roles.into_iter().map(|r| RoleJson::new(r, vendor)).collect();
            }
        }
        self
    }
}

/// `user` as the contract answers it about tenant `tenant_id` (else its current tenant), with its
/// roles and permissions there as they are now; none in a tenant it is not a member of.
pub(super) async fn user_json(
    gateway: &Gateway,
    scope: &Scope,
    user: User,
    tenant_id: Option<&str>,
) -> Result<UserJson, Error> {
    let user_id = user.id.clone();
    let vendor = scope.environment_id();
    let held = gateway
        .services
        .roles
        .of_users_everywhere(scope, std::slice::from_ref(&user_id))
        .await?
        .remove(&user_id)
        .unwrap_or_default();
    let json = UserJson::new(user, tenant_id).with_tenant_roles(held, vendor);
    if json.tenant_id.is_empty() {
        return Ok(json);
    }
    match gateway
        .services
        .roles
        .authorization(scope, &user_id, &json.tenant_id)
        .await
    {
        Ok((roles, permissions)) => Ok(json.with_access(
            roles.into_iter().map(|r| RoleJson::new(r, vendor)).collect(),
            permissions.into_iter().map(PermissionJson::from).collect(),
        )),
        Err(Error::NotFound(_)) => Ok(json),
        Err(error) => Err(error),
    }
}

/// `UserCreatedResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserCreatedJson {
    /// The user's id.
    id: String,
    /// Email address.
    email: String,
    /// Whether the email is verified.
    verified: bool,
    /// Display name; empty when unset.
    name: String,
    /// Profile picture URL; empty when unset.
    profile_picture_url: String,
    /// Its roles in the tenant it joined (Frontegg's clients read role objects here, where the
    /// contract's document says keys).
    roles: Vec<RoleJson>,
    /// The permissions they grant there.
    permissions: Vec<PermissionJson>,
    /// Metadata: a JSON object, serialized.
    metadata: String,
    /// Creation time.
    created_at: String,
    /// Last sign-in; null if never.
    last_login: Option<String>,
    /// Whether the user is activated: true when created with a password.
    activated_for_tenant: bool,
}

impl From<User> for UserCreatedJson {
    fn from(user: User) -> Self {
        let p = user.profile;
        Self {
            id: user.id,
            email: user.email,
            verified: user.verified,
            name: p.name.unwrap_or_default(),
            profile_picture_url: p.profile_picture_url.unwrap_or_default(),
            roles: Vec::new(),
            permissions: Vec::new(),
            metadata: p.metadata.unwrap_or_else(|| NO_METADATA.into()),
            created_at: time(user.created_at),
            last_login: user.last_login.map(time),
            activated_for_tenant: user.activated,
        }
    }
}

/// How a user signs in, as the contract lists them; sigil creates `local` users only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Password (or invitation) sign-in.
    Local,
    /// SAML single sign-on.
    Saml,
    /// Google.
    Google,
    /// GitHub.
    Github,
    /// Facebook.
    Facebook,
    /// Microsoft.
    Microsoft,
    /// SCIM provisioning.
    Scim2,
    /// Slack.
    Slack,
    /// Apple.
    Apple,
}

/// `CreateUserDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    /// Email address; required by sigil, which has no usernames yet.
    #[serde(default)]
    email: Option<String>,
    /// Username: not supported yet.
    #[serde(default)]
    username: Option<String>,
    /// Display name.
    #[serde(default)]
    name: Option<String>,
    /// Profile picture URL.
    #[serde(default)]
    #[schema(max_length = 4095)]
    profile_picture_url: Option<String>,
    /// Initial password: the user is activated at once. Without one the user is invited.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    password: Option<Secret>,
    /// Phone number.
    #[serde(default)]
    phone_number: Option<String>,
    /// How the user signs in; only `local` is supported.
    #[serde(default)]
    provider: Option<Provider>,
    /// Metadata: a JSON object, or one serialized in a string.
    #[serde(default, deserialize_with = "metadata::deserialize_text")]
    metadata: Option<String>,
    /// Accepted; sigil sends no invitation email on creation.
    #[serde(default)]
    #[allow(dead_code)]
    skip_invite_email: Option<bool>,
    /// Roles to give in the tenant instead of its default roles: of the environment or of that
    /// tenant; unknown ones are refused, named, and nothing is created.
    #[serde(default)]
    role_ids: Option<Vec<String>>,
    /// Values for the invitation email's template.
    #[serde(default)]
    #[allow(dead_code)]
    #[schema(value_type = Option<Object>)]
    email_metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Temporary users: not supported yet.
    #[serde(default)]
    expiration_in_seconds: Option<f64>,
}

/// `CreateUserDtoVendorOnly`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateVendorUserRequest {
    /// The tenant the user joins; it must exist.
    tenant_id: String,
    /// Email address; required by sigil, which has no usernames yet.
    #[serde(default)]
    email: Option<String>,
    /// Username: not supported yet.
    #[serde(default)]
    username: Option<String>,
    /// Display name.
    #[serde(default)]
    name: Option<String>,
    /// Initial password: the user is activated at once. Without one the user is invited.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    password: Option<Secret>,
    /// Phone number.
    #[serde(default)]
    phone_number: Option<String>,
    /// Metadata: a JSON object, or one serialized in a string.
    #[serde(default, deserialize_with = "metadata::deserialize_text")]
    metadata: Option<String>,
    /// Environment-only metadata: a JSON object, or one serialized in a string.
    #[serde(default, deserialize_with = "metadata::deserialize_text")]
    vendor_metadata: Option<String>,
    /// Roles to give in the tenant instead of its default roles: of the environment or of that
    /// tenant; unknown ones are refused, named, and nothing is created.
    #[serde(default)]
    role_ids: Option<Vec<String>>,
    /// Temporary users: not supported yet.
    #[serde(default)]
    expiration_in_seconds: Option<f64>,
    /// Whether the user may skip multi-factor authentication.
    #[serde(default)]
    mfa_bypass: Option<bool>,
    /// Identifier in an external system.
    #[serde(default)]
    external_id: Option<String>,
}

/// Refuses what sigil cannot create yet, naming the field.
fn refuse_unsupported(
    username: &Option<String>,
    email: &Option<String>,
    expiration: Option<f64>,
) -> Result<(), Error> {
    if username.is_some() && email.is_none() {
        return Err(Error::invalid(
            "username",
            "usernames are not supported yet; send email",
        ));
    }
    if expiration.is_some() {
        return Err(Error::invalid(
            "expiration_in_seconds",
            "temporary users are not supported yet",
        ));
    }
    Ok(())
}

async fn create_in_tenant(
    gateway: Gateway,
    scope: &Scope,
    headers: &HeaderMap,
    body: CreateUserRequest,
) -> Result<Response, ApiError> {
    let tenant_id = required_header(headers, TENANT_HEADER)?;
    refuse_unsupported(&body.username, &body.email, body.expiration_in_seconds)?;
    if body.provider.is_some_and(|p| p != Provider::Local) {
        return Err(Error::invalid("provider", "only local users can be created").into());
    }
    let create = CreateUser {
        tenant_id: tenant_id.to_owned(),
        email: body.email.unwrap_or_default(),
        name: body.name.unwrap_or_default(),
        profile_picture_url: body.profile_picture_url.unwrap_or_default(),
        password: body.password,
        phone_number: body.phone_number.unwrap_or_default(),
        metadata: body.metadata.unwrap_or_default(),
        role_ids: body.role_ids.unwrap_or_default(),
        ..Default::default()
    };
    let user = gateway.services.users.create(scope, create).await?;
    let (roles, permissions) = gateway
        .services
        .roles
        .authorization(scope, &user.id, tenant_id)
        .await?;
    let vendor = scope.environment_id();
    let mut json = UserCreatedJson::from(user);
    json.roles = roles.into_iter().map(|r| RoleJson::new(r, vendor)).collect();
    json.permissions = permissions.into_iter().map(PermissionJson::from).collect();
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// `POST /identity/resources/users/v1`, and v2.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1",
    tag = "User Management",
    operation_id = "UsersControllerV1_createUser",
    summary = "Create a user in the account (tenant) of the frontegg-tenant-id header",
    security(("environmentToken" = [])),
    params(("frontegg-tenant-id" = String, Header, description = "The tenant the user joins")),
    request_body = CreateUserRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The created user", body = UserCreatedJson),
        (status = 400, description = "A field or the tenant header is invalid or missing", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "A user with this email exists", body = ErrorBody),
    )
)]
pub async fn create_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateUserRequest>,
) -> Result<Response, ApiError> {
    create_in_tenant(gateway, &environment, &headers, body).await
}

/// `POST /identity/resources/vendor-only/users/v1`.
#[utoipa::path(
    post,
    path = "/identity/resources/vendor-only/users/v1",
    tag = "Users",
    operation_id = "VendorOnlyUsers_createUser",
    summary = "Create a user, with environment-only fields",
    security(("environmentToken" = [])),
    request_body = CreateVendorUserRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The created user", body = UserJson),
        (status = 400, description = "A field is invalid or missing", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "A user with this email exists", body = ErrorBody),
    )
)]
pub async fn create_vendor_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    JsonBody(body): JsonBody<CreateVendorUserRequest>,
) -> Result<Response, ApiError> {
    refuse_unsupported(&body.username, &body.email, body.expiration_in_seconds)?;
    let create = CreateUser {
        tenant_id: body.tenant_id,
        email: body.email.unwrap_or_default(),
        name: body.name.unwrap_or_default(),
        profile_picture_url: String::new(),
        password: body.password,
        phone_number: body.phone_number.unwrap_or_default(),
        metadata: body.metadata.unwrap_or_default(),
        vendor_metadata: body.vendor_metadata.unwrap_or_default(),
        external_id: body.external_id.unwrap_or_default(),
        mfa_bypass: body.mfa_bypass.unwrap_or_default(),
        role_ids: body.role_ids.unwrap_or_default(),
    };
    let user = gateway.services.users.create(&environment, create).await?;
    let json = user_json(&gateway, &environment, user, None).await?;
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// The user named `{userId}` in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user's id.
    user_id: String,
}

/// `user` if it belongs to `tenant_id`; otherwise it is not found there.
fn in_tenant(user: User, tenant_id: &str) -> Result<User, Error> {
    if user.tenants.iter().any(|m| m.tenant_id == tenant_id) {
        Ok(user)
    } else {
        Err(Error::NotFound(Resource::User))
    }
}

/// `GET /identity/resources/users/v1/{id}`: the contract names the parameter `id` here and `userId`
/// for the other methods of the path; one route (so one name) serves them all.
#[utoipa::path(
    get,
    path = "/identity/resources/users/v1/{userId}",
    tag = "Users",
    operation_id = "UsersControllerV1_getUserById",
    summary = "Get a user of the account (tenant) of the frontegg-tenant-id header",
    security(("environmentToken" = [])),
    params(UserPath, ("frontegg-tenant-id" = String, Header, description = "The tenant the user belongs to")),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The user", body = UserJson),
        (status = 400, description = "The tenant header is missing", body = ErrorBody),
        (status = 404, description = "No such user in the tenant", body = ErrorBody),
    )
)]
pub async fn get_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant_id = required_header(&headers, TENANT_HEADER)?;
    let user = gateway.services.users.get(&environment, &path.user_id).await?;
    let user = in_tenant(user, tenant_id)?;
    Ok(Json(user_json(&gateway, &environment, user, Some(tenant_id)).await?).into_response())
}

/// `GET /identity/resources/vendor-only/users/v1/{userId}`.
#[utoipa::path(
    get,
    path = "/identity/resources/vendor-only/users/v1/{userId}",
    tag = "Users",
    operation_id = "VendorOnlyUsers_getUserById",
    summary = "Get a user, with environment-only fields",
    security(("environmentToken" = [])),
    params(UserPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The user", body = UserJson),
        (status = 400, description = "The id cannot be read", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn get_vendor_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
) -> Result<Response, ApiError> {
    let user = gateway.services.users.get(&environment, &path.user_id).await?;
    Ok(Json(user_json(&gateway, &environment, user, None).await?).into_response())
}

/// Query of `GET /identity/resources/users/v1/email`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct EmailQuery {
    /// The email address, compared without regard to case.
    email: String,
}

/// `GET /identity/resources/users/v1/email`.
#[utoipa::path(
    get,
    path = "/identity/resources/users/v1/email",
    tag = "Users",
    operation_id = "UsersControllerV1_getUserByEmail",
    summary = "Get a user by email",
    security(("environmentToken" = [])),
    params(EmailQuery),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The user", body = UserJson),
        (status = 400, description = "The email is missing or invalid", body = ErrorBody),
        (status = 404, description = "No user has this email", body = ErrorBody),
    )
)]
pub async fn get_user_by_email(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    params: Params,
) -> Result<Response, ApiError> {
    let email = params
        .text("email")?
        .ok_or_else(|| Error::invalid("email", "is required"))?;
    let user = gateway.services.users.get_by_email(&environment, &email).await?;
    Ok(Json(user_json(&gateway, &environment, user, None).await?).into_response())
}

// Documentation only: `Params` reads the parameter.
/// Fields a user listing sorts by.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum UserSortBy {
    /// Creation time.
    CreatedAt,
    /// Display name.
    Name,
    /// Email address.
    Email,
    /// User id.
    Id,
    /// Verified flag.
    Verified,
    /// Locked flag.
    IsLocked,
    /// Sign-in provider.
    Provider,
    /// Current tenant.
    TenantId,
}

/// Query of `GET /identity/resources/users/v3`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UserListQuery {
    /// Page size: 50 when absent or 0, at most 200.
    #[param(rename = "_limit", minimum = 0, maximum = 200)]
    limit: Option<i64>,
    /// Page number, 0 for the first page.
    #[param(rename = "_offset", minimum = 0)]
    offset: Option<i64>,
    /// Keeps users whose email contains this text, ignoring case.
    #[param(rename = "_email")]
    email: Option<String>,
    /// Keeps the members of this tenant (else of the frontegg-tenant-id header's).
    #[param(rename = "_tenantId")]
    tenant_id: Option<String>,
    /// Keeps only these user ids, joined with commas.
    ids: Option<String>,
    /// Field to sort by.
    #[param(rename = "_sortBy", inline)]
    sort_by: Option<UserSortBy>,
    /// Sort direction.
    #[param(rename = "_order", inline)]
    order: Option<super::tenants::SortOrder>,
    /// Where to start, in the default order only: the `_nextCursor` of the page before.
    #[param(rename = "_cursor")]
    cursor: Option<String>,
    /// Accepted for compatibility: sigil has no tenant hierarchy to include.
    #[param(rename = "_includeSubTenants")]
    include_sub_tenants: Option<bool>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    /// The users on this page.
    items: Vec<UserJson>,
    /// Totals across all pages.
    #[serde(rename = "_metadata")]
    metadata: PageMetadata,
    /// Neighbouring pages.
    #[serde(rename = "_links")]
    links: PageLinks,
    /// The `_cursor` of the next page in the default order, when this page is full: reading
    /// from it costs the page, where `_offset` costs every user skipped.
    #[serde(rename = "_nextCursor", skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// `GET /identity/resources/users/v3`, and v1 (where Frontegg's clients, the Rust crate among
/// them, page through users).
#[utoipa::path(
    get,
    path = "/identity/resources/users/v3",
    tag = "User Management",
    operation_id = "UsersControllerV3_getUsers",
    summary = "List users a page at a time",
    security(("environmentToken" = [])),
    params(
        UserListQuery,
        ("frontegg-tenant-id" = Option<String>, Header, description = "Keeps the members of this tenant when `_tenantId` is absent"),
    ),
    responses(
        EnvironmentCaller,
        (status = 200, description = "A page of users", body = UserPage),
        (status = 400, description = "A parameter is invalid or not supported", body = ErrorBody),
    )
)]
pub async fn list_users(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    list(gateway, environment, &headers, &params, Phrases::default()).await
}

/// A page of users matching the listing parameters and `phrases`.
async fn list(
    gateway: Gateway,
    environment: Scope,
    headers: &HeaderMap,
    params: &Params,
    phrases: Phrases,
) -> Result<Response, ApiError> {
    params.refuse(&["_namePrefix", "_identifier", "_identifierType", "_externalIds"])?;
    params.boolean("_includeSubTenants")?;
    let page = params.page()?;
    let tenant_id = match params.text("_tenantId")? {
        Some(tenant_id) => Some(tenant_id),
        None => header(headers, TENANT_HEADER)?.map(str::to_owned),
    };
    let sort: UserSort = params.sort("_sortBy")?;
    let filter = UserFilter {
        tenant_id: tenant_id.clone(),
        email: params.text("_email")?,
        ids: params.list("ids")?,
        phrases,
        sort,
        order: params.order()?,
        after: UserCursor::parse("_cursor", &params.text("_cursor")?.unwrap_or_default(), sort)
            .map_err(Error::from)?,
    };
    let listed = gateway.services.users.list(&environment, filter, page).await?;
    let (metadata, links) = page_parts(&listed, page);
    let next_cursor = listed.next_cursor.clone();
    // The roles of the page's users in each of their tenants, in one read.
    let ids: Vec<String> = listed.items.iter().map(|u| u.id.clone()).collect();
    let mut held = gateway
        .services
        .roles
        .of_users_everywhere(&environment, &ids)
        .await?;
    let vendor = environment.environment_id();
    let items = listed
        .items
        .into_iter()
        .map(|u| {
            let tenants = held.remove(&u.id).unwrap_or_default();
            let json = UserJson::new(u, tenant_id.as_deref());
            let roles = tenants
                .get(&json.tenant_id)
                .into_iter()
                .flatten()
                .map(|r| RoleJson::new(r.clone(), vendor))
                .collect();
            json.with_access(roles, Vec::new())
                .with_tenant_roles(tenants, vendor)
        })
        .collect();
    Ok(Json(UserPage {
        items,
        metadata,
        links,
        next_cursor,
    })
    .into_response())
}

/// Query of `GET /identity/resources/users/v1/query/phrase`, beside the listing's own.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PhraseQuery {
    /// Words (repeated, or joined with commas) that must all appear in the email or name.
    #[param(rename = "_phraseSearchContains")]
    contains: Option<Vec<String>>,
    /// Words that must not appear.
    #[param(rename = "_phraseSearchExcludes")]
    excludes: Option<Vec<String>>,
    /// Words of which at least one must appear.
    #[param(rename = "_phraseSearchOptional")]
    optional: Option<Vec<String>>,
    /// Approximate (fuzzy) matching: not supported; `true` is refused.
    #[param(rename = "_phraseSearchApproximate")]
    approximate: Option<bool>,
}

/// `GET /identity/resources/users/v1/query/phrase`.
#[utoipa::path(
    get,
    path = "/identity/resources/users/v1/query/phrase",
    tag = "User Management",
    operation_id = "UsersControllerV1_searchUsers",
    summary = "Find users by words in their email or name, a page at a time",
    security(("environmentToken" = [])),
    params(
        UserListQuery,
        PhraseQuery,
        ("frontegg-tenant-id" = Option<String>, Header, description = "Keeps the members of this tenant when `_tenantId` is absent"),
    ),
    responses(
        EnvironmentCaller,
        (status = 200, description = "A page of users", body = UserPage),
        (status = 400, description = "A parameter is invalid or not supported", body = ErrorBody),
    )
)]
pub async fn search_users(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    if params.boolean("_phraseSearchApproximate")? == Some(true) {
        return Err(Error::invalid(
            "_phraseSearchApproximate",
            "approximate matching is not supported: words match exactly, ignoring case",
        )
        .into());
    }
    let phrases = Phrases::parse(
        params.list("_phraseSearchContains")?,
        params.list("_phraseSearchExcludes")?,
        params.list("_phraseSearchOptional")?,
    )
    .map_err(Error::from)?;
    list(gateway, environment, &headers, &params, phrases).await
}

/// Reads a field that may be null: absent stays `None` (unchanged), null becomes an empty string
/// (cleared), a string is kept.
fn nullable<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Some(
        Option::<String>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}

/// `UpdateVendorUserDto`. Absent fields stay as they are; an empty string clears one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateVendorUserRequest {
    /// New phone number.
    #[serde(default)]
    phone_number: Option<String>,
    /// New profile picture URL; null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(max_length = 4095)]
    profile_picture_url: Option<String>,
    /// New metadata: a JSON object, or one serialized in a string.
    #[serde(default, deserialize_with = "metadata::deserialize_text")]
    metadata: Option<String>,
    /// New environment-only metadata: a JSON object, or one serialized in a string.
    #[serde(default, deserialize_with = "metadata::deserialize_text")]
    vendor_metadata: Option<String>,
    /// New multi-factor bypass flag.
    #[serde(default)]
    mfa_bypass: Option<bool>,
    /// New external id.
    #[serde(default)]
    external_id: Option<String>,
    /// New display name.
    #[serde(default)]
    name: Option<String>,
}

/// `UpdateUserDto`: the fields a user's own profile has. Absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserRequest {
    /// New phone number.
    #[serde(default)]
    phone_number: Option<String>,
    /// New profile picture URL; null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(max_length = 4095)]
    profile_picture_url: Option<String>,
    /// New metadata: a JSON object, or one serialized in a string.
    #[serde(default, deserialize_with = "metadata::deserialize_text")]
    metadata: Option<String>,
    /// New display name.
    #[serde(default)]
    name: Option<String>,
}

impl From<UpdateUserRequest> for UpdateUser {
    fn from(body: UpdateUserRequest) -> Self {
        UpdateUser {
            name: body.name,
            profile_picture_url: body.profile_picture_url,
            phone_number: body.phone_number,
            metadata: body.metadata,
            ..Default::default()
        }
    }
}

/// `PUT /identity/resources/users/v1/{userId}`.
#[utoipa::path(
    put,
    path = "/identity/resources/users/v1/{userId}",
    tag = "Users",
    operation_id = "UsersControllerV1_updateUserForVendor",
    summary = "Update a user globally; only the fields given change",
    security(("environmentToken" = [])),
    params(UserPath),
    request_body = UpdateVendorUserRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The updated user", body = UserJson),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn update_user_globally(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
    JsonBody(body): JsonBody<UpdateVendorUserRequest>,
) -> Result<Response, ApiError> {
    let update = UpdateUser {
        name: body.name,
        profile_picture_url: body.profile_picture_url,
        phone_number: body.phone_number,
        metadata: body.metadata,
        vendor_metadata: body.vendor_metadata,
        external_id: body.external_id,
        mfa_bypass: body.mfa_bypass,
    };
    let user = gateway
        .services
        .users
        .update(&environment, &path.user_id, update)
        .await?;
    Ok(Json(user_json(&gateway, &environment, user, None).await?).into_response())
}

/// `PUT /identity/resources/users/v1`.
#[utoipa::path(
    put,
    path = "/identity/resources/users/v1",
    tag = "User Management",
    operation_id = "UsersControllerV1_updateUser",
    summary = "Update the profile of the user of the frontegg-user-id header in its tenant",
    security(("environmentToken" = [])),
    params(
        ("frontegg-tenant-id" = String, Header, description = "A tenant the user belongs to"),
        ("frontegg-user-id" = String, Header, description = "The user to update"),
    ),
    request_body = UpdateUserRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The updated user", body = UserJson),
        (status = 400, description = "A field or header is invalid or missing", body = ErrorBody),
        (status = 404, description = "No such user in the tenant", body = ErrorBody),
    )
)]
pub async fn update_user_in_tenant(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UpdateUserRequest>,
) -> Result<Response, ApiError> {
    let tenant_id = required_header(&headers, TENANT_HEADER)?;
    let user_id = required_header(&headers, USER_HEADER)?;
    let users = &gateway.services.users;
    in_tenant(users.get(&environment, user_id).await?, tenant_id)?;
    let user = users.update(&environment, user_id, body.into()).await?;
    Ok(Json(user_json(&gateway, &environment, user, Some(tenant_id)).await?).into_response())
}

/// `DELETE /identity/resources/users/v1/{userId}`.
#[utoipa::path(
    delete,
    path = "/identity/resources/users/v1/{userId}",
    tag = "User Management",
    operation_id = "UsersControllerV1_removeUserFromTenant",
    summary = "Remove a user from the tenant of the frontegg-tenant-id header, or delete it everywhere without one",
    security(("environmentToken" = [])),
    params(UserPath, ("frontegg-tenant-id" = Option<String>, Header, description = "The tenant to remove the user from")),
    responses(
        EnvironmentCaller,
        (status = 200, description = "Removed"),
        (status = 400, description = "The id or header cannot be read", body = ErrorBody),
        (status = 404, description = "No such user, tenant or membership", body = ErrorBody),
    )
)]
pub async fn delete_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let users = &gateway.services.users;
    match header(&headers, TENANT_HEADER)? {
        Some(tenant_id) => {
            users
                .remove_from_tenant(&environment, &path.user_id, tenant_id)
                .await?;
        }
        None => users.delete(&environment, &path.user_id).await?,
    }
    Ok(StatusCode::OK.into_response())
}

/// `AddUserToTenantRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddUserToTenantRequest {
    /// The tenant to join.
    tenant_id: String,
    /// Accepted; the tenant must exist whatever its value.
    #[serde(default)]
    #[allow(dead_code)]
    validate_tenant_exist: Option<bool>,
    /// Accepted; sigil sends no invitation email here.
    #[serde(default)]
    #[allow(dead_code)]
    skip_invite_email: Option<bool>,
}

/// `POST /identity/resources/users/v1/{userId}/tenant`.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/{userId}/tenant",
    tag = "Users",
    operation_id = "UsersControllerV1_addUserToTenantForVendor",
    summary = "Add a user to one more account (tenant)",
    security(("environmentToken" = [])),
    params(UserPath),
    request_body = AddUserToTenantRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The user with the new membership", body = UserJson),
        (status = 400, description = "The tenant id is missing or invalid", body = ErrorBody),
        (status = 404, description = "No such user or tenant", body = ErrorBody),
        (status = 409, description = "The user already belongs to the tenant", body = ErrorBody),
    )
)]
pub async fn add_user_to_tenant(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
    JsonBody(body): JsonBody<AddUserToTenantRequest>,
) -> Result<Response, ApiError> {
    let user = gateway
        .services
        .users
        .add_to_tenant(&environment, &path.user_id, &body.tenant_id)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(user_json(&gateway, &environment, user, Some(&body.tenant_id)).await?),
    )
        .into_response())
}

/// `POST /identity/resources/users/v1/{userId}/lock`.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/{userId}/lock",
    tag = "Users",
    operation_id = "UsersControllerV1_lockUser",
    summary = "Lock a user out and end its sessions",
    security(("environmentToken" = [])),
    params(UserPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "Locked"),
        (status = 400, description = "The id cannot be read", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn lock_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
) -> Result<Response, ApiError> {
    gateway.services.users.lock(&environment, &path.user_id).await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /identity/resources/users/v1/{userId}/unlock`.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/{userId}/unlock",
    tag = "Users",
    operation_id = "UsersControllerV1_unlockUser",
    summary = "Lift a user's lock",
    security(("environmentToken" = [])),
    params(UserPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "Unlocked"),
        (status = 400, description = "The id cannot be read", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn unlock_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
) -> Result<Response, ApiError> {
    gateway.services.users.unlock(&environment, &path.user_id).await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /identity/resources/users/v1/{userId}/verify`.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/{userId}/verify",
    tag = "Users",
    operation_id = "UsersControllerV1_verifyUser",
    summary = "Mark a user's email verified",
    security(("environmentToken" = [])),
    params(UserPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "Verified"),
        (status = 400, description = "The id cannot be read", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn verify_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
) -> Result<Response, ApiError> {
    gateway.services.users.verify(&environment, &path.user_id).await?;
    Ok(StatusCode::OK.into_response())
}

/// `GenerateUserActivationLinkResponseDto`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivationLinkJson {
    /// The activation link.
    link: String,
    /// The single-use activation token.
    token: String,
    /// The user's id.
    user_id: String,
}

/// `POST /identity/resources/users/v1/{userId}/links/generate-activation-token`.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/{userId}/links/generate-activation-token",
    tag = "Users",
    operation_id = "UsersControllerV1_generateUserActivationLink",
    summary = "Issue an activation token and link for a user not yet activated",
    security(("environmentToken" = [])),
    params(UserPath),
    responses(
        EnvironmentCaller,
        (status = 201, description = "A fresh token and its link", body = ActivationLinkJson),
        (status = 400, description = "The user is already activated", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn generate_activation_token(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
) -> Result<Response, ApiError> {
    let issued = gateway
        .services
        .users
        .generate_activation_token(&environment, &path.user_id)
        .await?;
    let body = ActivationLinkJson {
        link: issued.link.into_exposed(),
        token: issued.token.into_exposed(),
        user_id: issued.user_id,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `UpdateUserSuperuserDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuperUserRequest {
    /// True for a super-user, false for a regular user.
    super_user: bool,
}

/// `PUT /identity/resources/users/v1/{userId}/superuser`.
#[utoipa::path(
    put,
    path = "/identity/resources/users/v1/{userId}/superuser",
    tag = "Users",
    operation_id = "UsersControllerV1_setUserSuperuserMode",
    summary = "Make a user a super-user (every permission in each of its tenants), or a regular user",
    security(("environmentToken" = [])),
    params(UserPath),
    request_body = SuperUserRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The user", body = UserJson),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn set_super_user(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
    JsonBody(body): JsonBody<SuperUserRequest>,
) -> Result<Response, ApiError> {
    let user = gateway
        .services
        .users
        .set_super_user(&environment, &path.user_id, body.super_user)
        .await?;
    Ok(Json(user_json(&gateway, &environment, user, None).await?).into_response())
}

/// `UpdateUserInvisibleDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvisibleRequest {
    /// True to leave the user out of member listings, false to list it again.
    invisible: bool,
}

/// `PUT /identity/resources/users/v1/{userId}/invisible`.
#[utoipa::path(
    put,
    path = "/identity/resources/users/v1/{userId}/invisible",
    tag = "Users",
    operation_id = "UsersControllerV1_setUserInvisibleMode",
    summary = "Leave a user out of its tenants' member listings, or list it again",
    security(("environmentToken" = [])),
    params(UserPath),
    request_body = InvisibleRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The user", body = UserJson),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn set_invisible(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
    JsonBody(body): JsonBody<InvisibleRequest>,
) -> Result<Response, ApiError> {
    let user = gateway
        .services
        .users
        .set_invisible(&environment, &path.user_id, body.invisible)
        .await?;
    Ok(Json(user_json(&gateway, &environment, user, None).await?).into_response())
}

/// `UpdateUserTenantWithValidationDto` and `UpdateUserTenantDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveTenantRequest {
    /// A tenant the user is a member of.
    pub(super) tenant_id: String,
    /// Accepted; the user must be a member of the tenant whatever its value.
    #[serde(default)]
    #[allow(dead_code)]
    validate_tenant_exist: Option<bool>,
}

/// `PUT /identity/resources/users/v1/{userId}/tenant`.
#[utoipa::path(
    put,
    path = "/identity/resources/users/v1/{userId}/tenant",
    tag = "Users",
    operation_id = "UsersControllerV1_updateUserTenantForVendor",
    summary = "Make one of a user's tenants its active tenant, for its next sign-in and refreshes",
    security(("environmentToken" = [])),
    params(UserPath),
    request_body = ActiveTenantRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The user in its new active tenant", body = UserJson),
        (status = 400, description = "The tenant id is missing or invalid", body = ErrorBody),
        (status = 404, description = "No such user, or the user is not a member of the tenant", body = ErrorBody),
    )
)]
pub async fn set_user_tenant(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<UserPath>,
    JsonBody(body): JsonBody<ActiveTenantRequest>,
) -> Result<Response, ApiError> {
    let user = gateway
        .services
        .users
        .set_active_tenant(&environment, &path.user_id, &body.tenant_id, None)
        .await?;
    Ok(Json(user_json(&gateway, &environment, user, Some(&body.tenant_id)).await?).into_response())
}

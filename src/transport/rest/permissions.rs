//! Permissions and their categories at the contract's paths (identity.yml "Permissions" and
//! "Permissions Categories").

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
    sign_in::{Acting, CallingEnvironment},
    tenants::time,
};
use crate::domain::permission::{
    CategoryWithPermissions, CreateCategory, CreatePermission, Permission, PermissionCategory,
    UpdateCategory, UpdatePermission,
};

/// The contract's `PermissionResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionJson {
    id: String,
    key: String,
    name: String,
    description: Option<String>,
    /// The category's id; empty when it has none (the contract and Frontegg's clients require a
    /// string).
    category_id: String,
    /// Whether it is one of Frontegg's built-in permissions.
    fe_permission: bool,
    /// `NEVER`, `ALWAYS` or `ASSIGNABLE`.
    assignment_type: &'static str,
    /// The roles that grant it.
    role_ids: Vec<String>,
    created_at: String,
    updated_at: String,
}

impl From<Permission> for PermissionJson {
    fn from(p: Permission) -> Self {
        Self {
            id: p.id,
            key: p.key,
            name: p.name,
            description: p.description,
            category_id: p.category_id.unwrap_or_default(),
            fe_permission: p.fe_permission,
            assignment_type: p.assignment_type.as_str(),
            role_ids: p.role_ids,
            created_at: time(p.created_at),
            updated_at: time(p.updated_at),
        }
    }
}

fn permissions_json(permissions: Vec<Permission>) -> Vec<PermissionJson> {
    permissions.into_iter().map(Into::into).collect()
}

/// The contract's `PermissionCategoryResponseDto`, with the category's permissions, which
/// Frontegg's admin portal reads from the listing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryJson {
    id: String,
    name: String,
    description: Option<String>,
    /// Whether it is one of the built-in categories.
    fe_category: bool,
    created_at: String,
    updated_at: String,
    /// Its permissions (in the listing only).
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<Vec<PermissionJson>>,
}

impl From<PermissionCategory> for CategoryJson {
    fn from(c: PermissionCategory) -> Self {
        Self {
            id: c.id,
            name: c.name,
            description: c.description,
            fe_category: c.fe_category,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
            permissions: None,
        }
    }
}

impl From<CategoryWithPermissions> for CategoryJson {
    fn from(c: CategoryWithPermissions) -> Self {
        Self {
            permissions: Some(permissions_json(c.permissions)),
            ..c.category.into()
        }
    }
}

/// The contract's `AddPermissionRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddPermissionRequest {
    key: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    category_id: Option<String>,
    /// `NEVER`, `ALWAYS` or `ASSIGNABLE` (the default).
    #[serde(default)]
    assignment_type: Option<String>,
}

/// The contract's `UpdatePermissionRequest`: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePermissionRequest {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    category_id: Option<String>,
}

/// The contract's `AddRolesToPermissionRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleIdsRequest {
    /// The roles to add the permission to.
    role_ids: Vec<String>,
}

/// The contract's `ClassifyPermissionsDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClassifyRequest {
    permission_ids: Vec<String>,
    /// `NEVER`, `ALWAYS` or `ASSIGNABLE`.
    #[serde(rename = "type")]
    assignment_type: String,
}

/// The contract's `CreateCategoryDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCategoryRequest {
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// The id to give it; generated when absent.
    #[serde(default)]
    id: Option<String>,
}

/// The contract's `UpdateCategoryDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCategoryRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// A permission in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct PermissionPath {
    /// The permission's id.
    permission_id: String,
}

/// A category in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct CategoryPath {
    /// The category's id.
    category_id: String,
}

/// `GET /identity/resources/permissions/v1`.
#[utoipa::path(
    get,
    path = "/identity/resources/permissions/v1",
    tag = "Permissions",
    operation_id = "PermissionsControllerV1_getAllPermissions",
    summary = "Every permission, with the roles that grant it",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.permissions"])),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "The permissions", body = Vec<PermissionJson>),
    )
)]
pub async fn list_permissions(State(gateway): State<Gateway>, acting: Acting) -> Result<Response, ApiError> {
    let permissions = gateway.services.permissions.list(&acting.scope).await?;
    Ok(Json(permissions_json(permissions)).into_response())
}

/// `POST /identity/resources/permissions/v1`.
#[utoipa::path(
    post,
    path = "/identity/resources/permissions/v1",
    tag = "Permissions",
    operation_id = "PermissionsControllerV1_addPermissions",
    summary = "Create permissions, all or none",
    security(("environmentToken" = [])),
    request_body = Vec<AddPermissionRequest>,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The created permissions", body = Vec<PermissionJson>),
        (status = 400, description = "A field is invalid, or a category does not exist", body = ErrorBody),
        (status = 409, description = "A key is taken", body = ErrorBody),
    )
)]
pub async fn create_permissions(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    JsonBody(body): JsonBody<Vec<AddPermissionRequest>>,
) -> Result<Response, ApiError> {
    let requests = body
        .into_iter()
        .map(|p| CreatePermission {
            key: p.key,
            name: p.name,
            description: p.description.unwrap_or_default(),
            category_id: p.category_id.unwrap_or_default(),
            assignment_type: p.assignment_type.unwrap_or_default(),
        })
        .collect();
    let created = gateway
        .services
        .permissions
        .create(&environment, requests)
        .await?;
    Ok((StatusCode::CREATED, Json(permissions_json(created))).into_response())
}

/// `PATCH /identity/resources/permissions/v1/{permissionId}`.
#[utoipa::path(
    patch,
    path = "/identity/resources/permissions/v1/{permissionId}",
    tag = "Permissions",
    operation_id = "PermissionsControllerV1_updatePermission",
    summary = "Change a permission; only the fields given change",
    security(("environmentToken" = [])),
    params(PermissionPath),
    request_body = UpdatePermissionRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The changed permission", body = PermissionJson),
        (status = 400, description = "A field is invalid, or the permission is built in", body = ErrorBody),
        (status = 404, description = "No such permission", body = ErrorBody),
        (status = 409, description = "The key is taken", body = ErrorBody),
    )
)]
pub async fn update_permission(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<PermissionPath>,
    JsonBody(body): JsonBody<UpdatePermissionRequest>,
) -> Result<Response, ApiError> {
    let update = UpdatePermission {
        key: body.key,
        name: body.name,
        description: body.description,
        category_id: body.category_id,
    };
    let permission = gateway
        .services
        .permissions
        .update(&environment, &path.permission_id, update)
        .await?;
    Ok(Json(PermissionJson::from(permission)).into_response())
}

/// `DELETE /identity/resources/permissions/v1/{permissionId}`.
#[utoipa::path(
    delete,
    path = "/identity/resources/permissions/v1/{permissionId}",
    tag = "Permissions",
    operation_id = "PermissionsControllerV1_deletePermission",
    summary = "Delete a permission, taking it from every role",
    security(("environmentToken" = [])),
    params(PermissionPath),
    responses(
        EnvironmentCaller,
        (status = 204, description = "Deleted"),
        (status = 400, description = "The permission is built in", body = ErrorBody),
        (status = 404, description = "No such permission", body = ErrorBody),
    )
)]
pub async fn delete_permission(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<PermissionPath>,
) -> Result<Response, ApiError> {
    gateway
        .services
        .permissions
        .delete(&environment, &path.permission_id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /identity/resources/permissions/v1/{permissionId}/roles`.
#[utoipa::path(
    put,
    path = "/identity/resources/permissions/v1/{permissionId}/roles",
    tag = "Permissions",
    operation_id = "PermissionsControllerV1_setRolesToPermission",
    summary = "Add a permission to roles",
    security(("environmentToken" = [])),
    params(PermissionPath),
    request_body = RoleIdsRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The permission, with every role that grants it", body = PermissionJson),
        (status = 400, description = "Unknown role ids, named", body = ErrorBody),
        (status = 404, description = "No such permission", body = ErrorBody),
    )
)]
pub async fn add_permission_to_roles(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<PermissionPath>,
    JsonBody(body): JsonBody<RoleIdsRequest>,
) -> Result<Response, ApiError> {
    let permission = gateway
        .services
        .permissions
        .add_to_roles(&environment, &path.permission_id, body.role_ids)
        .await?;
    Ok(Json(PermissionJson::from(permission)).into_response())
}

/// `PUT /identity/resources/permissions/v1/classification`.
#[utoipa::path(
    put,
    path = "/identity/resources/permissions/v1/classification",
    tag = "Permissions",
    operation_id = "PermissionsControllerV1_updatePermissionsAssignmentType",
    summary = "Set how permissions may be held",
    security(("environmentToken" = [])),
    request_body = ClassifyRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The classified permissions", body = Vec<PermissionJson>),
        (status = 400, description = "Unknown permission ids, named, or an unknown type", body = ErrorBody),
    )
)]
pub async fn classify_permissions(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    JsonBody(body): JsonBody<ClassifyRequest>,
) -> Result<Response, ApiError> {
    let classified = gateway
        .services
        .permissions
        .classify(&environment, body.permission_ids, &body.assignment_type)
        .await?;
    Ok(Json(permissions_json(classified)).into_response())
}

/// `GET /identity/resources/permissions/v1/categories`.
#[utoipa::path(
    get,
    path = "/identity/resources/permissions/v1/categories",
    tag = "Permissions Categories",
    operation_id = "PermissionsCategoriesController_getAllCategoriesWithPermissions",
    summary = "Every permission category, with its permissions",
    security(("environmentToken" = []), ("userToken" = ["fe.secure.read.permissions"])),
    responses(
        EnvironmentOrUserCaller,
        (status = 200, description = "The categories", body = Vec<CategoryJson>),
    )
)]
pub async fn list_categories(State(gateway): State<Gateway>, acting: Acting) -> Result<Response, ApiError> {
    let categories = gateway.services.permissions.categories(&acting.scope).await?;
    let categories: Vec<CategoryJson> = categories.into_iter().map(Into::into).collect();
    Ok(Json(categories).into_response())
}

/// `POST /identity/resources/permissions/v1/categories`.
#[utoipa::path(
    post,
    path = "/identity/resources/permissions/v1/categories",
    tag = "Permissions Categories",
    operation_id = "PermissionsCategoriesController_createPermissionCategory",
    summary = "Create a permission category",
    security(("environmentToken" = [])),
    request_body = CreateCategoryRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The created category", body = CategoryJson),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 409, description = "The id is taken", body = ErrorBody),
    )
)]
pub async fn create_category(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    JsonBody(body): JsonBody<CreateCategoryRequest>,
) -> Result<Response, ApiError> {
    let create = CreateCategory {
        id: body.id.unwrap_or_default(),
        name: body.name,
        description: body.description.unwrap_or_default(),
    };
    let category = gateway
        .services
        .permissions
        .create_category(&environment, create)
        .await?;
    Ok((StatusCode::CREATED, Json(CategoryJson::from(category))).into_response())
}

/// `PATCH /identity/resources/permissions/v1/categories/{categoryId}`.
#[utoipa::path(
    patch,
    path = "/identity/resources/permissions/v1/categories/{categoryId}",
    tag = "Permissions Categories",
    operation_id = "PermissionsCategoriesController_updateCategory",
    summary = "Change a permission category",
    security(("environmentToken" = [])),
    params(CategoryPath),
    request_body = UpdateCategoryRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The changed category", body = CategoryJson),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
    )
)]
pub async fn update_category(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<CategoryPath>,
    JsonBody(body): JsonBody<UpdateCategoryRequest>,
) -> Result<Response, ApiError> {
    let update = UpdateCategory {
        name: body.name,
        description: body.description,
    };
    let category = gateway
        .services
        .permissions
        .update_category(&environment, &path.category_id, update)
        .await?;
    Ok(Json(CategoryJson::from(category)).into_response())
}

/// `DELETE /identity/resources/permissions/v1/categories/{categoryId}`.
#[utoipa::path(
    delete,
    path = "/identity/resources/permissions/v1/categories/{categoryId}",
    tag = "Permissions Categories",
    operation_id = "PermissionsCategoriesController_deleteCategory",
    summary = "Delete a permission category",
    security(("environmentToken" = [])),
    params(CategoryPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "Deleted"),
        (status = 400, description = "The category is built in", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
    )
)]
pub async fn delete_category(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<CategoryPath>,
) -> Result<Response, ApiError> {
    gateway
        .services
        .permissions
        .delete_category(&environment, &path.category_id)
        .await?;
    Ok(StatusCode::OK.into_response())
}

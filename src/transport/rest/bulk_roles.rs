//! The bulk update of a user's roles across its tenants at the contract's vendor-only paths
//! (identity.yml, "Users"), for callers holding an environment token.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    Gateway,
    error::{ApiError, EnvironmentCaller, ErrorBody, JsonBody, JsonBodyErrors, PathParams},
    sign_in::CallingEnvironment,
};
use crate::domain::bulk_roles::{
    BulkRolesError, BulkRolesOutcome, BulkRolesRequest, BulkRolesStatus, BulkRolesTask,
};

/// The path of a bulk update: the user's id.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct BulkRolesUserPath {
    /// The user's id.
    user_id: String,
}

/// The path of a task's status: its id.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct BulkRolesTaskPath {
    /// The task's id.
    task_id: String,
}

/// `BulkUpdateUserRolesRequestDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkRolesRequestJson {
    /// Roles to give in each tenant.
    #[serde(default)]
    add_role_ids: Vec<String>,
    /// Roles to take in each tenant.
    #[serde(default)]
    remove_role_ids: Vec<String>,
    /// The tenants to update; absent or empty for every tenant the user belongs to.
    #[serde(default)]
    tenant_ids: Option<Vec<String>>,
}

/// `BulkUpdateUserRolesSyncResponseDto`, with the id of the task when the update was queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkRolesResultJson {
    /// The user's id.
    user_id: String,
    /// How many tenants were updated, or are to be.
    affected_tenants: u32,
    /// The roles given, or to be given.
    roles_added: Vec<String>,
    /// The roles taken, or to be taken.
    roles_removed: Vec<String>,
    /// The task carrying out the update, when it was queued; absent when it is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<String>,
}

impl From<BulkRolesOutcome> for BulkRolesResultJson {
    fn from(outcome: BulkRolesOutcome) -> Self {
        Self {
            user_id: outcome.user_id,
            affected_tenants: outcome.affected_tenants,
            roles_added: outcome.roles_added,
            roles_removed: outcome.roles_removed,
            task_id: outcome.task_id,
        }
    }
}

/// The `status` of `BulkRolesTaskStatusResponseDto`.
#[derive(Debug, Serialize, ToSchema)]
pub enum BulkRolesStatusJson {
    /// Queued; no tenant processed yet.
    NotStarted,
    /// Its tenants are being processed.
    InProgress,
    /// Every tenant was updated.
    Completed,
    /// Every tenant was processed, and some could not be updated.
    CompletedWithErrors,
}

impl From<BulkRolesStatus> for BulkRolesStatusJson {
    fn from(status: BulkRolesStatus) -> Self {
        match status {
            BulkRolesStatus::NotStarted => Self::NotStarted,
            BulkRolesStatus::InProgress => Self::InProgress,
            BulkRolesStatus::Completed => Self::Completed,
            BulkRolesStatus::CompletedWithErrors => Self::CompletedWithErrors,
        }
    }
}

/// `BulkRolesTaskError`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkRolesErrorJson {
    /// What went wrong.
    message: String,
    /// The tenant it went wrong in.
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<String>,
}

impl From<BulkRolesError> for BulkRolesErrorJson {
    fn from(error: BulkRolesError) -> Self {
        Self {
            message: error.message,
            tenant_id: error.tenant_id,
        }
    }
}

/// `BulkRolesTaskStatusResponseDto`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkRolesTaskJson {
    /// The task's id.
    id: String,
    /// The user's id.
    user_id: String,
    /// Where it stands.
    status: BulkRolesStatusJson,
    /// How many tenants it updates.
    total_tenants: u32,
    /// How many of them are processed, updated or failed.
    processed_tenants: u32,
    /// The roles it gives.
    added_role_ids: Vec<String>,
    /// The roles it takes.
    removed_role_ids: Vec<String>,
    /// The tenants it could not update, and why.
    errors: Vec<BulkRolesErrorJson>,
}

impl From<BulkRolesTask> for BulkRolesTaskJson {
    fn from(task: BulkRolesTask) -> Self {
        Self {
            id: task.id,
            user_id: task.user_id,
            status: task.status.into(),
            total_tenants: task.total_tenants,
            processed_tenants: task.processed_tenants,
            added_role_ids: task.add_role_ids,
            removed_role_ids: task.remove_role_ids,
            errors: task.errors.into_iter().map(Into::into).collect(),
        }
    }
}

/// `PATCH /identity/resources/vendor-only/users/v1/{userId}/roles/bulk`.
#[utoipa::path(
    patch,
    path = "/identity/resources/vendor-only/users/v1/{userId}/roles/bulk",
    tag = "Users",
    operation_id = "VendorOnlyUsers_bulkUpdateRolesAcrossAllTenants",
    summary = "Give and take a user's roles in many of its tenants: at once, or queued as a task",
    security(("environmentToken" = [])),
    params(BulkRolesUserPath),
    request_body = BulkRolesRequestJson,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "Roles updated (sync), or the update queued as the task `taskId` (async)", body = BulkRolesResultJson),
        (status = 400, description = "Unknown roles, a role both given and taken, tenants the user is not in, or a tenant's own role given in another", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
pub async fn bulk_update_user_roles(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<BulkRolesUserPath>,
    JsonBody(body): JsonBody<BulkRolesRequestJson>,
) -> Result<Response, ApiError> {
    let request = BulkRolesRequest {
        add_role_ids: body.add_role_ids,
        remove_role_ids: body.remove_role_ids,
        tenant_ids: body.tenant_ids.unwrap_or_default(),
    };
    let outcome = gateway
        .services
        .bulk_roles
        .update(&environment, &path.user_id, request)
        .await?;
    Ok(Json(BulkRolesResultJson::from(outcome)).into_response())
}

/// `GET /identity/resources/vendor-only/users/v1/bulk-roles/status/{taskId}`.
#[utoipa::path(
    get,
    path = "/identity/resources/vendor-only/users/v1/bulk-roles/status/{taskId}",
    tag = "Users",
    operation_id = "VendorOnlyUsers_getBulkRolesTaskStatus",
    summary = "Where a queued bulk update of a user's roles stands",
    security(("environmentToken" = [])),
    params(BulkRolesTaskPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "Task status", body = BulkRolesTaskJson),
        (status = 404, description = "No such task in the environment", body = ErrorBody),
    )
)]
pub async fn bulk_roles_task_status(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<BulkRolesTaskPath>,
) -> Result<Response, ApiError> {
    let task = gateway
        .services
        .bulk_roles
        .task(&environment, &path.task_id)
        .await?;
    Ok(Json(BulkRolesTaskJson::from(task)).into_response())
}

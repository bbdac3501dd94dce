//! The bulk update of a user's roles in `identity.v1.UserService`: proto <-> domain.

use super::{convert::timestamp, pb};
use crate::domain::bulk_roles::{BulkRolesOutcome, BulkRolesRequest, BulkRolesStatus, BulkRolesTask};

/// The update a request asks for.
pub(super) fn request(r: pb::BulkUpdateUserRolesRequest) -> (String, BulkRolesRequest) {
    (
        r.user_id,
        BulkRolesRequest {
            add_role_ids: r.add_role_ids,
            remove_role_ids: r.remove_role_ids,
            tenant_ids: r.tenant_ids,
        },
    )
}

/// A count of tenants on the wire; lists are bounded far below `i32::MAX`.
fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<BulkRolesOutcome> for pb::BulkUpdateUserRolesResponse {
    fn from(outcome: BulkRolesOutcome) -> Self {
        Self {
            user_id: outcome.user_id,
            affected_tenants: count(outcome.affected_tenants),
            roles_added: outcome.roles_added,
            roles_removed: outcome.roles_removed,
            task_id: outcome.task_id.unwrap_or_default(),
        }
    }
}

impl From<BulkRolesStatus> for pb::BulkRolesTaskStatus {
    fn from(status: BulkRolesStatus) -> Self {
        match status {
            BulkRolesStatus::NotStarted => Self::NotStarted,
            BulkRolesStatus::InProgress => Self::InProgress,
            BulkRolesStatus::Completed => Self::Completed,
            BulkRolesStatus::CompletedWithErrors => Self::CompletedWithErrors,
        }
    }
}

impl From<BulkRolesTask> for pb::BulkRolesTask {
    fn from(task: BulkRolesTask) -> Self {
        Self {
            id: task.id,
            user_id: task.user_id,
            status: pb::BulkRolesTaskStatus::from(task.status).into(),
            total_tenants: count(task.total_tenants),
            processed_tenants: count(task.processed_tenants),
            added_role_ids: task.add_role_ids,
            removed_role_ids: task.remove_role_ids,
            errors: task
                .errors
                .into_iter()
                .map(|e| pb::BulkRolesTaskError {
                    message: e.message,
                    tenant_id: e.tenant_id.unwrap_or_default(),
                })
                .collect(),
            created_at: Some(timestamp(task.created_at)),
            updated_at: Some(timestamp(task.updated_at)),
        }
    }
}

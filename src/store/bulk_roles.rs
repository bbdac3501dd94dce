//! Queries of the bulk update of a user's roles: the user's tenants, and the tasks of large
//! updates with the lease that lets one worker at a time carry each out.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, JoinType,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, sea_query::Expr,
};

use super::{
    First,
    entity::{bulk_role_task, tenant, user_tenant},
    permissions::possible,
};
use crate::domain::{
    Error,
    bulk_roles::{BulkRolesError, BulkRolesStatus, BulkRolesTask},
    error::Result,
    scope::Scope,
};

/// The stored form of a task.
pub type TaskRow = bulk_role_task::Model;

/// The live tenants user `user_id` is a member of, as `(row id, tenant id)`, in the order it
/// joined them; share-locked with the memberships until the transaction ends (PostgreSQL), so
/// that neither the tenants' deletion nor the user's removal from them commits under an update.
pub async fn memberships(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_id: &str,
) -> Result<Vec<(String, String)>> {
    Ok(user_tenant::Entity::find()
        .select_only()
        .column(user_tenant::Column::TenantRef)
        .column_as(tenant::Column::TenantId, "tenant_id")
        .join(JoinType::InnerJoin, user_tenant::Relation::Tenant.def())
        .filter(user_tenant::Column::UserId.eq(user_id))
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(tenant::Column::DeletedAt.is_null())
        .order_by_asc(user_tenant::Column::CreatedAt)
        .order_by_asc(user_tenant::Column::TenantRef)
        .lock_shared()
        .into_tuple()
        .all(db)
        .await?)
}

/// Of the tenants `tenant_refs` (row ids), those user `user_id` is a member of; those
/// memberships share-locked as by [`memberships`].
pub async fn members_among(
    db: &impl ConnectionTrait,
    user_id: &str,
    tenant_refs: &[String],
) -> Result<HashSet<String>> {
    Ok(user_tenant::Entity::find()
        .select_only()
        .column(user_tenant::Column::TenantRef)
        .filter(user_tenant::Column::UserId.eq(user_id))
        .filter(user_tenant::Column::TenantRef.is_in(possible(tenant_refs)))
        .lock_shared()
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The tenant ids of the tenants `tenant_refs` (row ids) of the scope's environment,
/// share-locked until the transaction ends (PostgreSQL), so that none is deleted under the
/// update of its memberships.
pub async fn tenant_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_refs: &[String],
) -> Result<HashMap<String, String>> {
    Ok(tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .column(tenant::Column::TenantId)
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(tenant::Column::Id.is_in(possible(tenant_refs)))
        .lock_shared()
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// JSON text of a list, as the task's columns hold it.
fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

/// A list read back from a task's JSON column.
fn parsed<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(Error::internal)
}

/// Stores a new task of the scope's environment: to give user `user_id` the roles `add` and
/// take `remove` in the tenants `tenant_refs` (row ids), in that order.
pub async fn insert(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_id: &str,
    tenant_refs: &[String],
    add: &[String],
    remove: &[String],
    now: DateTime<Utc>,
) -> Result<TaskRow> {
    let row = TaskRow {
        id: uuid::Uuid::new_v4().to_string(),
        environment_id: scope.environment_id().to_owned(),
        user_id: user_id.to_owned(),
        status: BulkRolesStatus::NotStarted.as_str().to_owned(),
        tenant_refs: json(&tenant_refs)?,
        total_tenants: count(tenant_refs.len()),
        processed_tenants: 0,
        add_role_ids: json(&add)?,
        remove_role_ids: json(&remove)?,
        errors: json(&Vec::<BulkRolesError>::new())?,
        lease_owner: None,
        lease_until: None,
        created_at: now,
        updated_at: now,
    };
    Ok(row.into_active_model().insert(db).await?)
}

/// A number of tenants as stored; lists are bounded far below `i32::MAX`.
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Task `id` of the scope's environment, if there is one.
pub async fn find(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<Option<TaskRow>> {
    if !super::may_exist(id) {
        return Ok(None);
    }
    Ok(bulk_role_task::Entity::find_by_id(id)
        .filter(bulk_role_task::Column::EnvironmentId.eq(scope.environment_id()))
        .first(db)
        .await?)
}

/// The domain view of a task's row.
pub fn to_domain(row: TaskRow) -> Result<BulkRolesTask> {
    let status = BulkRolesStatus::parse(&row.status)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown task status {:?}", row.status)))?;
    Ok(BulkRolesTask {
        status,
        total_tenants: u32::try_from(row.total_tenants).unwrap_or_default(),
        processed_tenants: u32::try_from(row.processed_tenants).unwrap_or_default(),
        add_role_ids: parsed(&row.add_role_ids)?,
        remove_role_ids: parsed(&row.remove_role_ids)?,
        errors: parsed(&row.errors)?,
        id: row.id,
        user_id: row.user_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// What a worker needs of a task it holds.
#[derive(Debug, Clone)]
pub struct Work {
    /// The task's row as claimed.
    pub row: TaskRow,
    /// Its tenants (row ids), in processing order.
    pub tenant_refs: Vec<String>,
    /// The roles to give.
    pub add: Vec<String>,
    /// The roles to take.
    pub remove: Vec<String>,
}

/// Which tasks a worker `owner` may take at `now`: unfinished, and held by nobody, by a lease
/// that ran out, or by itself already.
fn claimable(owner: &str, now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(bulk_role_task::Column::Status.is_in([
            BulkRolesStatus::NotStarted.as_str(),
            BulkRolesStatus::InProgress.as_str(),
        ]))
        .add(
            Condition::any()
                .add(bulk_role_task::Column::LeaseUntil.is_null())
                .add(bulk_role_task::Column::LeaseUntil.lt(now))
                .add(bulk_role_task::Column::LeaseOwner.eq(owner)),
        )
}

/// Takes the oldest task that worker `owner` may take at `now`, in any environment, for it
/// alone until `until`, and marks it in progress. The take is a conditional write: of two
/// workers that found the same task, only one changes its row, and the other finds nothing.
pub async fn claim(
    db: &impl ConnectionTrait,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<Work>> {
    let Some(id) = bulk_role_task::Entity::find()
        .select_only()
        .column(bulk_role_task::Column::Id)
        .filter(claimable(owner, now))
        .order_by_asc(bulk_role_task::Column::CreatedAt)
        .order_by_asc(bulk_role_task::Column::Id)
        .into_tuple::<String>()
        .first(db)
        .await?
    else {
        return Ok(None);
    };
    let taken = bulk_role_task::Entity::update_many()
        .col_expr(bulk_role_task::Column::LeaseOwner, Expr::value(owner))
        .col_expr(bulk_role_task::Column::LeaseUntil, Expr::value(until))
        .col_expr(
            bulk_role_task::Column::Status,
            Expr::value(BulkRolesStatus::InProgress.as_str()),
        )
        .col_expr(bulk_role_task::Column::UpdatedAt, Expr::value(now))
        .filter(bulk_role_task::Column::Id.eq(id.as_str()))
        .filter(claimable(owner, now))
        .exec(db)
        .await?;
    if taken.rows_affected == 0 {
        return Ok(None);
    }
    let Some(row) = bulk_role_task::Entity::find_by_id(id).first(db).await? else {
        return Ok(None);
    };
    Ok(Some(Work {
        tenant_refs: parsed(&row.tenant_refs)?,
        add: parsed(&row.add_role_ids)?,
        remove: parsed(&row.remove_role_ids)?,
        row,
    }))
}

/// Task `id` if worker `owner` still holds it, locked until the transaction ends (PostgreSQL;
/// SQLite's writer already excludes every other): `None` once another worker took it over.
pub async fn lock_held(db: &impl ConnectionTrait, id: &str, owner: &str) -> Result<Option<TaskRow>> {
    Ok(bulk_role_task::Entity::find_by_id(id)
        .filter(bulk_role_task::Column::LeaseOwner.eq(owner))
        .lock_exclusive()
        .first(db)
        .await?)
}

/// How far a task got, written in the transaction of the batch that got it there.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    /// Tenants processed so far.
    pub processed: usize,
    /// The tenants that could not be updated so far.
    pub errors: &'a [BulkRolesError],
    /// Where the task stands now.
    pub status: BulkRolesStatus,
    /// Until when its worker holds it; `None` lets go of it.
    pub lease_until: Option<DateTime<Utc>>,
}

/// Records the progress of task `id`, held (and locked) by the caller's worker.
pub async fn save_progress(
    db: &impl ConnectionTrait,
    id: &str,
    progress: Progress<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut update = bulk_role_task::Entity::update_many()
        .col_expr(
            bulk_role_task::Column::ProcessedTenants,
            Expr::value(count(progress.processed)),
        )
        .col_expr(
            bulk_role_task::Column::Errors,
            Expr::value(json(&progress.errors)?),
        )
        .col_expr(
            bulk_role_task::Column::Status,
            Expr::value(progress.status.as_str()),
        )
        .col_expr(
            bulk_role_task::Column::LeaseUntil,
            Expr::value(progress.lease_until),
        )
        .col_expr(bulk_role_task::Column::UpdatedAt, Expr::value(now));
    if progress.lease_until.is_none() {
        update = update.col_expr(bulk_role_task::Column::LeaseOwner, Expr::value(None::<String>));
    }
    update.filter(bulk_role_task::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// Lets go of task `id` if worker `owner` holds it, so that any worker (another replica, or
/// this one after a restart) takes it up at once.
pub async fn release(db: &impl ConnectionTrait, id: &str, owner: &str) -> Result<()> {
    bulk_role_task::Entity::update_many()
        .col_expr(bulk_role_task::Column::LeaseOwner, Expr::value(None::<String>))
        .col_expr(
            bulk_role_task::Column::LeaseUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(bulk_role_task::Column::Id.eq(id))
        .filter(bulk_role_task::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the finished tasks, of every environment, last changed before `before`; how many.
pub async fn delete_finished(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64> {
    let deleted = bulk_role_task::Entity::delete_many()
        .filter(bulk_role_task::Column::Status.is_in([
            BulkRolesStatus::Completed.as_str(),
            BulkRolesStatus::CompletedWithErrors.as_str(),
        ]))
        .filter(bulk_role_task::Column::UpdatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

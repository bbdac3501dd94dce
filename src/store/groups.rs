//! Queries over user groups, their members and their roles.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{
    First,
    entity::{group, group_member, group_role, role, user, user_tenant},
    permissions::{one, possible},
    roles::RoleRow,
    users::UserRow,
};
use crate::domain::{
    Error, Resource,
    error::Result,
    group::{Group, MANAGED_BY_FRONTEGG, NewGroup},
    scope::Scope,
};

/// The stored form of a group.
pub type GroupRow = group::Model;

/// `row` as the domain has it, in tenant `tenant_id` (its caller-facing id).
pub fn to_domain(row: GroupRow, tenant_id: &str) -> Group {
    Group {
        id: row.id,
        tenant_id: tenant_id.to_owned(),
        name: row.name,
        description: row.description,
        color: row.color,
        metadata: row.metadata,
        managed_by: row.managed_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// The groups of tenant `tenant_ref` (a row id), oldest first.
pub async fn of_tenant(db: &impl ConnectionTrait, scope: &Scope, tenant_ref: &str) -> Result<Vec<GroupRow>> {
    Ok(group::Entity::find()
        .filter(group::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(group::Column::TenantRef.eq(tenant_ref))
        .order_by_asc(group::Column::CreatedAt)
        .order_by_asc(group::Column::Id)
        .all(db)
        .await?)
}

/// The groups of tenant `tenant_ref` among `ids`, oldest first.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: &str,
    ids: &[String],
) -> Result<Vec<GroupRow>> {
    Ok(group::Entity::find()
        .filter(group::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(group::Column::TenantRef.eq(tenant_ref))
        .filter(group::Column::Id.is_in(possible(ids)))
        .order_by_asc(group::Column::CreatedAt)
        .order_by_asc(group::Column::Id)
        .all(db)
        .await?)
}

/// Group `id` of tenant `tenant_ref`, or NOT_FOUND (a group of another tenant is not found
/// either); locked until the transaction ends (PostgreSQL) when `lock` is set.
pub async fn get_row(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: &str,
    id: &str,
    lock: bool,
) -> Result<GroupRow> {
    if !super::may_exist(id) {
        return Err(Error::NotFound(Resource::Group));
    }
    let mut query = group::Entity::find_by_id(id)
        .filter(group::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(group::Column::TenantRef.eq(tenant_ref));
    if lock {
        query = query.lock_exclusive();
    }
    query.first(db).await?.ok_or(Error::NotFound(Resource::Group))
}

/// Stores a new group of tenant `tenant_ref`; ALREADY_EXISTS when its name is taken there.
pub async fn insert(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: &str,
    new: NewGroup,
    now: DateTime<Utc>,
) -> Result<GroupRow> {
    let row = GroupRow {
        id: uuid::Uuid::new_v4().to_string(),
        environment_id: scope.environment_id().to_owned(),
        tenant_ref: tenant_ref.to_owned(),
        name: new.name,
        description: new.description,
        color: new.color,
        metadata: new.metadata,
        managed_by: MANAGED_BY_FRONTEGG.to_owned(),
        created_at: now,
        updated_at: now,
    };
    Ok(row.into_active_model().insert(db).await?)
}

/// Writes a group's fields back; ALREADY_EXISTS when its new name is taken in the tenant.
pub async fn save(db: &impl ConnectionTrait, scope: &Scope, row: &GroupRow) -> Result<()> {
    let updated = group::Entity::update_many()
        .col_expr(group::Column::Name, Expr::value(row.name.clone()))
        .col_expr(group::Column::Description, Expr::value(row.description.clone()))
        .col_expr(group::Column::Color, Expr::value(row.color.clone()))
        .col_expr(group::Column::Metadata, Expr::value(row.metadata.clone()))
        .col_expr(group::Column::UpdatedAt, Expr::value(row.updated_at))
        .filter(group::Column::Id.eq(row.id.as_str()))
        .filter(group::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one(updated.rows_affected, Resource::Group)
}

/// Deletes group `id` with its member and role links, in the caller's transaction.
pub async fn delete(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<()> {
    // The links would follow by cascade; deleted first, they go whatever the schema says.
    group_member::Entity::delete_many()
        .filter(group_member::Column::GroupId.eq(id))
        .exec(db)
        .await?;
    group_role::Entity::delete_many()
        .filter(group_role::Column::GroupId.eq(id))
        .exec(db)
        .await?;
    let deleted = group::Entity::delete_many()
        .filter(group::Column::Id.eq(id))
        .filter(group::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one(deleted.rows_affected, Resource::Group)
}

/// Deletes the groups of tenant `tenant_ref` (a row id), with their links: at the tenant's
/// deletion, which keeps its row.
pub async fn delete_of_tenant(db: &impl ConnectionTrait, scope: &Scope, tenant_ref: &str) -> Result<()> {
    group::Entity::delete_many()
        .filter(group::Column::TenantRef.eq(tenant_ref))
        .filter(group::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    Ok(())
}

/// The roles of each of `group_ids`, by key.
pub async fn roles_of(
    db: &impl ConnectionTrait,
    group_ids: &[String],
) -> Result<HashMap<String, Vec<RoleRow>>> {
    if group_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(group_role::Model, Option<RoleRow>)> = group_role::Entity::find()
        .filter(group_role::Column::GroupId.is_in(group_ids.iter().cloned()))
        .find_also_related(role::Entity)
        .order_by_asc(role::Column::Key)
        .all(db)
        .await?;
    let mut by_group: HashMap<String, Vec<RoleRow>> = HashMap::new();
    for (link, role) in rows {
        if let Some(role) = role {
            by_group.entry(link.group_id).or_default().push(role);
        }
    }
    Ok(by_group)
}

/// The members of each of `group_ids`, oldest member first.
pub async fn users_of(
    db: &impl ConnectionTrait,
    group_ids: &[String],
) -> Result<HashMap<String, Vec<UserRow>>> {
    if group_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(group_member::Model, Option<UserRow>)> = group_member::Entity::find()
        .filter(group_member::Column::GroupId.is_in(group_ids.iter().cloned()))
        .find_also_related(user::Entity)
        .order_by_asc(group_member::Column::CreatedAt)
        .order_by_asc(group_member::Column::UserId)
        .all(db)
        .await?;
    let mut by_group: HashMap<String, Vec<UserRow>> = HashMap::new();
    for (link, user) in rows {
        if let Some(user) = user {
            by_group.entry(link.group_id).or_default().push(user);
        }
    }
    Ok(by_group)
}

/// The groups in tenant `tenant_ref` of each of `user_ids`, by name.
pub async fn of_users(
    db: &impl ConnectionTrait,
    tenant_ref: &str,
    user_ids: &[String],
) -> Result<HashMap<String, Vec<GroupRow>>> {
    let rows: Vec<(group_member::Model, Option<GroupRow>)> = group_member::Entity::find()
        .filter(group_member::Column::UserId.is_in(possible(user_ids)))
        .filter(group_member::Column::TenantRef.eq(tenant_ref))
        .find_also_related(group::Entity)
        .order_by_asc(group::Column::Name)
        .all(db)
        .await?;
    let mut by_user: HashMap<String, Vec<GroupRow>> = HashMap::new();
    for (link, group) in rows {
        if let Some(group) = group {
            by_user.entry(link.user_id).or_default().push(group);
        }
    }
    Ok(by_user)
}

/// Links group `group_id` to each of `role_ids` it lacks. Concurrent additions of one role make
/// one row: a second insert of the same key does nothing.
pub async fn add_roles(
    db: &impl ConnectionTrait,
    group_id: &str,
    role_ids: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let rows = role_ids.iter().map(|role_id| group_role::ActiveModel {
        group_id: Set(group_id.to_owned()),
        role_id: Set(role_id.clone()),
        created_at: Set(now),
    });
    group_role::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([group_role::Column::GroupId, group_role::Column::RoleId])
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Unlinks `role_ids` from group `group_id`.
pub async fn remove_roles(db: &impl ConnectionTrait, group_id: &str, role_ids: &[String]) -> Result<()> {
    group_role::Entity::delete_many()
        .filter(group_role::Column::GroupId.eq(group_id))
        .filter(group_role::Column::RoleId.is_in(possible(role_ids)))
        .exec(db)
        .await?;
    Ok(())
}

/// Makes each of `user_ids` (members of tenant `tenant_ref`) a member of group `group_id`, once
/// however many times it is asked, even at once.
pub async fn add_members(
    db: &impl ConnectionTrait,
    group_id: &str,
    tenant_ref: &str,
    user_ids: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let rows = user_ids.iter().map(|user_id| group_member::ActiveModel {
        group_id: Set(group_id.to_owned()),
        user_id: Set(user_id.clone()),
        tenant_ref: Set(tenant_ref.to_owned()),
        created_at: Set(now),
    });
    group_member::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([group_member::Column::GroupId, group_member::Column::UserId])
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Takes `user_ids` out of group `group_id`.
pub async fn remove_members(db: &impl ConnectionTrait, group_id: &str, user_ids: &[String]) -> Result<()> {
    group_member::Entity::delete_many()
        .filter(group_member::Column::GroupId.eq(group_id))
        .filter(group_member::Column::UserId.is_in(possible(user_ids)))
        .exec(db)
        .await?;
    Ok(())
}

/// The users of the environment among `ids`; locked until the transaction ends (PostgreSQL),
/// in the order of their ids, when `lock` is set: a removal from a tenant locks the user first,
/// so no membership ends under a write that refers to it.
pub async fn users_among(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[String],
    lock: bool,
) -> Result<Vec<String>> {
    let mut query = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(user::Column::Id.is_in(possible(ids)))
        .order_by_asc(user::Column::Id);
    if lock {
        query = query.lock_exclusive();
    }
    Ok(query.into_tuple().all(db).await?)
}

/// The members of tenant `tenant_ref` among `user_ids`.
pub async fn members_among(
    db: &impl ConnectionTrait,
    tenant_ref: &str,
    user_ids: &[String],
) -> Result<Vec<String>> {
    Ok(user_tenant::Entity::find()
        .select_only()
        .column(user_tenant::Column::UserId)
        .filter(user_tenant::Column::TenantRef.eq(tenant_ref))
        .filter(user_tenant::Column::UserId.is_in(possible(user_ids)))
        .into_tuple()
        .all(db)
        .await?)
}

/// Unlinks role `role_id` from every group outside tenant `tenant_ref` (a row id): a role moved
/// to a tenant stays only with that tenant's groups.
pub async fn unlink_role_outside(db: &impl ConnectionTrait, role_id: &str, tenant_ref: &str) -> Result<()> {
    group_role::Entity::delete_many()
        .filter(group_role::Column::RoleId.eq(role_id))
        .filter(
            group_role::Column::GroupId.in_subquery(
                Query::select()
                    .column(group::Column::Id)
                    .from(group::Entity)
                    .and_where(ExprTrait::ne(Expr::col(group::Column::TenantRef), tenant_ref))
                    .to_owned(),
            ),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Statement};

    use crate::store::plan::{migrated, plan_of};

    #[tokio::test]
    async fn the_group_terms_of_access_seek_on_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let db = migrated(&dir).await;
        let sql = concat!(
            "SELECT ",
            crate::store::roles::sqlite_access_columns!("$1", "$2", "$3", "$4")
        );
        let statement = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            ["user".into(), "environment".into(), "tenant".into(), true.into()],
        );
        let plan = plan_of(&db, statement).await;
        let of_groups: Vec<&String> = plan
            .iter()
            .filter(|line| matches!(line.split_whitespace().nth(1), Some("gm" | "gr")))
            .collect();
        assert_eq!(of_groups.len(), 4, "{plan:#?}");
        assert!(
            of_groups.iter().all(|line| line.starts_with("SEARCH")),
            "{plan:#?}"
        );
    }
}

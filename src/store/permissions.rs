//! Queries over permissions and their categories, and the seeding of the built-in ones.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{
    First,
    entity::{permission, permission_category, role, role_permission},
};
use crate::domain::{
    Error, Resource,
    error::Result,
    field::fold,
    permission::{AssignmentType, NewCategory, NewPermission, Permission, PermissionCategory, builtin},
    scope::Scope,
};

/// The stored form of a permission.
pub type PermissionRow = permission::Model;
/// The stored form of a category.
pub type CategoryRow = permission_category::Model;

fn to_domain(row: PermissionRow, role_ids: Vec<String>) -> Permission {
    Permission {
        assignment_type: AssignmentType::from_stored(&row.assignment_type),
        id: row.id,
        key: row.key,
        name: row.name,
        description: row.description,
        category_id: row.category_id,
        fe_permission: row.fe_permission,
        role_ids,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn category_to_domain(row: CategoryRow) -> PermissionCategory {
    PermissionCategory {
        id: row.id,
        name: row.name,
        description: row.description,
        fe_category: row.fe_category,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// Permission rows completed with the ids of the roles that list them, in one query.
async fn complete(db: &impl ConnectionTrait, rows: Vec<PermissionRow>) -> Result<Vec<Permission>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let links: Vec<(String, String)> = role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::PermissionId)
        .column(role_permission::Column::RoleId)
        .filter(role_permission::Column::PermissionId.is_in(rows.iter().map(|r| r.id.clone())))
        .order_by_asc(role_permission::Column::RoleId)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_permission: HashMap<String, Vec<String>> = HashMap::new();
    for (permission_id, role_id) in links {
        by_permission.entry(permission_id).or_default().push(role_id);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let role_ids = by_permission.remove(&row.id).unwrap_or_default();
            to_domain(row, role_ids)
        })
        .collect())
}

/// Every permission of the environment, by key, with its roles.
pub async fn list(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<Permission>> {
    let rows = permission::Entity::find()
        .filter(permission::Column::EnvironmentId.eq(scope.environment_id()))
        .order_by_asc(permission::Column::Key)
        .all(db)
        .await?;
    complete(db, rows).await
}

/// The permissions of the environment among `ids`, by key, with their roles.
pub async fn by_ids(db: &impl ConnectionTrait, scope: &Scope, ids: &[String]) -> Result<Vec<Permission>> {
    let rows = permission::Entity::find()
        .filter(permission::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(permission::Column::Id.is_in(possible(ids)))
        .order_by_asc(permission::Column::Key)
        .all(db)
        .await?;
    complete(db, rows).await
}

/// Permission `id` of the environment with its roles, or NOT_FOUND. Locked until the transaction
/// ends (PostgreSQL) when `lock` is set.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: &str, lock: bool) -> Result<Permission> {
    if !super::may_exist(id) {
        return Err(Error::NotFound(Resource::Permission));
    }
    let mut query = permission::Entity::find_by_id(id)
        .filter(permission::Column::EnvironmentId.eq(scope.environment_id()));
    if lock {
        query = query.lock_exclusive();
    }
    let row = query
        .first(db)
        .await?
        .ok_or(Error::NotFound(Resource::Permission))?;
    Ok(complete(db, vec![row]).await?.remove(0))
}

/// Of `ids`, those that name no permission of the environment, in the order given. Those found
/// are share-locked until the transaction ends (PostgreSQL), so none is deleted under a write
/// that refers to it.
pub async fn missing(db: &impl ConnectionTrait, scope: &Scope, ids: &[String]) -> Result<Vec<String>> {
    let found: Vec<String> = permission::Entity::find()
        .select_only()
        .column(permission::Column::Id)
        .filter(permission::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(permission::Column::Id.is_in(possible(ids)))
        .lock_shared()
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.iter().filter(|id| !found.contains(id)).cloned().collect())
}

/// Stores new permissions of the environment, all or none (in the caller's transaction);
/// ALREADY_EXISTS when a key is taken.
pub async fn insert_many(
    db: &impl ConnectionTrait,
    scope: &Scope,
    new: Vec<NewPermission>,
    now: DateTime<Utc>,
) -> Result<Vec<Permission>> {
    let rows: Vec<PermissionRow> = new
        .into_iter()
        .map(|new| PermissionRow {
            id: uuid::Uuid::new_v4().to_string(),
            environment_id: scope.environment_id().to_owned(),
            key: new.key,
            name: new.name,
            description: new.description,
            category_id: new.category_id,
            fe_permission: false,
            assignment_type: new.assignment_type.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        })
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    permission::Entity::insert_many(rows.iter().cloned().map(IntoActiveModel::into_active_model))
        .exec_without_returning(db)
        .await?;
    Ok(rows.into_iter().map(|row| to_domain(row, Vec::new())).collect())
}

/// Writes back a permission's editable fields; NOT_FOUND unless it is one of the environment.
pub async fn save(db: &impl ConnectionTrait, scope: &Scope, permission: &Permission) -> Result<()> {
    let updated = permission::Entity::update_many()
        .col_expr(permission::Column::Key, Expr::value(permission.key.clone()))
        .col_expr(permission::Column::Name, Expr::value(permission.name.clone()))
        .col_expr(
            permission::Column::Description,
            Expr::value(permission.description.clone()),
        )
        .col_expr(
            permission::Column::CategoryId,
            Expr::value(permission.category_id.clone()),
        )
        .col_expr(permission::Column::UpdatedAt, Expr::value(permission.updated_at))
        .filter(permission::Column::Id.eq(permission.id.as_str()))
        .filter(permission::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one(updated.rows_affected, Resource::Permission)
}

/// Deletes permission `id` of the environment; the roles that listed it lose it (cascade).
pub async fn delete(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<()> {
    let deleted = permission::Entity::delete_many()
        .filter(permission::Column::Id.eq(id))
        .filter(permission::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one(deleted.rows_affected, Resource::Permission)
}

/// Sets who may hold each of `ids` (permissions of the environment); returns how many changed.
pub async fn set_assignment_type(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[String],
    assignment_type: AssignmentType,
    now: DateTime<Utc>,
) -> Result<u64> {
    let updated = permission::Entity::update_many()
        .col_expr(
            permission::Column::AssignmentType,
            Expr::value(assignment_type.as_str()),
        )
        .col_expr(permission::Column::UpdatedAt, Expr::value(now))
        .filter(permission::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(permission::Column::Id.is_in(possible(ids)))
        .exec(db)
        .await?;
    Ok(updated.rows_affected)
}

/// Adds permission `permission_id` to each of `role_ids` that lacks it.
pub async fn add_to_roles(db: &impl ConnectionTrait, permission_id: &str, role_ids: &[String]) -> Result<()> {
    let links = role_ids.iter().map(|role_id| role_permission::ActiveModel {
        role_id: Set(role_id.clone()),
        permission_id: Set(permission_id.to_owned()),
    });
    role_permission::Entity::insert_many(links)
        .on_conflict_do_nothing_on([
            role_permission::Column::RoleId,
            role_permission::Column::PermissionId,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Every category of the environment, oldest first.
pub async fn categories(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<PermissionCategory>> {
    Ok(permission_category::Entity::find()
        .filter(permission_category::Column::EnvironmentId.eq(scope.environment_id()))
        .order_by_asc(permission_category::Column::CreatedAt)
        .order_by_asc(permission_category::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(category_to_domain)
        .collect())
}

/// Category `id` of the environment, or NOT_FOUND; locked until the transaction ends
/// (PostgreSQL) when `lock` is set.
pub async fn category(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: &str,
    lock: bool,
) -> Result<PermissionCategory> {
    if !super::may_exist(id) {
        return Err(Error::NotFound(Resource::PermissionCategory));
    }
    let mut query =
        permission_category::Entity::find_by_id((scope.environment_id().to_owned(), id.to_owned()));
    if lock {
        query = query.lock_exclusive();
    }
    query
        .first(db)
        .await?
        .map(category_to_domain)
        .ok_or(Error::NotFound(Resource::PermissionCategory))
}

/// Of `ids`, those that name no category of the environment; those found are share-locked until
/// the transaction ends (PostgreSQL).
pub async fn missing_categories(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[String],
) -> Result<Vec<String>> {
    let found: Vec<String> = permission_category::Entity::find()
        .select_only()
        .column(permission_category::Column::Id)
        .filter(permission_category::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(permission_category::Column::Id.is_in(possible(ids)))
        .lock_shared()
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.iter().filter(|id| !found.contains(id)).cloned().collect())
}

/// Stores a new category of the environment; ALREADY_EXISTS when its chosen id is taken.
pub async fn insert_category(
    db: &impl ConnectionTrait,
    scope: &Scope,
    new: NewCategory,
    now: DateTime<Utc>,
) -> Result<PermissionCategory> {
    let row = CategoryRow {
        id: new.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        environment_id: scope.environment_id().to_owned(),
        name: new.name,
        description: new.description,
        fe_category: false,
        created_at: now,
        updated_at: now,
    };
    Ok(category_to_domain(row.into_active_model().insert(db).await?))
}

/// Writes back a category's editable fields.
pub async fn save_category(
    db: &impl ConnectionTrait,
    scope: &Scope,
    category: &PermissionCategory,
) -> Result<()> {
    let updated = permission_category::Entity::update_many()
        .col_expr(
            permission_category::Column::Name,
            Expr::value(category.name.clone()),
        )
        .col_expr(
            permission_category::Column::Description,
            Expr::value(category.description.clone()),
        )
        .col_expr(
            permission_category::Column::UpdatedAt,
            Expr::value(category.updated_at),
        )
        .filter(permission_category::Column::Id.eq(category.id.as_str()))
        .filter(permission_category::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one(updated.rows_affected, Resource::PermissionCategory)
}

/// Whether any permission of the environment is listed under category `id`.
pub async fn category_in_use(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<bool> {
    Ok(permission::Entity::find()
        .select_only()
        .column(permission::Column::Id)
        .filter(permission::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(permission::Column::CategoryId.eq(id))
        .into_tuple::<String>()
        .first(db)
        .await?
        .is_some())
}

/// Deletes category `id` of the environment.
pub async fn delete_category(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<()> {
    let deleted = permission_category::Entity::delete_many()
        .filter(permission_category::Column::Id.eq(id))
        .filter(permission_category::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one(deleted.rows_affected, Resource::PermissionCategory)
}

/// Gives environment `environment_id` the built-in categories, permissions and roles (Admin with
/// every built-in permission, the first member's role; ReadOnly with the read ones, the default
/// role), in the caller's transaction. Called where an environment is created, and, once, for
/// each environment that existed before roles did (see [`seed_environments`]).
pub async fn seed(db: &impl ConnectionTrait, environment_id: &str, now: DateTime<Utc>) -> Result<()> {
    let categories: Vec<(&builtin::Category, CategoryRow)> = builtin::CATEGORIES
        .iter()
        .map(|category| {
            let row = CategoryRow {
                id: uuid::Uuid::new_v4().to_string(),
                environment_id: environment_id.to_owned(),
                name: category.name.to_owned(),
                description: Some(category.description.to_owned()),
                fe_category: true,
                created_at: now,
                updated_at: now,
            };
            (category, row)
        })
        .collect();
    let category_id = |key: &str| {
        builtin::category_of(key).and_then(|of| {
            categories
                .iter()
                .find(|(category, _)| category.prefix == of.prefix)
                .map(|(_, row)| row.id.clone())
        })
    };
    let permissions: Vec<PermissionRow> = builtin::PERMISSION_KEYS
        .iter()
        .map(|key| PermissionRow {
            id: uuid::Uuid::new_v4().to_string(),
            environment_id: environment_id.to_owned(),
            key: (*key).to_owned(),
            name: builtin::name_of(key),
            description: None,
            category_id: category_id(key),
            fe_permission: true,
            assignment_type: AssignmentType::Assignable.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        })
        .collect();
    let role = |key: &str, name: &str, level: i32, is_default: bool, first_user_role: bool| role::Model {
        id: uuid::Uuid::new_v4().to_string(),
        environment_id: environment_id.to_owned(),
        key: key.to_owned(),
        name: name.to_owned(),
        description: None,
        level,
        is_default,
        first_user_role,
        migrate_role: false,
        tenant_ref: None,
        created_at: now,
        updated_at: now,
        key_folded: fold(key),
        name_folded: fold(name),
        description_folded: String::new(),
    };
    let admin = role(builtin::ADMIN_ROLE, "Admin", 0, false, true);
    let read_only = role(builtin::READ_ONLY_ROLE, "Read only", 1, true, false);
    let mut links: Vec<role_permission::ActiveModel> = Vec::new();
    for row in &permissions {
        links.push(link(&admin.id, &row.id));
        if builtin::is_read(&row.key) {
            links.push(link(&read_only.id, &row.id));
        }
    }
    permission_category::Entity::insert_many(categories.into_iter().map(|(_, row)| row.into_active_model()))
        .exec_without_returning(db)
        .await?;
    permission::Entity::insert_many(permissions.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(db)
        .await?;
    role::Entity::insert_many([admin.into_active_model(), read_only.into_active_model()])
        .exec_without_returning(db)
        .await?;
    role_permission::Entity::insert_many(links)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn link(role_id: &str, permission_id: &str) -> role_permission::ActiveModel {
    role_permission::ActiveModel {
        role_id: Set(role_id.to_owned()),
        permission_id: Set(permission_id.to_owned()),
    }
}

/// Brings every environment's built-in permissions up to the catalog's release
/// ([`builtin::RELEASE`]): one that has no built-in category yet (made before roles and
/// permissions existed) is seeded in full; one seeded at an earlier release is given the keys
/// released since (see [`add_builtin`]). Built-in categories cannot be deleted, so an environment
/// seeded once is never seeded again, and built-in roles or permissions a vendor deleted stay
/// deleted. Runs in the transaction that applies the migrations (`store::migrate`), under its
/// lock. Answers how many environments were seeded, and how many were brought up to date.
pub async fn seed_environments(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(usize, usize)> {
    use super::entity::environment;
    let seeded = Query::select()
        .column(permission_category::Column::EnvironmentId)
        .from(permission_category::Entity)
        .and_where(Expr::col(permission_category::Column::FeCategory).eq(true))
        .to_owned();
    let behind: Vec<(String, i32, bool)> = environment::Entity::find()
        .select_only()
        .column(environment::Column::Id)
        .column(environment::Column::BuiltinRelease)
        .column_as(environment::Column::Id.in_subquery(seeded), "seeded")
        .filter(environment::Column::BuiltinRelease.lt(builtin::RELEASE))
        .into_tuple()
        .all(db)
        .await?;
    let (mut fresh, mut updated) = (0, 0);
    for (environment_id, release, seeded) in behind {
        if seeded {
            add_builtin(db, &environment_id, &builtin::added_after(release), now).await?;
            updated += 1;
        } else {
            seed(db, &environment_id, now).await?;
            fresh += 1;
        }
        environment::Entity::update_many()
            .col_expr(environment::Column::BuiltinRelease, Expr::value(builtin::RELEASE))
            .filter(environment::Column::Id.eq(environment_id.as_str()))
            .exec(db)
            .await?;
    }
    Ok((fresh, updated))
}

/// Gives environment `environment_id` the built-in permissions `keys` it does not have, in their
/// built-in categories (made when missing), and gives them to its built-in roles as [`seed`]
/// does: every one to Admin, the read ones to ReadOnly, where those roles still exist.
pub async fn add_builtin(
    db: &impl ConnectionTrait,
    environment_id: &str,
    keys: &[&str],
    now: DateTime<Utc>,
) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let present: Vec<String> = permission::Entity::find()
        .select_only()
        .column(permission::Column::Key)
        .filter(permission::Column::EnvironmentId.eq(environment_id))
        .filter(permission::Column::Key.is_in(keys.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let missing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !present.iter().any(|p| p == k))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut categories: HashMap<&str, String> = permission_category::Entity::find()
        .filter(permission_category::Column::EnvironmentId.eq(environment_id))
        .filter(permission_category::Column::FeCategory.eq(true))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| {
            let built_in = builtin::CATEGORIES.iter().find(|c| c.name == row.name)?;
            Some((built_in.prefix, row.id))
        })
        .collect();
    let roles: Vec<role::Model> = role::Entity::find()
        .filter(role::Column::EnvironmentId.eq(environment_id))
        .filter(role::Column::TenantRef.is_null())
        .filter(role::Column::Key.is_in([builtin::ADMIN_ROLE, builtin::READ_ONLY_ROLE]))
        .all(db)
        .await?;
    let mut links = Vec::new();
    for key in missing {
        let category_id = match builtin::category_of(key) {
            Some(category) => Some(match categories.get(category.prefix) {
                Some(id) => id.clone(),
                None => {
                    let row = CategoryRow {
                        id: uuid::Uuid::new_v4().to_string(),
                        environment_id: environment_id.to_owned(),
                        name: category.name.to_owned(),
                        description: Some(category.description.to_owned()),
                        fe_category: true,
                        created_at: now,
                        updated_at: now,
                    };
                    let id = row.id.clone();
                    row.into_active_model().insert(db).await?;
                    categories.insert(category.prefix, id.clone());
                    id
                }
            }),
            None => None,
        };
        let row = PermissionRow {
            id: uuid::Uuid::new_v4().to_string(),
            environment_id: environment_id.to_owned(),
            key: key.to_owned(),
            name: builtin::name_of(key),
            description: None,
            category_id,
            fe_permission: true,
            assignment_type: AssignmentType::Assignable.as_str().to_owned(),
            created_at: now,
            updated_at: now,
        };
        for role in &roles {
            if role.key == builtin::ADMIN_ROLE || builtin::is_read(key) {
                links.push(link(&role.id, &row.id));
            }
        }
        row.into_active_model().insert(db).await?;
    }
    if !links.is_empty() {
        role_permission::Entity::insert_many(links)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The ids among `ids` that could name a row: a lookup by any other finds nothing.
pub(crate) fn possible(ids: &[String]) -> Vec<String> {
    ids.iter().filter(|id| super::may_exist(id)).cloned().collect()
}

/// NOT_FOUND when a write meant for one row changed none.
pub(crate) fn one(rows_affected: u64, resource: Resource) -> Result<()> {
    if rows_affected == 0 {
        return Err(Error::NotFound(resource));
    }
    Ok(())
}

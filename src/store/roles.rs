//! Queries over roles, their permissions, the roles of memberships, and the access they add up to.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Set, Statement,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{
    First,
    entity::{membership_role, role, role_permission, tenant, user, user_tenant},
    permissions::{one, possible},
    tenants::contains_pattern,
};
use crate::domain::{
    Error, Resource,
    error::Result,
    field::fold,
    page::PageRequest,
    role::{Access, NewRole, Role, RoleFilter, RoleSort},
    scope::Scope,
    tenant::Tenant,
};

/// The stored form of a role.
pub type RoleRow = role::Model;

/// The columns of a user's access in a tenant, as SQL for a select list: `access_roles`
/// (role keys), `access_permissions` (keys of the permissions its roles grant, less the `NEVER`
/// ones; repeated when two roles grant one, as [`access_in`] makes them distinct cheaper than SQL), `always_permissions` (the environment's `ALWAYS` keys, when it is a member) and
/// `super_user_permissions` (every key but the `NEVER` ones, when it is a super-user and a member);
/// then `group_roles` and `group_permissions`, the same two of the roles of its groups in the
/// tenant, empty unless `$groups` (a bound boolean: the environment's groups configuration lets
/// groups' roles be inherited) is true.
/// `$user`, `$env` and `$tenant` are SQL expressions for the user's id, the environment's id and
/// the tenant's caller-facing id; `$open`, `$mid` and `$close` wrap each list as an aggregate of
/// the backend. Each list is a few index seeks from the membership, whatever the number of roles.
macro_rules! access_columns {
    ($open:literal, $mid:literal, $close:literal, $user:literal, $env:literal, $tenant:literal, $groups:literal) => {
        concat!(
            $open,
            "r.key",
            $mid,
            "membership_roles mr JOIN roles r ON r.id = mr.role_id WHERE mr.user_id = ",
            $user,
            " AND mr.tenant_ref = (SELECT t.id FROM tenants t WHERE t.environment_id = ",
            $env,
            " AND t.tenant_id = ",
            $tenant,
            ")",
            $close,
            " AS access_roles, ",
            $open,
            "p.key",
            $mid,
            "membership_roles mr JOIN role_permissions rp ON rp.role_id = mr.role_id \
             JOIN permissions p ON p.id = rp.permission_id WHERE mr.user_id = ",
            $user,
            " AND mr.tenant_ref = (SELECT t.id FROM tenants t WHERE t.environment_id = ",
            $env,
            " AND t.tenant_id = ",
            $tenant,
            ") AND p.assignment_type <> 'NEVER'",
            $close,
            " AS access_permissions, ",
            $open,
            "p.key",
            $mid,
            "permissions p WHERE p.environment_id = ",
            $env,
            " AND p.assignment_type = 'ALWAYS' AND EXISTS (SELECT 1 FROM user_tenants ut \
             WHERE ut.user_id = ",
            $user,
            " AND ut.tenant_ref = (SELECT t.id FROM tenants t WHERE t.environment_id = ",
            $env,
            " AND t.tenant_id = ",
            $tenant,
            "))",
            $close,
            " AS always_permissions, ",
            // A super-user holds every permission but the `NEVER` ones in each tenant it is a
            // member of, whatever its roles. The condition names no permission column, so it is
            // decided once per statement, before any permission is read.
            $open,
            "p.key",
            $mid,
            "permissions p WHERE EXISTS (SELECT 1 FROM users su JOIN user_tenants ut \
             ON ut.user_id = su.id WHERE su.id = ",
            $user,
            " AND su.super_user AND ut.tenant_ref = (SELECT t.id FROM tenants t \
             WHERE t.environment_id = ",
            $env,
            " AND t.tenant_id = ",
            $tenant,
            ")) AND p.environment_id = ",
            $env,
            " AND p.assignment_type <> 'NEVER'",
            $close,
            " AS super_user_permissions, ",
            // Groups: the roles of the membership's groups, when the configuration says so.
            $open,
            "r.key",
            $mid,
            "group_members gm JOIN group_roles gr ON gr.group_id = gm.group_id \
             JOIN roles r ON r.id = gr.role_id WHERE ",
            $groups,
            " AND gm.user_id = ",
            $user,
            " AND gm.tenant_ref = (SELECT t.id FROM tenants t WHERE t.environment_id = ",
            $env,
            " AND t.tenant_id = ",
            $tenant,
            ")",
            $close,
            " AS group_roles, ",
            $open,
            "p.key",
            $mid,
            "group_members gm JOIN group_roles gr ON gr.group_id = gm.group_id \
             JOIN role_permissions rp ON rp.role_id = gr.role_id \
             JOIN permissions p ON p.id = rp.permission_id WHERE ",
            $groups,
            " AND gm.user_id = ",
            $user,
            " AND gm.tenant_ref = (SELECT t.id FROM tenants t WHERE t.environment_id = ",
            $env,
            " AND t.tenant_id = ",
            $tenant,
            ") AND p.assignment_type <> 'NEVER'",
            $close,
            " AS group_permissions"
        )
    };
}

/// [`access_columns!`] for SQLite: JSON arrays.
macro_rules! sqlite_access_columns {
    ($user:literal, $env:literal, $tenant:literal, $groups:literal) => {
        $crate::store::roles::access_columns!(
            "(SELECT json_group_array(",
            ") FROM ",
            ")",
            $user,
            $env,
            $tenant,
            $groups
        )
    };
}

/// [`access_columns!`] for PostgreSQL: text arrays.
macro_rules! postgres_access_columns {
    ($user:literal, $env:literal, $tenant:literal, $groups:literal) => {
        $crate::store::roles::access_columns!("ARRAY(SELECT ", " FROM ", ")", $user, $env, $tenant, $groups)
    };
}

pub(crate) use {access_columns, postgres_access_columns, sqlite_access_columns};

/// The access columns of [`access_columns!`] in a row that `backend` returned.
pub(crate) fn access_in(row: &QueryResult, backend: DbBackend) -> Result<Access> {
    let column = |name: &str| -> Result<Vec<String>> {
        if backend == DbBackend::Postgres {
            return Ok(row.try_get("", name)?);
        }
        let text: Option<String> = row.try_get("", name)?;
        match text {
            Some(text) => serde_json::from_str(&text).map_err(Error::internal),
            None => Ok(Vec::new()),
        }
    };
    let mut roles = column("access_roles")?;
    let mut permissions = column("access_permissions")?;
    permissions.extend(column("always_permissions")?);
    permissions.extend(column("super_user_permissions")?);
    roles.extend(column("group_roles")?);
    permissions.extend(column("group_permissions")?);
    Ok(Access::from_keys(roles, permissions))
}

/// What user `user_id` of the scope may do in tenant `tenant_id` (caller-facing id), with the
/// roles of its groups there when `group_roles` (see [`access_columns!`]): one statement. Nothing
/// for a user that is not a member there.
pub async fn access(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_id: &str,
    tenant_id: &str,
    group_roles: bool,
) -> Result<Access> {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        concat!("SELECT ", postgres_access_columns!("$1", "$2", "$3", "$4"))
    } else {
        concat!("SELECT ", sqlite_access_columns!("$1", "$2", "$3", "$4"))
    };
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [
            user_id.into(),
            scope.environment_id().into(),
            tenant_id.into(),
            group_roles.into(),
        ],
    );
    match db.query_one_raw(statement).await? {
        Some(row) => access_in(&row, backend),
        None => Ok(Access::default()),
    }
}

/// Role rows completed with their permission ids and their tenants' caller-facing ids.
pub async fn complete(db: &impl ConnectionTrait, rows: Vec<RoleRow>) -> Result<Vec<Role>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let links: Vec<(String, String)> = role_permission::Entity::find()
        .select_only()
        .column(role_permission::Column::RoleId)
        .column(role_permission::Column::PermissionId)
        .filter(role_permission::Column::RoleId.is_in(rows.iter().map(|r| r.id.clone())))
        .order_by_asc(role_permission::Column::PermissionId)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_role: HashMap<String, Vec<String>> = HashMap::new();
    for (role_id, permission_id) in links {
        by_role.entry(role_id).or_default().push(permission_id);
    }
    let refs: Vec<String> = rows.iter().filter_map(|r| r.tenant_ref.clone()).collect();
    let tenant_ids: HashMap<String, String> = if refs.is_empty() {
        HashMap::new()
    } else {
        tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .column(tenant::Column::TenantId)
            .filter(tenant::Column::Id.is_in(refs))
            .into_tuple::<(String, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|row| Role {
            permission_ids: by_role.get(&row.id).cloned().unwrap_or_default(),
            tenant_id: row.tenant_ref.as_ref().and_then(|r| tenant_ids.get(r).cloned()),
            id: row.id,
            key: row.key,
            name: row.name,
            description: row.description,
            level: row.level,
            is_default: row.is_default,
            first_user_role: row.first_user_role,
            migrate_role: row.migrate_role,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect())
}

/// The roles of the environment visible in tenant `tenant_ref` (a row id): the environment's own,
/// and, when given, the tenant's. Oldest first, then by key.
pub async fn visible(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: Option<&str>,
) -> Result<Vec<RoleRow>> {
    let mut of = Condition::any().add(role::Column::TenantRef.is_null());
    if let Some(tenant_ref) = tenant_ref {
        of = of.add(role::Column::TenantRef.eq(tenant_ref));
    }
    Ok(role::Entity::find()
        .filter(role::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(of)
        .order_by_asc(role::Column::CreatedAt)
        .order_by_asc(role::Column::Key)
        .all(db)
        .await?)
}

/// Which roles a listing is over.
#[derive(Debug, Clone, Copy)]
pub enum Among<'a> {
    /// Those visible in tenant `tenant_ref` (a row id), as [`visible`] lists them.
    Visible(Option<&'a str>),
    /// The own roles of the tenants `tenant_refs` (row ids).
    OfTenants(&'a [String]),
}

/// How many permissions a role holds, for an ORDER BY over `roles`: a column that triggers on
/// `role_permissions` keep exact, indexed for the listing (the other counts are counted per page).
const PERMISSION_COUNT: &str = "roles.permission_count";
/// How many memberships hold a role, for an ORDER BY over `roles`.
const MEMBER_COUNT: &str = "(SELECT COUNT(*) FROM membership_roles mr WHERE mr.role_id = roles.id)";
/// How many groups hold a role, for an ORDER BY over `roles` (seeks `ix_group_roles_role`).
const GROUP_COUNT: &str = "(SELECT COUNT(*) FROM group_roles gr WHERE gr.role_id = roles.id)";

/// One page of the roles `among` that match `filter` (its text in the folded key, name or
/// description; its levels), in its order with ties broken by id, and how many match in all:
/// filtered, sorted and paged by the database, so a page costs the same among ten roles or ten
/// thousand.
pub async fn page(
    db: &impl ConnectionTrait,
    scope: &Scope,
    among: Among<'_>,
    filter: &RoleFilter,
    page: PageRequest,
) -> Result<(Vec<RoleRow>, u64)> {
    let mut query = role::Entity::find().filter(role::Column::EnvironmentId.eq(scope.environment_id()));
    query = match among {
        Among::Visible(tenant_ref) => {
            let mut of = Condition::any().add(role::Column::TenantRef.is_null());
            if let Some(tenant_ref) = tenant_ref {
                of = of.add(role::Column::TenantRef.eq(tenant_ref));
            }
            query.filter(of)
        }
        Among::OfTenants(tenant_refs) => query.filter(role::Column::TenantRef.is_in(possible(tenant_refs))),
    };
    if let Some(text) = &filter.text {
        let pattern = contains_pattern(text);
        query = query.filter(
            Condition::any()
                .add(Expr::col(role::Column::KeyFolded).like(pattern.clone()))
                .add(Expr::col(role::Column::NameFolded).like(pattern.clone()))
                .add(Expr::col(role::Column::DescriptionFolded).like(pattern)),
        );
    }
    if !filter.levels.is_empty() {
        query = query.filter(role::Column::Level.is_in(filter.levels.iter().copied()));
    }
    let total = query.clone().count(db).await?;
    let order = super::sort_order(filter.order);
    let query = match filter.sort {
        RoleSort::CreatedAt => query.order_by(role::Column::CreatedAt, order.clone()),
        RoleSort::UpdatedAt => query.order_by(role::Column::UpdatedAt, order.clone()),
        RoleSort::Key => query.order_by(role::Column::Key, order.clone()),
        RoleSort::Name => query.order_by(role::Column::NameFolded, order.clone()),
        RoleSort::Description => query.order_by(role::Column::DescriptionFolded, order.clone()),
        RoleSort::IsDefault => query.order_by(role::Column::IsDefault, order.clone()),
        RoleSort::FirstUserRole => query.order_by(role::Column::FirstUserRole, order.clone()),
        RoleSort::Level => query.order_by(role::Column::Level, order.clone()),
        RoleSort::Permissions => query.order_by(Expr::cust(PERMISSION_COUNT), order.clone()),
        RoleSort::UserTenants => query.order_by(Expr::cust(MEMBER_COUNT), order.clone()),
        RoleSort::Groups => query.order_by(Expr::cust(GROUP_COUNT), order.clone()),
    };
    let rows = query
        .order_by(role::Column::Id, order)
        .offset(page.offset)
        .limit(page.limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// The roles of the environment that belong to one of the tenants `tenant_refs` (row ids).
pub async fn of_tenants(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_refs: &[String],
) -> Result<Vec<RoleRow>> {
    Ok(role::Entity::find()
        .filter(role::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(role::Column::TenantRef.is_in(possible(tenant_refs)))
        .order_by_asc(role::Column::CreatedAt)
        .order_by_asc(role::Column::Key)
        .all(db)
        .await?)
}

/// The caller-facing ids of the tenants that have roles of their own, sorted.
pub async fn tenants_with_roles(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<String>> {
    let query = Query::select()
        .distinct()
        .column((tenant::Entity, tenant::Column::TenantId))
        .from(role::Entity)
        .inner_join(
            tenant::Entity,
            Expr::col((tenant::Entity, tenant::Column::Id)).equals((role::Entity, role::Column::TenantRef)),
        )
        .and_where(Expr::col((role::Entity, role::Column::EnvironmentId)).eq(scope.environment_id()))
        .order_by((tenant::Entity, tenant::Column::TenantId), sea_orm::Order::Asc)
        .to_owned();
    db.query_all(&query)
        .await?
        .iter()
        .map(|row| Ok(row.try_get::<String>("", "tenant_id")?))
        .collect()
}

/// Role `id` of the environment, or NOT_FOUND; locked until the transaction ends (PostgreSQL)
/// when `lock` is set.
pub async fn get_row(db: &impl ConnectionTrait, scope: &Scope, id: &str, lock: bool) -> Result<RoleRow> {
    if !super::may_exist(id) {
        return Err(Error::NotFound(Resource::Role));
    }
    let mut query =
        role::Entity::find_by_id(id).filter(role::Column::EnvironmentId.eq(scope.environment_id()));
    if lock {
        query = query.lock_exclusive();
    }
    query.first(db).await?.ok_or(Error::NotFound(Resource::Role))
}

/// The roles of the environment among `ids`; share-locked until the transaction ends
/// (PostgreSQL) when `lock` is set, so none is deleted under a write that refers to it.
pub async fn rows_by_ids(
    db: &impl ConnectionTrait,
    scope: &Scope,
    ids: &[String],
    lock: bool,
) -> Result<Vec<RoleRow>> {
    let mut query = role::Entity::find()
        .filter(role::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(role::Column::Id.is_in(possible(ids)));
    if lock {
        query = query.lock_shared();
    }
    Ok(query.all(db).await?)
}

/// Stores a new role of the environment (of tenant `tenant_ref` when given); ALREADY_EXISTS when
/// its key is taken.
pub async fn insert(
    db: &impl ConnectionTrait,
    scope: &Scope,
    new: NewRole,
    tenant_ref: Option<String>,
    now: DateTime<Utc>,
) -> Result<RoleRow> {
    let row = RoleRow {
        id: uuid::Uuid::new_v4().to_string(),
        environment_id: scope.environment_id().to_owned(),
        key_folded: fold(&new.key),
        name_folded: fold(&new.name),
        description_folded: fold(new.description.as_deref().unwrap_or_default()),
        key: new.key,
        name: new.name,
        description: new.description,
        level: new.level,
        is_default: new.is_default,
        first_user_role: new.first_user_role,
        migrate_role: new.migrate_role,
        tenant_ref,
        created_at: now,
        updated_at: now,
    };
    Ok(row.into_active_model().insert(db).await?)
}

/// Writes a role's row back; NOT_FOUND unless it is one of the environment.
pub async fn save(db: &impl ConnectionTrait, scope: &Scope, row: &RoleRow) -> Result<()> {
    let updated = role::Entity::update_many()
        .col_expr(role::Column::Key, Expr::value(row.key.clone()))
        .col_expr(role::Column::Name, Expr::value(row.name.clone()))
        .col_expr(role::Column::Description, Expr::value(row.description.clone()))
        .col_expr(role::Column::KeyFolded, Expr::value(fold(&row.key)))
        .col_expr(role::Column::NameFolded, Expr::value(fold(&row.name)))
        .col_expr(
            role::Column::DescriptionFolded,
            Expr::value(fold(row.description.as_deref().unwrap_or_default())),
        )
        .col_expr(role::Column::Level, Expr::value(row.level))
        .col_expr(role::Column::IsDefault, Expr::value(row.is_default))
        .col_expr(role::Column::FirstUserRole, Expr::value(row.first_user_role))
        .col_expr(role::Column::MigrateRole, Expr::value(row.migrate_role))
        .col_expr(role::Column::TenantRef, Expr::value(row.tenant_ref.clone()))
        .col_expr(role::Column::UpdatedAt, Expr::value(row.updated_at))
        .filter(role::Column::Id.eq(row.id.as_str()))
        .filter(role::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one(updated.rows_affected, Resource::Role)
}

/// Deletes role `id` of the environment; its permissions and assignments go with it (cascade).
pub async fn delete(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<()> {
    let deleted = role::Entity::delete_many()
        .filter(role::Column::Id.eq(id))
        .filter(role::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one(deleted.rows_affected, Resource::Role)
}

/// Deletes the roles of tenant `tenant_ref` (a row id), with their assignments: at the tenant's
/// deletion, which keeps its row.
pub async fn delete_of_tenant(db: &impl ConnectionTrait, scope: &Scope, tenant_ref: &str) -> Result<()> {
    role::Entity::delete_many()
        .filter(role::Column::TenantRef.eq(tenant_ref))
        .filter(role::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    Ok(())
}

/// Makes `permission_ids` the permissions of role `role_id`, replacing what it had.
pub async fn set_permissions(
    db: &impl ConnectionTrait,
    role_id: &str,
    permission_ids: &[String],
) -> Result<()> {
    role_permission::Entity::delete_many()
        .filter(role_permission::Column::RoleId.eq(role_id))
        .exec(db)
        .await?;
    let links = permission_ids
        .iter()
        .map(|permission_id| role_permission::ActiveModel {
            role_id: Set(role_id.to_owned()),
            permission_id: Set(permission_id.clone()),
        });
    role_permission::Entity::insert_many(links)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Whether user `user_id` is a member of tenant `tenant_ref` (a row id).
pub async fn is_member(db: &impl ConnectionTrait, user_id: &str, tenant_ref: &str) -> Result<bool> {
    Ok(
        user_tenant::Entity::find_by_id((user_id.to_owned(), tenant_ref.to_owned()))
            .select_only()
            .column(user_tenant::Column::UserId)
            .into_tuple::<String>()
            .first(db)
            .await?
            .is_some(),
    )
}

/// Gives the membership of `user_id` in `tenant_ref` each of `role_ids` it lacks. Concurrent
/// assignments of one role make one row: a second insert of the same key does nothing.
pub async fn assign(
    db: &impl ConnectionTrait,
    user_id: &str,
    tenant_ref: &str,
    role_ids: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let rows = role_ids.iter().map(|role_id| membership_role::ActiveModel {
        user_id: Set(user_id.to_owned()),
        tenant_ref: Set(tenant_ref.to_owned()),
        role_id: Set(role_id.clone()),
        created_at: Set(now),
    });
    membership_role::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            membership_role::Column::UserId,
            membership_role::Column::TenantRef,
            membership_role::Column::RoleId,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Takes `role_ids` from the membership of `user_id` in `tenant_ref`.
pub async fn unassign(
    db: &impl ConnectionTrait,
    user_id: &str,
    tenant_ref: &str,
    role_ids: &[String],
) -> Result<()> {
    membership_role::Entity::delete_many()
        .filter(membership_role::Column::UserId.eq(user_id))
        .filter(membership_role::Column::TenantRef.eq(tenant_ref))
        .filter(membership_role::Column::RoleId.is_in(possible(role_ids)))
        .exec(db)
        .await?;
    Ok(())
}

/// The roles of each of `user_ids` in tenant `tenant_ref`, by key.
pub async fn of_members(
    db: &impl ConnectionTrait,
    user_ids: &[String],
    tenant_ref: &str,
) -> Result<HashMap<String, Vec<RoleRow>>> {
    let rows: Vec<(membership_role::Model, Option<RoleRow>)> = membership_role::Entity::find()
        .filter(membership_role::Column::UserId.is_in(possible(user_ids)))
        .filter(membership_role::Column::TenantRef.eq(tenant_ref))
        .find_also_related(role::Entity)
        .order_by_asc(role::Column::Key)
        .all(db)
        .await?;
    let mut by_user: HashMap<String, Vec<RoleRow>> = HashMap::new();
    for (assignment, role) in rows {
        if let Some(role) = role {
            by_user.entry(assignment.user_id).or_default().push(role);
        }
    }
    Ok(by_user)
}

/// The roles each of `user_ids` holds itself in each of its tenants of the environment: by
/// user, then by the tenant's caller-facing id; each list by key. Two statements.
pub async fn of_users_everywhere(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_ids: &[String],
) -> Result<HashMap<String, HashMap<String, Vec<RoleRow>>>> {
    let rows: Vec<(membership_role::Model, Option<RoleRow>)> = membership_role::Entity::find()
        .filter(membership_role::Column::UserId.is_in(possible(user_ids)))
        .find_also_related(role::Entity)
        .filter(role::Column::EnvironmentId.eq(scope.environment_id()))
        .order_by_asc(role::Column::Key)
        .all(db)
        .await?;
    let refs: Vec<&str> = rows.iter().map(|(held, _)| held.tenant_ref.as_str()).collect();
    let tenant_ids: HashMap<String, String> = if refs.is_empty() {
        HashMap::new()
    } else {
        tenant::Entity::find()
            .select_only()
            .column(tenant::Column::Id)
            .column(tenant::Column::TenantId)
            .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
            .filter(tenant::Column::Id.is_in(refs))
            .into_tuple::<(String, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let mut by_user: HashMap<String, HashMap<String, Vec<RoleRow>>> = HashMap::new();
    for (held, role) in rows {
        if let (Some(role), Some(tenant_id)) = (role, tenant_ids.get(&held.tenant_ref)) {
            by_user
                .entry(held.user_id)
                .or_default()
                .entry(tenant_id.clone())
                .or_default()
                .push(role);
        }
    }
    Ok(by_user)
}

/// First key of the advisory lock that joiners of one tenant take (the second is the tenant's).
const FIRST_MEMBER_LOCK: i32 = 0x7369_6701;

/// Gives a new membership of `user_id` in `tenant` its first roles, in the caller's transaction:
/// the tenant's first member gets the roles marked for first users (the default roles when none
/// is), any other member the default roles; of the roles visible in the tenant. Joiners of one
/// tenant take turns until their transactions end (PostgreSQL; SQLite has one writer), so of two
/// first members joining at once, the later one sees the earlier and only one becomes the
/// tenant's first user.
pub async fn grant_initial(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_id: &str,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        // An advisory lock, not a row lock: the caller holds the tenant's row FOR SHARE (and the
        // new membership's foreign key FOR KEY SHARE), which two joiners could not both
        // upgrade without a deadlock. Two-key advisory locks never meet the one-key ones of
        // `store::Lock`.
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            [FIRST_MEMBER_LOCK.into(), tenant.id.as_str().into()],
        ))
        .await?;
    }
    let others = user_tenant::Entity::find()
        .select_only()
        .column(user_tenant::Column::UserId)
        .filter(user_tenant::Column::TenantRef.eq(tenant.id.as_str()))
        .filter(user_tenant::Column::UserId.ne(user_id))
        .into_tuple::<String>()
        .first(db)
        .await?;
    let visible = role::Entity::find()
        .filter(role::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(
            Condition::any()
                .add(role::Column::TenantRef.is_null())
                .add(role::Column::TenantRef.eq(tenant.id.as_str())),
        )
        .filter(
            Condition::any()
                .add(role::Column::IsDefault.eq(true))
                .add(role::Column::FirstUserRole.eq(true)),
        )
        .all(db)
        .await?;
    let first_user_roles: Vec<String> = visible
        .iter()
        .filter(|r| r.first_user_role)
        .map(|r| r.id.clone())
        .collect();
    let roles: Vec<String> = if others.is_none() && !first_user_roles.is_empty() {
        first_user_roles
    } else {
        visible
            .iter()
            .filter(|r| r.is_default)
            .map(|r| r.id.clone())
            .collect()
    };
    assign(db, user_id, &tenant.id, &roles, now).await
}

/// Gives role `role` to every membership that may hold it (of its tenant, when it has one) and
/// lacks it: what `migrateRole` asks for.
pub async fn give_to_all_members(
    db: &impl ConnectionTrait,
    scope: &Scope,
    role: &RoleRow,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut members = Query::select()
        .column((user_tenant::Entity, user_tenant::Column::UserId))
        .column((user_tenant::Entity, user_tenant::Column::TenantRef))
        .expr(Expr::val(role.id.as_str()))
        .expr(Expr::val(now))
        .from(user_tenant::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((user_tenant::Entity, user_tenant::Column::UserId)),
        )
        .and_where(Expr::col((user::Entity, user::Column::EnvironmentId)).eq(scope.environment_id()))
        .to_owned();
    if let Some(tenant_ref) = &role.tenant_ref {
        members.and_where(
            Expr::col((user_tenant::Entity, user_tenant::Column::TenantRef)).eq(tenant_ref.as_str()),
        );
    }
    let insert = Query::insert()
        .into_table(membership_role::Entity)
        .columns([
            membership_role::Column::UserId,
            membership_role::Column::TenantRef,
            membership_role::Column::RoleId,
            membership_role::Column::CreatedAt,
        ])
        .select_from(members)
        .map_err(Error::internal)?
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                membership_role::Column::UserId,
                membership_role::Column::TenantRef,
                membership_role::Column::RoleId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
}

/// Takes role `role_id` from every membership outside tenant `tenant_ref` (a row id): a role
/// moved to a tenant stays only with that tenant's members.
pub async fn unassign_outside(db: &impl ConnectionTrait, role_id: &str, tenant_ref: &str) -> Result<()> {
    membership_role::Entity::delete_many()
        .filter(membership_role::Column::RoleId.eq(role_id))
        .filter(membership_role::Column::TenantRef.ne(tenant_ref))
        .exec(db)
        .await?;
    Ok(())
}

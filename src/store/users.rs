//! Queries over users and their memberships.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationDef, RelationTrait, Select, UpdateMany,
    sea_query::{Expr, ExprTrait, Query, SelectStatement, SubQueryStatement},
};

use super::{
    First,
    entity::{tenant, user, user_tenant},
    tenants::contains_pattern,
};
use crate::domain::{
    Resource,
    error::{Error, Result},
    field::fold,
    page::{Order, Page, PageRequest},
    scope::Scope,
    tenant::Tenant,
    user::{Membership, Phrases, User, UserCursor, UserFilter, UserProfile, UserSort},
};

/// The stored form of a user.
pub type UserRow = user::Model;

pub(crate) fn to_domain(row: UserRow, tenants: Vec<Membership>) -> User {
    User {
        id: row.id,
        email: row.email,
        profile: UserProfile {
            name: row.name,
            profile_picture_url: row.profile_picture_url,
            phone_number: row.phone_number,
            metadata: row.metadata,
            vendor_metadata: row.vendor_metadata,
            external_id: row.external_id,
            mfa_bypass: row.mfa_bypass,
        },
        provider: row.provider,
        verified: row.verified,
        activated: row.activated,
        locked: row.locked,
        super_user: row.super_user,
        invisible: row.invisible,
        has_password: row.password_hash.is_some(),
        active_tenant_id: row.active_tenant_id,
        tenants,
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_login: row.last_login,
    }
}

fn membership_join() -> RelationDef {
    user_tenant::Relation::Tenant.def()
}

/// Memberships of each of `user_ids`, oldest first.
async fn memberships(
    db: &impl ConnectionTrait,
    user_ids: Vec<String>,
) -> Result<HashMap<String, Vec<Membership>>> {
    let rows: Vec<(String, String, DateTime<Utc>)> = user_tenant::Entity::find()
        .select_only()
        .column(user_tenant::Column::UserId)
        .column(tenant::Column::TenantId)
        .column(user_tenant::Column::CreatedAt)
        .join(JoinType::InnerJoin, membership_join())
        .filter(user_tenant::Column::UserId.is_in(user_ids))
        .order_by_asc(user_tenant::Column::CreatedAt)
        .order_by_asc(tenant::Column::TenantId)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_user: HashMap<String, Vec<Membership>> = HashMap::new();
    for (user_id, tenant_id, created_at) in rows {
        by_user.entry(user_id).or_default().push(Membership {
            tenant_id,
            created_at,
        });
    }
    Ok(by_user)
}

/// A user row completed with its memberships.
pub async fn complete(db: &impl ConnectionTrait, row: UserRow) -> Result<User> {
    with_memberships(db, vec![row])
        .await?
        .pop()
        .ok_or(Error::NotFound(Resource::User))
}

async fn with_memberships(db: &impl ConnectionTrait, rows: Vec<UserRow>) -> Result<Vec<User>> {
    let mut by_user = memberships(db, rows.iter().map(|r| r.id.clone()).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let tenants = by_user.remove(&row.id).unwrap_or_default();
            to_domain(row, tenants)
        })
        .collect())
}

/// The row of user `id` in the environment.
pub async fn find_row(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<Option<UserRow>> {
    if !super::may_exist(id) {
        return Ok(None);
    }
    Ok(user::Entity::find_by_id(id)
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
        .first(db)
        .await?)
}

/// The row of user `id`, locked until the transaction ends (PostgreSQL), or NOT_FOUND.
pub async fn lock_row(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<UserRow> {
    if !super::may_exist(id) {
        return Err(Error::NotFound(Resource::User));
    }
    user::Entity::find_by_id(id)
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
        .lock_exclusive()
        .first(db)
        .await?
        .ok_or(Error::NotFound(Resource::User))
}

/// The row of user `id`, or NOT_FOUND.
pub async fn get_row(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<UserRow> {
    find_row(db, scope, id)
        .await?
        .ok_or(Error::NotFound(Resource::User))
}

/// User `id` with its memberships.
pub async fn find(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<Option<User>> {
    match find_row(db, scope, id).await? {
        Some(row) => Ok(with_memberships(db, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// User `id` with its memberships, or NOT_FOUND.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<User> {
    find(db, scope, id).await?.ok_or(Error::NotFound(Resource::User))
}

/// The row of the user with this (lower-case) email.
pub async fn find_row_by_email(
    db: &impl ConnectionTrait,
    scope: &Scope,
    email: &str,
) -> Result<Option<UserRow>> {
    Ok(user::Entity::find()
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(user::Column::Email.eq(email))
        .first(db)
        .await?)
}

/// The user with this (lower-case) email, with its memberships.
pub async fn find_by_email(db: &impl ConnectionTrait, scope: &Scope, email: &str) -> Result<Option<User>> {
    match find_row_by_email(db, scope, email).await? {
        Some(row) => Ok(with_memberships(db, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// Stores a new user row in the scope's environment; returns the row as stored.
pub async fn insert(db: &impl ConnectionTrait, scope: &Scope, mut row: UserRow) -> Result<UserRow> {
    scope.environment_id().clone_into(&mut row.environment_id);
    row.name_folded = folded_name(row.name.as_deref());
    Ok(row.into_active_model().insert(db).await?)
}

/// Writes the editable profile of user `id` back; NOT_FOUND unless it is a user of the scope.
pub async fn save_profile(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: &str,
    profile: UserProfile,
    now: DateTime<Utc>,
) -> Result<()> {
    let update = user::Entity::update_many()
        .col_expr(
            user::Column::NameFolded,
            Expr::value(folded_name(profile.name.as_deref())),
        )
        .col_expr(user::Column::Name, Expr::value(profile.name))
        .col_expr(
            user::Column::ProfilePictureUrl,
            Expr::value(profile.profile_picture_url),
        )
        .col_expr(user::Column::PhoneNumber, Expr::value(profile.phone_number))
        .col_expr(user::Column::Metadata, Expr::value(profile.metadata))
        .col_expr(user::Column::VendorMetadata, Expr::value(profile.vendor_metadata))
        .col_expr(user::Column::ExternalId, Expr::value(profile.external_id))
        .col_expr(user::Column::MfaBypass, Expr::value(profile.mfa_bypass))
        .col_expr(user::Column::UpdatedAt, Expr::value(now));
    one_user(scoped(update, scope, id).exec(db).await?.rows_affected)
}

/// Sets one of a user's flags; NOT_FOUND unless it is a user of the scope.
pub async fn set_flag(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: &str,
    flag: user::Column,
    value: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let update = user::Entity::update_many()
        .col_expr(flag, Expr::value(value))
        .col_expr(user::Column::UpdatedAt, Expr::value(now));
    one_user(scoped(update, scope, id).exec(db).await?.rows_affected)
}

/// Deletes user `id` of the scope; memberships and tokens go with it.
pub async fn delete(db: &impl ConnectionTrait, scope: &Scope, id: &str) -> Result<()> {
    let deleted = user::Entity::delete_many()
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    one_user(deleted.rows_affected)
}

/// What a user's name is matched and sorted by: folded, and empty when there is none.
fn folded_name(name: Option<&str>) -> String {
    name.map(fold).unwrap_or_default()
}

/// `update` narrowed to user `id` of the scope.
fn scoped(update: UpdateMany<user::Entity>, scope: &Scope, id: &str) -> UpdateMany<user::Entity> {
    update
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
}

/// NOT_FOUND when a write meant for one user changed none.
fn one_user(rows_affected: u64) -> Result<()> {
    if rows_affected == 0 {
        return Err(Error::NotFound(Resource::User));
    }
    Ok(())
}

/// Makes user `user_id` of the scope a member of `tenant` (read in the same scope), in the
/// caller's transaction, with `roles` (ids the caller checked may be held in the tenant), or,
/// when `None`, its first roles (see [`super::roles::grant_initial`]); ALREADY_EXISTS if it
/// already is, NOT_FOUND if the scope has no such user.
pub async fn add_membership(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_id: &str,
    tenant: &Tenant,
    roles: Option<&[String]>,
    now: DateTime<Utc>,
) -> Result<()> {
    let user_of_scope = Query::select()
        .column(user::Column::Id)
        .expr(Expr::val(tenant.id.as_str()))
        .expr(Expr::val(now))
        .column(user::Column::CreatedAt)
        .from(user::Entity)
        .and_where(Expr::col(user::Column::Id).eq(user_id))
        .and_where(Expr::col(user::Column::EnvironmentId).eq(scope.environment_id()))
        .to_owned();
    let insert = Query::insert()
        .into_table(user_tenant::Entity)
        .columns([
            user_tenant::Column::UserId,
            user_tenant::Column::TenantRef,
            user_tenant::Column::CreatedAt,
            user_tenant::Column::UserCreatedAt,
        ])
        .select_from(user_of_scope)
        .map_err(Error::internal)?
        .to_owned();
    let inserted = db.execute(&insert).await?;
    one_user(inserted.rows_affected())?;
    match roles {
        Some(roles) => super::roles::assign(db, user_id, &tenant.id, roles, now).await,
        None => super::roles::grant_initial(db, scope, user_id, tenant, now).await,
    }
}

/// Ends the membership of user `user_id` of the scope in `tenant`; false if there was none.
pub async fn remove_membership(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_id: &str,
    tenant: &Tenant,
) -> Result<bool> {
    let result = user_tenant::Entity::delete_many()
        .filter(user_tenant::Column::UserId.eq(user_id))
        .filter(user_tenant::Column::TenantRef.eq(tenant.id.as_str()))
        .filter(user_tenant::Column::UserId.in_subquery(users_of(scope)))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The ids of the scope's users, as a subquery.
pub(crate) fn users_of(scope: &Scope) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(user::Column::Id)
        .from(user::Entity)
        .and_where(Expr::col(user::Column::EnvironmentId).eq(scope.environment_id()))
        .to_owned()
}

/// For users of the environment whose current tenant was `left`, and only `user_id` when given,
/// points the current tenant at their oldest remaining membership, or at none.
pub async fn repoint_active_tenants(
    db: &impl ConnectionTrait,
    scope: &Scope,
    left: &str,
    user_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let oldest = Query::select()
        .column((tenant::Entity, tenant::Column::TenantId))
        .from(user_tenant::Entity)
        .inner_join(
            tenant::Entity,
            Expr::col((tenant::Entity, tenant::Column::Id))
                .equals((user_tenant::Entity, user_tenant::Column::TenantRef)),
        )
        .and_where(
            Expr::col((user_tenant::Entity, user_tenant::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        .order_by(
            (user_tenant::Entity, user_tenant::Column::CreatedAt),
            sea_orm::Order::Asc,
        )
        .limit(1)
        .to_owned();
    let mut update = user::Entity::update_many()
        .col_expr(
            user::Column::ActiveTenantId,
            Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(oldest))),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(user::Column::ActiveTenantId.eq(left));
    if let Some(user_id) = user_id {
        update = update.filter(user::Column::Id.eq(user_id));
    }
    update.exec(db).await?;
    Ok(())
}

/// Deletes the scope's users whose only membership is `tenant`.
pub async fn delete_sole_members(db: &impl ConnectionTrait, scope: &Scope, tenant: &Tenant) -> Result<()> {
    let members = Query::select()
        .column(user_tenant::Column::UserId)
        .from(user_tenant::Entity)
        .and_where(Expr::col(user_tenant::Column::TenantRef).eq(tenant.id.as_str()))
        .to_owned();
    let members_elsewhere = Query::select()
        .column(user_tenant::Column::UserId)
        .from(user_tenant::Entity)
        .and_where(Expr::col(user_tenant::Column::TenantRef).ne(tenant.id.as_str()))
        .to_owned();
    user::Entity::delete_many()
        .filter(user::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(user::Column::Id.in_subquery(members))
        .filter(user::Column::Id.not_in_subquery(members_elsewhere))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every membership of `tenant`, a tenant of the scope.
pub async fn remove_all_memberships(db: &impl ConnectionTrait, scope: &Scope, tenant: &Tenant) -> Result<()> {
    user_tenant::Entity::delete_many()
        .filter(user_tenant::Column::TenantRef.eq(tenant.id.as_str()))
        .filter(user_tenant::Column::UserId.in_subquery(users_of(scope)))
        .exec(db)
        .await?;
    Ok(())
}

/// One page of users matching `filter`; `tenant_row_id` is the resolved tenant filter.
///
/// A tenant's users are read through its memberships, whose index (tenant, user's creation
/// time, user id) gives them in the default order and counts them without reading the users:
/// the first page costs the page, whatever the size of the tenant or the environment.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &UserFilter,
    tenant_row_id: Option<&str>,
    page: PageRequest,
) -> Result<Page<User>> {
    let query = matching(scope, filter, tenant_row_id);
    // A tenant's listing leaves invisible users out: it can no longer be cut from the membership
    // index alone, nor counted from its counts, when the environment has any.
    let hiding = tenant_row_id.is_some() && has_invisible_users(db, scope).await?;
    let narrowed = hiding || filter.email.is_some() || !filter.ids.is_empty() || !filter.phrases.is_empty();
    let total = match tenant_row_id {
        // Every member of a tenant of the scope is a user of the scope.
        Some(tenant_row_id) if !narrowed => {
            counted(db, "tenant_member_counts", "tenant_ref", tenant_row_id).await?
        }
        None if !narrowed => {
            counted(
                db,
                "environment_user_counts",
                "environment_id",
                scope.environment_id(),
            )
            .await?
        }
        _ => query.clone().count(db).await?,
    };
    let rows = match tenant_row_id {
        // A tenant's page in the default order is cut from the membership index alone, so what
        // an offset or a cursor skips are index entries, not users to join; its users are then
        // read by id. Two statements, as a join or an `IN` on the page's subquery leaves SQLite's
        // planner free to walk the environment's users instead; and the environment is checked
        // on the rows read, as SQLite, without statistics, would rather walk the environment's
        // index than look 50 ids up. (The tenant is the scope's, so its members are too.)
        Some(tenant_row_id) if !narrowed && filter.sort == UserSort::CreatedAt => {
            let ids = db
                .query_all(&page_of_members(tenant_row_id, filter, page))
                .await?
                .iter()
                .map(|row| row.try_get::<String>("", "user_id"))
                .collect::<Result<Vec<_>, _>>()?;
            let mut rows = by_ids(&ids).all(db).await?;
            rows.retain(|row| row.environment_id == scope.environment_id());
            let place: HashMap<&str, usize> =
                ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
            rows.sort_by_key(|row| place.get(row.id.as_str()).copied());
            rows
        }
        _ => {
            let through_memberships = tenant_row_id.is_some();
            let query = match &filter.after {
                Some(after) => query.filter(after_cursor(after, filter.order, through_memberships)),
                None => query,
            };
            ordered(query, filter, through_memberships)
                .limit(page.limit)
                .offset(page.offset)
                .all(db)
                .await?
        }
    };
    let mut listed = Page::new(with_memberships(db, rows).await?, total, page);
    if filter.sort == UserSort::CreatedAt && listed.items.len() as u64 == page.limit {
        listed.next_cursor = listed.items.last().map(|last| UserCursor::after(last).encode());
    }
    Ok(listed)
}

/// The visible members of tenant `tenant_ref` (a row id): how many there are, how many joined at
/// `since` or later, and how many are super-users. One statement.
pub async fn member_stats(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: &str,
    since: DateTime<Utc>,
) -> Result<(u64, u64, u64)> {
    let statement = sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT CAST(COUNT(*) AS BIGINT) AS members, \
         CAST(COALESCE(SUM(CASE WHEN ut.created_at >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS added, \
         CAST(COALESCE(SUM(CASE WHEN u.super_user THEN 1 ELSE 0 END), 0) AS BIGINT) AS supers \
         FROM user_tenants ut JOIN users u ON u.id = ut.user_id \
         WHERE ut.tenant_ref = $1 AND u.environment_id = $3 AND NOT u.invisible",
        [tenant_ref.into(), since.into(), scope.environment_id().into()],
    );
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok((0, 0, 0));
    };
    let count = |name: &str| -> Result<u64> {
        let n: i64 = row.try_get("", name)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok((count("members")?, count("added")?, count("supers")?))
}

/// Whether the environment has any invisible user: one seek in the partial index
/// `ix_users_invisible` (migration `m20261212_100001_user_flags`).
async fn has_invisible_users(db: &impl ConnectionTrait, scope: &Scope) -> Result<bool> {
    // The condition is written as the index's own, so that SQLite sees the index applies; and
    // the limit is a literal, so that SQLite runs its cached statement as it is.
    let statement = sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT 1 AS found FROM users WHERE environment_id = $1 AND invisible LIMIT 1",
        [scope.environment_id().into()],
    );
    Ok(db.query_one_raw(statement).await?.is_some())
}

/// The ids of a page of the members of tenant `tenant_row_id`, in the default order, read from
/// the membership index alone.
fn page_of_members(tenant_row_id: &str, filter: &UserFilter, page: PageRequest) -> SelectStatement {
    let order = super::sort_order(filter.order);
    let mut query = Query::select()
        .column(user_tenant::Column::UserId)
        .from(user_tenant::Entity)
        .and_where(Expr::col(user_tenant::Column::TenantRef).eq(tenant_row_id))
        .order_by(user_tenant::Column::UserCreatedAt, order.clone())
        .order_by(user_tenant::Column::UserId, order)
        .limit(page.limit)
        .offset(page.offset)
        .to_owned();
    if let Some(after) = &filter.after {
        query.cond_where(after_cursor(after, filter.order, true));
    }
    query
}

/// Users by id, in any environment: the caller checks the environment of each.
fn by_ids(ids: &[String]) -> Select<user::Entity> {
    user::Entity::find().filter(user::Column::Id.is_in(ids.iter().map(String::as_str)))
}

/// The count kept in `table` (by the triggers of migration `m20261208_000001_member_counts`) of
/// the rows whose `key` is `value`: the sum of its shards, a few rows whatever the count.
async fn counted(
    db: &impl ConnectionTrait,
    table: &'static str,
    key: &'static str,
    value: &str,
) -> Result<u64> {
    let query = Query::select()
        .expr_as(Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"), "n")
        .from(table)
        .and_where(Expr::col(key).eq(value))
        .to_owned();
    let row = db.query_one(&query).await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Users after `cursor` in the default order (creation time, then id) in direction `order`,
/// compared on the columns the listing sorts by. The bound on the creation time alone, implied by
/// the rest, is what lets the index seek to the cursor: neither database seeks on the `OR`.
fn after_cursor(cursor: &UserCursor, order: Order, through_memberships: bool) -> Condition {
    let (created, id) = if through_memberships {
        (
            Expr::col((user_tenant::Entity, user_tenant::Column::UserCreatedAt)),
            Expr::col((user_tenant::Entity, user_tenant::Column::UserId)),
        )
    } else {
        (
            Expr::col((user::Entity, user::Column::CreatedAt)),
            Expr::col((user::Entity, user::Column::Id)),
        )
    };
    let at = cursor.created_at;
    let (bound, later, beyond) = match order {
        Order::Asc => (
            created.clone().gte(at),
            created.clone().gt(at),
            id.gt(cursor.id.as_str()),
        ),
        Order::Desc => (
            created.clone().lte(at),
            created.clone().lt(at),
            id.lt(cursor.id.as_str()),
        ),
    };
    Condition::all().add(bound).add(
        Condition::any()
            .add(later)
            .add(Condition::all().add(created.eq(at)).add(beyond)),
    )
}

/// The users of the scope matching `filter`, unordered; through the memberships of
/// `tenant_row_id` when given.
fn matching(scope: &Scope, filter: &UserFilter, tenant_row_id: Option<&str>) -> Select<user::Entity> {
    let mut query = user::Entity::find().filter(user::Column::EnvironmentId.eq(scope.environment_id()));
    if let Some(tenant_row_id) = tenant_row_id {
        query = query
            .join(JoinType::InnerJoin, user_tenant::Relation::User.def().rev())
            .filter(user_tenant::Column::TenantRef.eq(tenant_row_id))
            .filter(user::Column::Invisible.eq(false));
    }
    if let Some(email) = &filter.email {
        query = query.filter(Expr::col((user::Entity, user::Column::Email)).like(contains_pattern(email)));
    }
    if !filter.ids.is_empty() {
        query = query.filter(user::Column::Id.is_in(filter.ids.iter().cloned()));
    }
    if !filter.phrases.is_empty() {
        query = query.filter(phrase_condition(&filter.phrases));
    }
    query
}

/// `query` in the order of `filter`, ties broken by id. A tenant's users in the default order
/// come in the order of the membership index: the membership's copy of the creation time, then
/// its user id, which is the user's.
fn ordered(
    query: Select<user::Entity>,
    filter: &UserFilter,
    through_memberships: bool,
) -> Select<user::Entity> {
    let order = super::sort_order(filter.order);
    if through_memberships && filter.sort == UserSort::CreatedAt {
        return query
            .order_by(user_tenant::Column::UserCreatedAt, order.clone())
            .order_by(user_tenant::Column::UserId, order);
    }
    let column = match filter.sort {
        UserSort::CreatedAt => user::Column::CreatedAt,
        UserSort::Name => user::Column::NameFolded,
        UserSort::Email => user::Column::Email,
        UserSort::Id => user::Column::Id,
        UserSort::Verified => user::Column::Verified,
        UserSort::Locked => user::Column::Locked,
        UserSort::Provider => user::Column::Provider,
        UserSort::TenantId => user::Column::ActiveTenantId,
    };
    // Where NULLs go is said only for the one nullable column: said for a column that has none,
    // it would still keep PostgreSQL from reading the order off an index (whose NULLs come last).
    let query = if filter.sort == UserSort::TenantId {
        query.order_by_with_nulls(column, order.clone(), super::nulls_as_smallest(filter.order))
    } else {
        query.order_by(column, order.clone())
    };
    query.order_by(user::Column::Id, order)
}

/// Users whose email or name holds the phrases' words, ignoring case.
fn phrase_condition(phrases: &Phrases) -> Condition {
    // Emails are stored in lower case, names matched by their folded copy.
    let holds = |word: &str| {
        let pattern = contains_pattern(word);
        Expr::col(user::Column::Email)
            .like(pattern.clone())
            .or(Expr::col(user::Column::NameFolded).like(pattern))
    };
    let mut condition = Condition::all();
    for word in &phrases.contains {
        condition = condition.add(holds(word));
    }
    for word in &phrases.excludes {
        condition = condition.add(holds(word).not());
    }
    if !phrases.optional.is_empty() {
        condition = condition.add(
            phrases
                .optional
                .iter()
                .fold(Condition::any(), |any, word| any.add(holds(word))),
        );
    }
    condition
}

/// Sets the current tenant of user `id` of the scope.
pub async fn set_active_tenant(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: &str,
    tenant_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let update = user::Entity::update_many()
        .col_expr(
            user::Column::ActiveTenantId,
            Expr::value(tenant_id.map(str::to_owned)),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now));
    one_user(scoped(update, scope, id).exec(db).await?.rows_affected)
}

/// Marks user `id` of the scope activated and verified, setting its password hash (when given)
/// and when it accepted the terms (when given).
pub async fn activate(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: &str,
    password_hash: Option<String>,
    terms_accepted_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut update = user::Entity::update_many()
        .col_expr(user::Column::Activated, Expr::value(true))
        .col_expr(user::Column::Verified, Expr::value(true))
        .col_expr(user::Column::UpdatedAt, Expr::value(now));
    if let Some(hash) = password_hash {
        update = update.col_expr(user::Column::PasswordHash, Expr::value(hash));
    }
    if let Some(at) = terms_accepted_at {
        update = update.col_expr(user::Column::TermsAcceptedAt, Expr::value(at));
    }
    one_user(scoped(update, scope, id).exec(db).await?.rows_affected)
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;
    use crate::{
        domain::environment::{Environment, EnvironmentSettings},
        store::plan::{migrated, plan_of},
    };

    /// The details of SQLite's plan for `query`.
    async fn plan(db: &impl ConnectionTrait, query: Select<user::Entity>) -> Vec<String> {
        plan_of(db, query.limit(50).build(DbBackend::Sqlite)).await
    }

    #[tokio::test]
    async fn a_tenants_page_is_read_in_order_from_the_membership_index() {
        let dir = tempfile::tempdir().unwrap();
        let db = migrated(&dir).await;
        let scope = Scope::for_tests(Environment {
            id: "env".into(),
            name: "env".into(),
            client_id: "client".into(),
            secret_hash: String::new(),
            host: None,
            settings: EnvironmentSettings::default(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            secret_changed_at: None,
            identity: Default::default(),
            groups: Default::default(),
        });
        for order in [crate::domain::page::Order::Asc, crate::domain::page::Order::Desc] {
            let filter = UserFilter {
                order,
                ..UserFilter::default()
            };
            // Narrowed by a filter on the users: joined, in the order of the index.
            let details = plan(&db, ordered(matching(&scope, &filter, Some("t")), &filter, true)).await;
            assert!(
                details
                    .iter()
                    .any(|d| d.contains("user_tenants USING")
                        && d.contains("ix_user_tenants_tenant_user_created")),
                "{details:?}"
            );
            assert!(
                !details.iter().any(|d| d.contains("TEMP B-TREE")),
                "the page is sorted by the index: {details:?}"
            );
            // Unfiltered, by offset or by cursor: the page's ids come from the index alone (it
            // covers them), seeking to the cursor; its users are then looked up by id.
            let page = PageRequest {
                limit: 50,
                offset: 100,
            };
            let after = UserFilter {
                after: Some(UserCursor {
                    created_at: chrono::Utc::now(),
                    id: "u".into(),
                }),
                ..filter.clone()
            };
            for (filter, seek) in [
                (&filter, "(tenant_ref=?)"),
                (&after, "(tenant_ref=? AND user_created_at"),
            ] {
                let statement = DbBackend::Sqlite.build(&page_of_members("t", filter, page));
                let details = plan_of(&db, statement).await;
                assert!(
                    details.iter().any(|d| d.contains(
                        "SEARCH user_tenants USING COVERING INDEX ix_user_tenants_tenant_user_created"
                    ) && d.contains(seek))
                        && !details.iter().any(|d| d.contains("TEMP B-TREE")),
                    "{details:?}"
                );
            }
            let ids = ["a".to_owned(), "b".to_owned()];
            let details = plan(&db, by_ids(&ids)).await;
            assert!(
                details.iter().all(|d| d.contains("(id=?)")),
                "users are looked up by id: {details:?}"
            );
        }
    }
}

//! Queries over users and their memberships.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationDef, RelationTrait, Set,
    sea_query::{Expr, ExprTrait, Func, Query, SubQueryStatement},
};

use super::{
    First,
    entity::{tenant, user, user_tenant},
    tenants::contains_pattern,
};
use crate::domain::{
    Resource,
    error::{Error, Result},
    page::{Page, PageRequest},
    user::{Membership, Phrases, User, UserFilter, UserProfile, UserSort},
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
pub async fn find_row(db: &impl ConnectionTrait, environment_id: &str, id: &str) -> Result<Option<UserRow>> {
    Ok(user::Entity::find_by_id(id)
        .filter(user::Column::EnvironmentId.eq(environment_id))
        .first(db)
        .await?)
}

/// The row of user `id`, locked until the transaction ends (PostgreSQL), or NOT_FOUND.
pub async fn lock_row(db: &impl ConnectionTrait, environment_id: &str, id: &str) -> Result<UserRow> {
    user::Entity::find_by_id(id)
        .filter(user::Column::EnvironmentId.eq(environment_id))
        .lock_exclusive()
        .first(db)
        .await?
        .ok_or(Error::NotFound(Resource::User))
}

/// The row of user `id`, or NOT_FOUND.
pub async fn get_row(db: &impl ConnectionTrait, environment_id: &str, id: &str) -> Result<UserRow> {
    find_row(db, environment_id, id)
        .await?
        .ok_or(Error::NotFound(Resource::User))
}

/// User `id` with its memberships.
pub async fn find(db: &impl ConnectionTrait, environment_id: &str, id: &str) -> Result<Option<User>> {
    match find_row(db, environment_id, id).await? {
        Some(row) => Ok(with_memberships(db, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// User `id` with its memberships, or NOT_FOUND.
pub async fn get(db: &impl ConnectionTrait, environment_id: &str, id: &str) -> Result<User> {
    find(db, environment_id, id)
        .await?
        .ok_or(Error::NotFound(Resource::User))
}

/// The row of the user with this (lower-case) email.
pub async fn find_row_by_email(
    db: &impl ConnectionTrait,
    environment_id: &str,
    email: &str,
) -> Result<Option<UserRow>> {
    Ok(user::Entity::find()
        .filter(user::Column::EnvironmentId.eq(environment_id))
        .filter(user::Column::Email.eq(email))
        .first(db)
        .await?)
}

/// The user with this (lower-case) email, with its memberships.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    environment_id: &str,
    email: &str,
) -> Result<Option<User>> {
    match find_row_by_email(db, environment_id, email).await? {
        Some(row) => Ok(with_memberships(db, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// Stores a new user row.
pub async fn insert(db: &impl ConnectionTrait, row: UserRow) -> Result<()> {
    row.into_active_model().insert(db).await?;
    Ok(())
}

/// Writes the editable profile of user `id` back.
pub async fn save_profile(
    db: &impl ConnectionTrait,
    id: &str,
    profile: UserProfile,
    now: DateTime<Utc>,
) -> Result<()> {
    user::ActiveModel {
        id: Set(id.to_owned()),
        name: Set(profile.name),
        profile_picture_url: Set(profile.profile_picture_url),
        phone_number: Set(profile.phone_number),
        metadata: Set(profile.metadata),
        vendor_metadata: Set(profile.vendor_metadata),
        external_id: Set(profile.external_id),
        mfa_bypass: Set(profile.mfa_bypass),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Sets one of a user's flags.
pub async fn set_flag(
    db: &impl ConnectionTrait,
    id: &str,
    flag: user::Column,
    value: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    user::Entity::update_many()
        .col_expr(flag, Expr::value(value))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes user `id`; memberships and tokens go with it.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<()> {
    user::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Adds a membership; ALREADY_EXISTS if the user already belongs to the tenant.
pub async fn add_membership(
    db: &impl ConnectionTrait,
    user_id: &str,
    tenant_row_id: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    user_tenant::ActiveModel {
        user_id: Set(user_id.to_owned()),
        tenant_ref: Set(tenant_row_id.to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Removes a membership; false if there was none.
pub async fn remove_membership(
    db: &impl ConnectionTrait,
    user_id: &str,
    tenant_row_id: &str,
) -> Result<bool> {
    let result = user_tenant::Entity::delete_many()
        .filter(user_tenant::Column::UserId.eq(user_id))
        .filter(user_tenant::Column::TenantRef.eq(tenant_row_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// For users of the environment whose current tenant was `left`, and only `user_id` when given,
/// points the current tenant at their oldest remaining membership, or at none.
pub async fn repoint_active_tenants(
    db: &impl ConnectionTrait,
    environment_id: &str,
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
        .filter(user::Column::EnvironmentId.eq(environment_id))
        .filter(user::Column::ActiveTenantId.eq(left));
    if let Some(user_id) = user_id {
        update = update.filter(user::Column::Id.eq(user_id));
    }
    update.exec(db).await?;
    Ok(())
}

/// Deletes the users whose only membership is the tenant with row id `tenant_row_id`.
pub async fn delete_sole_members(db: &impl ConnectionTrait, tenant_row_id: &str) -> Result<()> {
    let members = Query::select()
        .column(user_tenant::Column::UserId)
        .from(user_tenant::Entity)
        .and_where(Expr::col(user_tenant::Column::TenantRef).eq(tenant_row_id))
        .to_owned();
    let members_elsewhere = Query::select()
        .column(user_tenant::Column::UserId)
        .from(user_tenant::Entity)
        .and_where(Expr::col(user_tenant::Column::TenantRef).ne(tenant_row_id))
        .to_owned();
    user::Entity::delete_many()
        .filter(user::Column::Id.in_subquery(members))
        .filter(user::Column::Id.not_in_subquery(members_elsewhere))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every membership of the tenant with row id `tenant_row_id`.
pub async fn remove_all_memberships(db: &impl ConnectionTrait, tenant_row_id: &str) -> Result<()> {
    user_tenant::Entity::delete_many()
        .filter(user_tenant::Column::TenantRef.eq(tenant_row_id))
        .exec(db)
        .await?;
    Ok(())
}

/// One page of users matching `filter`; `tenant_row_id` is the resolved tenant filter.
pub async fn list(
    db: &impl ConnectionTrait,
    environment_id: &str,
    filter: &UserFilter,
    tenant_row_id: Option<&str>,
    page: PageRequest,
) -> Result<Page<User>> {
    let mut query = user::Entity::find().filter(user::Column::EnvironmentId.eq(environment_id));
    if let Some(tenant_row_id) = tenant_row_id {
        let members = Query::select()
            .column(user_tenant::Column::UserId)
            .from(user_tenant::Entity)
            .and_where(Expr::col(user_tenant::Column::TenantRef).eq(tenant_row_id))
            .to_owned();
        query = query.filter(user::Column::Id.in_subquery(members));
    }
    if let Some(email) = &filter.email {
        query = query.filter(Expr::col(user::Column::Email).like(contains_pattern(email)));
    }
    if !filter.ids.is_empty() {
        query = query.filter(user::Column::Id.is_in(filter.ids.iter().cloned()));
    }
    if !filter.phrases.is_empty() {
        query = query.filter(phrase_condition(&filter.phrases));
    }
    let total = query.clone().count(db).await?;
    let column = match filter.sort {
        UserSort::CreatedAt => user::Column::CreatedAt,
        UserSort::Name => user::Column::Name,
        UserSort::Email => user::Column::Email,
        UserSort::Id => user::Column::Id,
        UserSort::Verified => user::Column::Verified,
        UserSort::Locked => user::Column::Locked,
        UserSort::Provider => user::Column::Provider,
        UserSort::TenantId => user::Column::ActiveTenantId,
    };
    let order = super::sort_order(filter.order);
    let rows = query
        .order_by(column, order.clone())
        .order_by(user::Column::Id, order)
        .limit(page.limit)
        .offset(page.offset)
        .all(db)
        .await?;
    Ok(Page::new(with_memberships(db, rows).await?, total, page))
}

/// Users whose email or name holds the phrases' words, ignoring case.
fn phrase_condition(phrases: &Phrases) -> Condition {
    let holds = |word: &str| {
        let pattern = contains_pattern(word);
        Expr::expr(Func::lower(Expr::col(user::Column::Email)))
            .like(pattern.clone())
            .or(Expr::expr(Func::lower(Func::coalesce([
                Expr::col(user::Column::Name),
                Expr::val(""),
            ])))
            .like(pattern))
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

/// Sets the user's current tenant.
pub async fn set_active_tenant(
    db: &impl ConnectionTrait,
    id: &str,
    tenant_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    user::Entity::update_many()
        .col_expr(
            user::Column::ActiveTenantId,
            Expr::value(tenant_id.map(str::to_owned)),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a user activated and verified, setting its password hash (when given) and when it
/// accepted the terms (when given).
pub async fn activate(
    db: &impl ConnectionTrait,
    id: &str,
    password_hash: Option<String>,
    terms_accepted_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut update = user::Entity::update_many()
        .col_expr(user::Column::Activated, Expr::value(true))
        .col_expr(user::Column::Verified, Expr::value(true))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(id));
    if let Some(hash) = password_hash {
        update = update.col_expr(user::Column::PasswordHash, Expr::value(hash));
    }
    if let Some(at) = terms_accepted_at {
        update = update.col_expr(user::Column::TermsAcceptedAt, Expr::value(at));
    }
    update.exec(db).await?;
    Ok(())
}

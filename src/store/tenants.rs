//! Queries over tenants.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr},
};

use super::First;
use super::entity::tenant;
use crate::domain::{
    Error, Resource,
    error::Result,
    field::fold,
    page::{Page, PageRequest},
    scope::Scope,
    tenant::{NewTenant, Tenant, TenantFilter, TenantProfile, TenantSort},
};

/// The stored form of a tenant, with the row's bookkeeping.
pub type TenantRow = tenant::Model;

pub(crate) fn to_domain(row: TenantRow) -> Result<Tenant> {
    let metadata: serde_json::Value = serde_json::from_str(&row.metadata)
        .map_err(|e| Error::internal(anyhow::anyhow!("tenant {} has bad metadata: {e}", row.id)))?;
    Ok(Tenant {
        id: row.id,
        tenant_id: row.tenant_id,
        name: row.name,
        profile: TenantProfile {
            status: row.status,
            website: row.website,
            application_url: row.application_url,
            logo: row.logo,
            logo_url: row.logo_url,
            address: row.address,
            timezone: row.timezone,
            currency: row.currency,
            creator_name: row.creator_name,
            creator_email: row.creator_email,
        },
        is_reseller: row.is_reseller,
        parent_tenant_id: row.parent_tenant_id,
        metadata,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn to_row(environment_id: &str, tenant: &Tenant, deleted_at: Option<DateTime<Utc>>) -> TenantRow {
    let p = tenant.profile.clone();
    TenantRow {
        id: tenant.id.clone(),
        environment_id: environment_id.to_owned(),
        tenant_id: tenant.tenant_id.clone(),
        name: tenant.name.clone(),
        status: p.status,
        website: p.website,
        application_url: p.application_url,
        logo: p.logo,
        logo_url: p.logo_url,
        address: p.address,
        timezone: p.timezone,
        currency: p.currency,
        creator_name: p.creator_name,
        creator_email: p.creator_email,
        is_reseller: tenant.is_reseller,
        parent_tenant_id: tenant.parent_tenant_id.clone(),
        metadata: tenant.metadata.to_string(),
        created_at: tenant.created_at,
        updated_at: tenant.updated_at,
        deleted_at,
        name_folded: fold(&tenant.name),
        tenant_id_folded: fold(&tenant.tenant_id),
    }
}

/// The row of `tenant_id`, deleted or not.
pub async fn find_row(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_id: &str,
) -> Result<Option<TenantRow>> {
    if !super::may_exist(tenant_id) {
        return Ok(None);
    }
    Ok(tenant::Entity::find()
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(tenant::Column::TenantId.eq(tenant_id))
        .first(db)
        .await?)
}

/// The live tenant `tenant_id`, its row locked until the transaction ends (PostgreSQL), or NOT_FOUND.
pub async fn lock(db: &impl ConnectionTrait, scope: &Scope, tenant_id: &str) -> Result<Tenant> {
    if !super::may_exist(tenant_id) {
        return Err(Error::NotFound(Resource::Tenant));
    }
    let row = tenant::Entity::find()
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(tenant::Column::TenantId.eq(tenant_id))
        .filter(tenant::Column::DeletedAt.is_null())
        .lock_exclusive()
        .first(db)
        .await?;
    row.map(to_domain)
        .transpose()?
        .ok_or(Error::NotFound(Resource::Tenant))
}

/// The live tenant `tenant_id`, or NOT_FOUND, its row share-locked until the transaction ends
/// (PostgreSQL): a concurrent deletion, which locks it exclusively, waits for this transaction or
/// makes this read find the tenant deleted, so nothing joins a tenant while it is being deleted.
pub async fn lock_shared(db: &impl ConnectionTrait, scope: &Scope, tenant_id: &str) -> Result<Tenant> {
    if !super::may_exist(tenant_id) {
        return Err(Error::NotFound(Resource::Tenant));
    }
    let row = tenant::Entity::find()
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(tenant::Column::TenantId.eq(tenant_id))
        .filter(tenant::Column::DeletedAt.is_null())
        .lock_shared()
        .first(db)
        .await?;
    row.map(to_domain)
        .transpose()?
        .ok_or(Error::NotFound(Resource::Tenant))
}

/// The live tenant `tenant_id`, or NOT_FOUND.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, tenant_id: &str) -> Result<Tenant> {
    find(db, scope, tenant_id)
        .await?
        .ok_or(Error::NotFound(Resource::Tenant))
}

/// The live (not deleted) tenant `tenant_id`.
pub async fn find(db: &impl ConnectionTrait, scope: &Scope, tenant_id: &str) -> Result<Option<Tenant>> {
    match find_row(db, scope, tenant_id).await? {
        Some(row) if row.deleted_at.is_none() => to_domain(row).map(Some),
        _ => Ok(None),
    }
}

/// Stores a new tenant, or overwrites a deleted row with the same tenant id, reviving it.
pub async fn insert_or_revive(
    db: &impl ConnectionTrait,
    scope: &Scope,
    new: NewTenant,
    tenant_id: String,
    deleted: Option<TenantRow>,
    now: DateTime<Utc>,
) -> Result<Tenant> {
    let tenant = Tenant {
        id: deleted
            .as_ref()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |row| row.id.clone()),
        tenant_id,
        name: new.name,
        profile: new.profile,
        is_reseller: new.is_reseller,
        parent_tenant_id: new.parent_tenant_id,
        metadata: new.metadata,
        created_at: now,
        updated_at: now,
    };
    let row = to_row(scope.environment_id(), &tenant, None);
    if deleted.is_some() {
        let revive = tenant::Entity::update(row.into_active_model().reset_all())
            .validate()?
            .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()));
        updated_one(revive.exec(db).await)?;
    } else {
        row.into_active_model().insert(db).await?;
    }
    Ok(tenant)
}

/// Writes every field of `tenant` back; NOT_FOUND unless it is a live tenant of the scope.
pub async fn save(db: &impl ConnectionTrait, scope: &Scope, tenant: &Tenant) -> Result<()> {
    let update = tenant::Entity::update(
        to_row(scope.environment_id(), tenant, None)
            .into_active_model()
            .reset_all(),
    )
    .validate()?
    .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
    .filter(tenant::Column::DeletedAt.is_null());
    updated_one(update.exec(db).await)
}

/// The outcome of an update of one row: NOT_FOUND when no row matched its conditions.
fn updated_one<T>(outcome: std::result::Result<T, sea_orm::DbErr>) -> Result<()> {
    match outcome {
        Ok(_) => Ok(()),
        Err(sea_orm::DbErr::RecordNotUpdated) => Err(Error::NotFound(Resource::Tenant)),
        Err(error) => Err(error.into()),
    }
}

/// Marks a tenant deleted and moves its children to its parent.
pub async fn mark_deleted(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<()> {
    tenant::Entity::update_many()
        .col_expr(tenant::Column::DeletedAt, Expr::value(Some(now)))
        .col_expr(tenant::Column::UpdatedAt, Expr::value(now))
        .filter(tenant::Column::Id.eq(tenant.id.as_str()))
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .exec(db)
        .await?;
    tenant::Entity::update_many()
        .col_expr(
            tenant::Column::ParentTenantId,
            Expr::value(tenant.parent_tenant_id.clone()),
        )
        .col_expr(tenant::Column::UpdatedAt, Expr::value(now))
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(tenant::Column::ParentTenantId.eq(tenant.tenant_id.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Escapes LIKE wildcards in `text` and wraps it for a "contains" match, folded to lower case
/// (match it against folded text only: SQLite's LIKE ignores the case of ASCII letters alone).
pub(crate) fn contains_pattern(text: &str) -> LikeExpr {
    let escaped = fold(text)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// One page of live tenants matching `filter`.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &TenantFilter,
    page: PageRequest,
) -> Result<Page<Tenant>> {
    let mut query = tenant::Entity::find()
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(tenant::Column::DeletedAt.is_null());
    if let Some(text) = &filter.text {
        let pattern = contains_pattern(text);
        query = query.filter(
            Expr::col(tenant::Column::NameFolded)
                .like(pattern.clone())
                .or(Expr::col(tenant::Column::TenantIdFolded).like(pattern)),
        );
    }
    if !filter.tenant_ids.is_empty() {
        query = query.filter(tenant::Column::TenantId.is_in(filter.tenant_ids.iter().cloned()));
    }
    let total = query.clone().count(db).await?;
    let column = match filter.sort {
        TenantSort::CreatedAt => tenant::Column::CreatedAt,
        TenantSort::Name => tenant::Column::NameFolded,
        TenantSort::TenantId => tenant::Column::TenantId,
    };
    let order = super::sort_order(filter.order);
    let rows = query
        .order_by(column, order.clone())
        .order_by(tenant::Column::Id, order)
        .limit(page.limit)
        .offset(page.offset)
        .all(db)
        .await?;
    let items = rows.into_iter().map(to_domain).collect::<Result<Vec<_>>>()?;
    Ok(Page::new(items, total, page))
}

/// Every live tenant of the environment, by tenant id.
pub async fn all(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<Tenant>> {
    tenant::Entity::find()
        .filter(tenant::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(tenant::Column::DeletedAt.is_null())
        .order_by_asc(tenant::Column::TenantId)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

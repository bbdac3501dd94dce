//! Policy documents (`domain::policy`): the stored objects of an environment and its tenants.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};
use serde_json::{Map, Value};

use super::{First, entity::policy};
use crate::domain::{
    Error,
    error::Result,
    policy::{PolicyDocument, overlay},
    scope::Scope,
};

/// The environment's stored key in `tenant_ref`.
const ENVIRONMENT: &str = "";

/// The stored objects of kind `T` that apply in the scope's environment and, when `tenant_ref`
/// (a tenant's row id) is given and `T` allows it, in that tenant: the environment's first. One
/// statement; a level with nothing stored is an empty object.
pub async fn layers<T: PolicyDocument>(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: Option<&str>,
) -> Result<(Map<String, Value>, Map<String, Value>)> {
    let tenant_ref = tenant_ref.filter(|_| T::TENANT_OVERRIDE);
    let refs: Vec<&str> = std::iter::once(ENVIRONMENT).chain(tenant_ref).collect();
    let rows = policy::Entity::find()
        .filter(policy::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(policy::Column::Kind.eq(T::KIND))
        .filter(policy::Column::TenantRef.is_in(refs))
        .order_by_asc(policy::Column::TenantRef)
        .all(db)
        .await?;
    let mut environment = Map::new();
    let mut tenant = Map::new();
    for row in rows {
        let fields = parse(&row)?;
        if row.tenant_ref == ENVIRONMENT {
            environment = fields;
        } else {
            tenant = fields;
        }
    }
    Ok((environment, tenant))
}

/// The value of `T` in force in the scope's environment and, when given, tenant `tenant_ref`.
pub async fn effective<T: PolicyDocument>(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: Option<&str>,
) -> Result<T> {
    let (environment, tenant) = layers::<T>(db, scope, tenant_ref).await?;
    overlay(&[&environment, &tenant])
}

/// The stored object of kind `T` of the environment, or of tenant `tenant_ref`, locked until the
/// transaction `db` ends: an empty one is stored first when there is none, so that two updates at
/// once take turns on PostgreSQL (SQLite's writers already do) and neither loses the other's
/// fields.
pub async fn lock<T: PolicyDocument>(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>> {
    let tenant_ref = tenant_ref.unwrap_or(ENVIRONMENT);
    let empty = policy::ActiveModel {
        environment_id: Set(scope.environment_id().to_owned()),
        kind: Set(T::KIND.to_owned()),
        tenant_ref: Set(tenant_ref.to_owned()),
        document: Set("{}".to_owned()),
        updated_at: Set(now),
    };
    policy::Entity::insert(empty)
        .on_conflict_do_nothing_on([
            policy::Column::EnvironmentId,
            policy::Column::Kind,
            policy::Column::TenantRef,
        ])
        .exec_without_returning(db)
        .await?;
    let row = policy::Entity::find_by_id((
        scope.environment_id().to_owned(),
        T::KIND.to_owned(),
        tenant_ref.to_owned(),
    ))
    .lock_exclusive()
    .first(db)
    .await?
    .ok_or_else(|| Error::internal(anyhow::anyhow!("a {} policy stored now is gone", T::KIND)))?;
    parse(&row)
}

/// Makes `fields` the stored object of kind `T` of the environment, or of tenant `tenant_ref`.
pub async fn put<T: PolicyDocument>(
    db: &impl ConnectionTrait,
    scope: &Scope,
    tenant_ref: Option<&str>,
    fields: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = policy::ActiveModel {
        environment_id: Set(scope.environment_id().to_owned()),
        kind: Set(T::KIND.to_owned()),
        tenant_ref: Set(tenant_ref.unwrap_or(ENVIRONMENT).to_owned()),
        document: Set(serde_json::to_string(fields).map_err(Error::internal)?),
        updated_at: Set(now),
    };
    policy::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                policy::Column::EnvironmentId,
                policy::Column::Kind,
                policy::Column::TenantRef,
            ])
            .update_columns([policy::Column::Document, policy::Column::UpdatedAt])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The value of `T` in force in each of the environments `environment_ids` (no tenant's): one
/// statement for them all.
pub async fn of_environments<T: PolicyDocument>(
    db: &impl ConnectionTrait,
    environment_ids: &[&str],
) -> Result<HashMap<String, T>> {
    let rows = policy::Entity::find()
        .filter(policy::Column::EnvironmentId.is_in(environment_ids.iter().copied()))
        .filter(policy::Column::Kind.eq(T::KIND))
        .filter(policy::Column::TenantRef.eq(ENVIRONMENT))
        .all(db)
        .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let value = overlay(&[&parse(&row)?])?;
        found.insert(row.environment_id, value);
    }
    Ok(found)
}

/// Deletes every document of tenant `tenant_ref` (a tenant that is deleted).
pub async fn delete_of_tenant(db: &impl ConnectionTrait, scope: &Scope, tenant_ref: &str) -> Result<()> {
    policy::Entity::delete_many()
        .filter(policy::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(policy::Column::TenantRef.eq(tenant_ref))
        .exec(db)
        .await?;
    Ok(())
}

/// The object a row stores.
fn parse(row: &policy::Model) -> Result<Map<String, Value>> {
    match serde_json::from_str(&row.document) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(Error::internal(anyhow::anyhow!(
            "stored {} policy of environment {} is not a JSON object",
            row.kind,
            row.environment_id
        ))),
    }
}

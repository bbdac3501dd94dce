//! Queries over environments.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::First;
use super::entity::environment;
use crate::domain::{
    Error,
    environment::{Environment, EnvironmentSettings},
    error::Result,
};

fn to_domain(model: environment::Model) -> Result<Environment> {
    let settings: EnvironmentSettings = serde_json::from_str(&model.settings)
        .map_err(|e| Error::internal(anyhow::anyhow!("environment {} has bad settings: {e}", model.id)))?;
    Ok(Environment {
        id: model.id,
        client_id: model.client_id,
        secret_hash: model.secret_hash,
        host: model.host,
        settings,
    })
}

/// The environment with this client id.
pub async fn find_by_client_id(db: &impl ConnectionTrait, client_id: &str) -> Result<Option<Environment>> {
    environment::Entity::find()
        .filter(environment::Column::ClientId.eq(client_id))
        .first(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// The environment with this id.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Environment>> {
    environment::Entity::find_by_id(id)
        .first(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// The environment that serves requests naming no vendor host: the oldest one without a host.
pub async fn find_default(db: &impl ConnectionTrait) -> Result<Option<Environment>> {
    environment::Entity::find()
        .filter(environment::Column::Host.is_null())
        .order_by_asc(environment::Column::CreatedAt)
        .first(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// Every environment.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Environment>> {
    environment::Entity::find()
        .order_by_asc(environment::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// Stores a new environment.
pub async fn insert(db: &impl ConnectionTrait, env: &Environment, now: DateTime<Utc>) -> Result<()> {
    environment::ActiveModel {
        id: Set(env.id.clone()),
        client_id: Set(env.client_id.clone()),
        secret_hash: Set(env.secret_hash.clone()),
        host: Set(env.host.clone()),
        settings: Set(settings_json(&env.settings)?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Replaces an environment's client id and secret hash.
pub async fn set_credentials(
    db: &impl ConnectionTrait,
    id: &str,
    client_id: &str,
    secret_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    environment::ActiveModel {
        id: Set(id.to_owned()),
        client_id: Set(client_id.to_owned()),
        secret_hash: Set(secret_hash.to_owned()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

fn settings_json(settings: &EnvironmentSettings) -> Result<String> {
    serde_json::to_string(settings).map_err(Error::internal)
}

//! Queries over environments.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};

use super::First;
use super::entity::environment;
use crate::domain::{
    Error,
    configuration::IdentitySettings,
    environment::{Environment, EnvironmentChanges, EnvironmentSettings},
    error::Result,
    group::GroupsConfiguration,
};

fn to_domain(model: environment::Model) -> Result<Environment> {
    let settings: EnvironmentSettings = serde_json::from_str(&model.settings)
        .map_err(|e| Error::internal(anyhow::anyhow!("environment {} has bad settings: {e}", model.id)))?;
    Ok(Environment {
        id: model.id,
        name: model.name,
        client_id: model.client_id,
        secret_hash: model.secret_hash,
        host: model.host,
        settings,
        identity: IdentitySettings::default(),
        groups: GroupsConfiguration::default(),
        created_at: model.created_at,
        updated_at: model.updated_at,
        secret_changed_at: model.secret_changed_at,
    })
}

/// The environment with this client id.
pub async fn find_by_client_id(db: &impl ConnectionTrait, client_id: &str) -> Result<Option<Environment>> {
    if !super::may_exist(client_id) {
        return Ok(None);
    }
    let found = environment::Entity::find()
        .filter(environment::Column::ClientId.eq(client_id))
        .first(db)
        .await?
        .map(to_domain)
        .transpose()?;
    one_with_policies(db, found).await
}

/// The environment with this id.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<Environment>> {
    if !super::may_exist(id) {
        return Ok(None);
    }
    let found = environment::Entity::find_by_id(id)
        .first(db)
        .await?
        .map(to_domain)
        .transpose()?;
    one_with_policies(db, found).await
}

/// The environment that serves requests naming no vendor host: the oldest one without a host.
pub async fn find_default(db: &impl ConnectionTrait) -> Result<Option<Environment>> {
    let found = environment::Entity::find()
        .filter(environment::Column::Host.is_null())
        .order_by_asc(environment::Column::CreatedAt)
        .first(db)
        .await?
        .map(to_domain)
        .transpose()?;
    one_with_policies(db, found).await
}

/// Every environment.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Environment>> {
    let all = environment::Entity::find()
        .order_by_asc(environment::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect::<Result<Vec<_>>>()?;
    with_policies(db, all).await
}

/// `environments` with the policy documents they carry (identity settings, groups
/// configuration) read in: one statement per kind for them all.
async fn with_policies(
    db: &impl ConnectionTrait,
    mut environments: Vec<Environment>,
) -> Result<Vec<Environment>> {
    if environments.is_empty() {
        return Ok(environments);
    }
    let ids: Vec<&str> = environments.iter().map(|e| e.id.as_str()).collect();
    let mut identities = super::policies::of_environments::<IdentitySettings>(db, &ids).await?;
    let mut groups = super::policies::of_environments::<GroupsConfiguration>(db, &ids).await?;
    for environment in &mut environments {
        if let Some(identity) = identities.remove(&environment.id) {
            environment.identity = identity;
        }
        if let Some(groups) = groups.remove(&environment.id) {
            environment.groups = groups;
        }
    }
    Ok(environments)
}

/// [`with_policies`] for at most one environment.
async fn one_with_policies(
    db: &impl ConnectionTrait,
    found: Option<Environment>,
) -> Result<Option<Environment>> {
    match found {
        Some(environment) => Ok(with_policies(db, vec![environment]).await?.pop()),
        None => Ok(None),
    }
}

/// Stores a new environment with the built-in permissions and roles: pass a transaction, so that
/// an environment never exists without them.
pub async fn insert(db: &impl ConnectionTrait, env: &Environment) -> Result<()> {
    environment::ActiveModel {
        id: Set(env.id.clone()),
        name: Set(env.name.clone()),
        client_id: Set(env.client_id.clone()),
        secret_hash: Set(env.secret_hash.clone()),
        host: Set(env.host.clone()),
        settings: Set(settings_json(&env.settings)?),
        created_at: Set(env.created_at),
        updated_at: Set(env.updated_at),
        secret_changed_at: Set(env.secret_changed_at),
        builtin_release: Set(crate::domain::permission::builtin::RELEASE),
    }
    .insert(db)
    .await?;
    super::permissions::seed(db, &env.id, env.created_at).await
}

/// Replaces an environment's client id and secret hash; tokens issued before `now` stop working.
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
        secret_changed_at: Set(Some(now)),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Replaces an environment's secret hash; tokens issued before `now` stop working. False when
/// there is no such environment.
pub async fn set_secret(
    db: &impl ConnectionTrait,
    id: &str,
    secret_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let result = environment::Entity::update_many()
        .col_expr(environment::Column::SecretHash, Expr::value(secret_hash))
        .col_expr(environment::Column::UpdatedAt, Expr::value(now))
        .col_expr(environment::Column::SecretChangedAt, Expr::value(now))
        .filter(environment::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Renames an environment and sets or removes its vendor host, as `changes` says. False when
/// there is no such environment.
pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    changes: &EnvironmentChanges,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut update = environment::Entity::update_many()
        .col_expr(environment::Column::UpdatedAt, Expr::value(now))
        .filter(environment::Column::Id.eq(id));
    if let Some(name) = &changes.name {
        update = update.col_expr(environment::Column::Name, Expr::value(name.clone()));
    }
    if let Some(host) = &changes.host {
        update = update.col_expr(environment::Column::Host, Expr::value(host.clone()));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// The settings of environment `id`, its row locked until the transaction ends (PostgreSQL);
/// NOT_FOUND when there is none.
pub async fn lock_settings(db: &impl ConnectionTrait, id: &str) -> Result<EnvironmentSettings> {
    let model = environment::Entity::find_by_id(id)
        .lock_exclusive()
        .first(db)
        .await?
        .ok_or(Error::NotFound(crate::domain::Resource::Environment))?;
    Ok(to_domain(model)?.settings)
}

/// Replaces the settings of environment `id`.
pub async fn set_settings(
    db: &impl ConnectionTrait,
    id: &str,
    settings: &EnvironmentSettings,
    now: DateTime<Utc>,
) -> Result<()> {
    environment::Entity::update_many()
        .col_expr(
            environment::Column::Settings,
            Expr::value(settings_json(settings)?),
        )
        .col_expr(environment::Column::UpdatedAt, Expr::value(now))
        .filter(environment::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes an environment; its keys, tenants, users, memberships, sessions and tokens go with it
/// (the foreign keys cascade). False when there was no such environment.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool> {
    let result = environment::Entity::delete_many()
        .filter(environment::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

fn settings_json(settings: &EnvironmentSettings) -> Result<String> {
    serde_json::to_string(settings).map_err(Error::internal)
}

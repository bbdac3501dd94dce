//! Queries over signing keys.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    sea_query::Expr,
};

use super::First;
use super::entity::signing_key;
pub use super::entity::signing_key::Model as SigningKeyRow;
use crate::domain::error::Result;

/// Keys that still verify at `now`, newest first.
pub async fn live(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<SigningKeyRow>> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::ExpiresAt.gt(now))
        .order_by_desc(signing_key::Column::CreatedAt)
        .all(db)
        .await?)
}

/// The environment's newest key that still signs (not retired) and verifies at `now`.
pub async fn current(
    db: &impl ConnectionTrait,
    environment_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<SigningKeyRow>> {
    Ok(signing_key::Entity::find()
        .filter(signing_key::Column::EnvironmentId.eq(environment_id))
        .filter(signing_key::Column::RetiredAt.is_null())
        .filter(signing_key::Column::ExpiresAt.gt(now))
        .order_by_desc(signing_key::Column::CreatedAt)
        .first(db)
        .await?)
}

/// Stores a new key.
pub async fn insert(db: &impl ConnectionTrait, key: SigningKeyRow) -> Result<()> {
    key.into_active_model().insert(db).await?;
    Ok(())
}

/// Every key, live or not.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<SigningKeyRow>> {
    Ok(signing_key::Entity::find().all(db).await?)
}

/// Replaces a key's private part with its sealed form.
pub async fn seal(db: &impl ConnectionTrait, kid: &str, sealed: &str) -> Result<()> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::PrivateKey, Expr::value(sealed))
        .col_expr(signing_key::Column::Encrypted, Expr::value(true))
        .filter(signing_key::Column::Kid.eq(kid))
        .exec(db)
        .await?;
    Ok(())
}

/// Stops the environment's keys made before `now` from signing; they keep verifying.
pub async fn retire_older(db: &impl ConnectionTrait, environment_id: &str, now: DateTime<Utc>) -> Result<()> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .filter(signing_key::Column::EnvironmentId.eq(environment_id))
        .filter(signing_key::Column::RetiredAt.is_null())
        .filter(signing_key::Column::CreatedAt.lt(now))
        .exec(db)
        .await?;
    Ok(())
}

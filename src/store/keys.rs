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

/// The `expires_at` of a key that signs: it gets a real end when a newer key retires it.
pub fn never_expires() -> DateTime<Utc> {
    // 9999-12-31T23:59:59Z, as the migration that introduced it writes it.
    DateTime::<Utc>::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

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

/// Replaces a key's private part with its form sealed by the master key `sealed_by`.
pub async fn seal(db: &impl ConnectionTrait, kid: &str, sealed: &str, sealed_by: &str) -> Result<()> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::PrivateKey, Expr::value(sealed))
        .col_expr(signing_key::Column::Encrypted, Expr::value(true))
        .col_expr(signing_key::Column::SealedBy, Expr::value(sealed_by))
        .filter(signing_key::Column::Kid.eq(kid))
        .exec(db)
        .await?;
    Ok(())
}

/// Records which master key sealed a key sealed before that was recorded.
pub async fn record_sealer(db: &impl ConnectionTrait, kid: &str, sealed_by: &str) -> Result<()> {
    signing_key::Entity::update_many()
        .col_expr(signing_key::Column::SealedBy, Expr::value(sealed_by))
        .filter(signing_key::Column::Kid.eq(kid))
        .filter(signing_key::Column::SealedBy.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Stops the environment's keys other than `kid` from signing; they keep verifying until
/// `verify_until` (or their own end, if sooner).
pub async fn retire_others(
    db: &impl ConnectionTrait,
    environment_id: &str,
    kid: &str,
    now: DateTime<Utc>,
    verify_until: DateTime<Utc>,
) -> Result<()> {
    let signing_others = || {
        signing_key::Entity::update_many()
            .filter(signing_key::Column::EnvironmentId.eq(environment_id))
            .filter(signing_key::Column::RetiredAt.is_null())
            .filter(signing_key::Column::Kid.ne(kid))
    };
    signing_others()
        .col_expr(signing_key::Column::ExpiresAt, Expr::value(verify_until))
        .filter(signing_key::Column::ExpiresAt.gt(verify_until))
        .exec(db)
        .await?;
    signing_others()
        .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
        .exec(db)
        .await?;
    Ok(())
}

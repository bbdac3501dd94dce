//! Queries over signing keys.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

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

/// Stores a new key.
pub async fn insert(db: &impl ConnectionTrait, key: SigningKeyRow) -> Result<()> {
    key.into_active_model().insert(db).await?;
    Ok(())
}

//! Deletion of rows no request can use any more: ended sessions (with their refresh tokens),
//! used or expired refresh tokens, and used or expired single-use tokens.
//!
//! This is housekeeping across every environment, not an environment's data access: each
//! statement selects rows by their own end alone, so it takes no [`Scope`](crate::domain::scope::Scope).
//! Rows go in batches of a bounded size, each batch a statement of its own
//! (`DELETE ... WHERE id IN (SELECT id ... LIMIT n)`), so no statement holds locks for long or
//! grows with the backlog. Replicas may run it at the same time: a row is deleted once, whoever
//! gets it, and a batch that finds nothing ends the pass.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};

use super::entity::{refresh_token, session, user_token};
use crate::domain::error::Result;

/// Rows of each kind a pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    /// Sessions expired or revoked before the cut-off, with their refresh tokens.
    pub sessions: u64,
    /// Refresh tokens used or expired before the cut-off, of sessions still kept.
    pub refresh_tokens: u64,
    /// Single-use tokens used, revoked or expired before the cut-off.
    pub user_tokens: u64,
}

/// Deletes, `batch` rows at a time, every row whose end came before `before`.
pub async fn remove_ended(db: &impl ConnectionTrait, before: DateTime<Utc>, batch: u64) -> Result<Removed> {
    let sessions = in_batches(batch, || async {
        let ended = ended_ids(
            session::Entity,
            session::Column::Id,
            Condition::any()
                .add(Expr::col(session::Column::ExpiresAt).lt(before))
                .add(Expr::col(session::Column::RevokedAt).lt(before)),
            batch,
        );
        Ok(session::Entity::delete_many()
            .filter(session::Column::Id.in_subquery(ended))
            .exec(db)
            .await?
            .rows_affected)
    })
    .await?;
    let refresh_tokens = in_batches(batch, || async {
        let ended = ended_ids(
            refresh_token::Entity,
            refresh_token::Column::Id,
            Condition::any()
                .add(Expr::col(refresh_token::Column::ExpiresAt).lt(before))
                .add(Expr::col(refresh_token::Column::UsedAt).lt(before)),
            batch,
        );
        Ok(refresh_token::Entity::delete_many()
            .filter(refresh_token::Column::Id.in_subquery(ended))
            .exec(db)
            .await?
            .rows_affected)
    })
    .await?;
    let user_tokens = in_batches(batch, || async {
        let ended = ended_ids(
            user_token::Entity,
            user_token::Column::Id,
            Condition::any()
                .add(Expr::col(user_token::Column::ExpiresAt).lt(before))
                .add(Expr::col(user_token::Column::ConsumedAt).lt(before)),
            batch,
        );
        Ok(user_token::Entity::delete_many()
            .filter(user_token::Column::Id.in_subquery(ended))
            .exec(db)
            .await?
            .rows_affected)
    })
    .await?;
    Ok(Removed {
        sessions,
        refresh_tokens,
        user_tokens,
    })
}

/// The ids of at most `batch` rows of `table` matching `ended`.
fn ended_ids<T, C>(table: T, id: C, ended: Condition, batch: u64) -> SelectStatement
where
    T: sea_orm::sea_query::IntoTableRef,
    C: sea_orm::sea_query::IntoColumnRef,
{
    Query::select()
        .column(id)
        .from(table)
        .cond_where(ended)
        .limit(batch)
        .to_owned()
}

/// Runs `delete_batch` until a batch deletes fewer than `batch` rows; the rows deleted in all.
async fn in_batches<F, Fut>(batch: u64, mut delete_batch: F) -> Result<u64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64>>,
{
    let mut removed = 0;
    loop {
        let deleted = delete_batch().await?;
        removed += deleted;
        if deleted < batch {
            return Ok(removed);
        }
    }
}

//! Deletion of rows no request can use any more: ended sessions (with their refresh tokens),
//! used or expired refresh tokens, and used or expired single-use tokens.
//!
//! This is housekeeping across every environment, not an environment's data access: each
//! statement selects rows by their own end alone, so it takes no [`Scope`](crate::domain::scope::Scope).
//! Rows go in batches of a bounded size, each batch a statement of its own
//! (`DELETE ... WHERE id IN (SELECT id ... LIMIT n)`), so no statement holds locks for long or
//! grows with the backlog. Replicas may run it at the same time: a row is deleted once, whoever
//! gets it, and a batch that finds nothing ends the pass.
//!
//! Expiry and use are found through the creation time, which is indexed, and not through the
//! columns that record them, which are not: every refresh sets a token's `used_at` and a
//! session's `expires_at`, and an index on either would make each refresh rewrite every index of
//! both rows. A row ends after it is made, so `created_at < before` loses none; a pass reads,
//! besides what it deletes, the rows made before the cut-off that are still live (about one
//! token per live session and the sessions themselves), once every cleanup interval. Revocation,
//! rare, keeps its own index.

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
        let ended = ended_ids(session::Entity, session::Column::Id, session_ended(before), batch);
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
            refresh_token_ended(before),
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

/// Sessions that expired or were revoked before `before`.
fn session_ended(before: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(Expr::col(session::Column::CreatedAt).lt(before))
                .add(Expr::col(session::Column::ExpiresAt).lt(before)),
        )
        .add(Expr::col(session::Column::RevokedAt).lt(before))
}

/// Refresh tokens that expired or were used before `before`.
fn refresh_token_ended(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Expr::col(refresh_token::Column::CreatedAt).lt(before))
        .add(
            Condition::any()
                .add(Expr::col(refresh_token::Column::ExpiresAt).lt(before))
                .add(Expr::col(refresh_token::Column::UsedAt).lt(before)),
        )
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

#[cfg(test)]
mod tests {
    use sea_orm::{
        DbBackend, Statement,
        sea_query::{Alias, SqliteQueryBuilder},
    };

    use super::*;
    use crate::store::plan::{migrated, plan_of};

    /// The columns of each index of `table`, by SQLite's catalogue.
    async fn indexed_columns(db: &impl ConnectionTrait, table: &str) -> Vec<String> {
        let sql = format!(
            "SELECT ii.name AS name FROM pragma_index_list('{table}') AS il, \
             pragma_index_info(il.name) AS ii"
        );
        db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<String>("", "name").unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_refresh_updates_no_indexed_column_and_the_cleanup_still_seeks() {
        let dir = tempfile::tempdir().unwrap();
        let db = migrated(&dir).await;

        // What a rotation writes (see `sessions::rotate_on_postgres`).
        let tokens = indexed_columns(&db, "refresh_tokens").await;
        let sessions = indexed_columns(&db, "sessions").await;
        for written in ["used_at", "successor"] {
            assert!(
                !tokens.contains(&written.to_owned()),
                "refresh_tokens.{written} is indexed: {tokens:?}"
            );
        }
        for written in ["last_used_at", "expires_at"] {
            assert!(
                !sessions.contains(&written.to_owned()),
                "sessions.{written} is indexed: {sessions:?}"
            );
        }

        // And the cleanup finds ended rows through the creation time instead of scanning.
        let before = chrono::Utc::now();
        for (table, ended) in [
            ("refresh_tokens", refresh_token_ended(before)),
            ("sessions", session_ended(before)),
        ] {
            let select = ended_ids(Alias::new(table), Alias::new("id"), ended, 10);
            let (sql, values) = select.build(SqliteQueryBuilder);
            let plan = plan_of(
                &db,
                Statement::from_sql_and_values(DbBackend::Sqlite, sql, values.0),
            )
            .await;
            let index = format!("ix_{table}_created_at");
            assert!(plan.iter().any(|step| step.contains(&index)), "{table}: {plan:?}");
        }
    }
}

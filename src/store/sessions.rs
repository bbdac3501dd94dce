//! Queries over sessions, their refresh tokens, and session revocations.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, Set, sea_query::Expr,
};

use super::entity::{refresh_token, session, session_revocation};
use crate::domain::error::Result;

/// The stored form of a session.
pub type SessionRow = session::Model;
/// The stored form of a refresh token.
pub type RefreshTokenRow = refresh_token::Model;

/// PostgreSQL channel on which revocations are announced to every replica.
pub const REVOCATION_CHANNEL: &str = "sigil_revocations";

/// Stores a new session.
pub async fn insert(db: &impl ConnectionTrait, row: SessionRow) -> Result<()> {
    row.into_active_model().insert(db).await?;
    Ok(())
}

/// Stores a refresh token's digest for a session.
pub async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    session_id: &str,
    token_hash: String,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    refresh_token::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        session_id: Set(session_id.to_owned()),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The refresh token with this digest and its session.
pub async fn find_refresh_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<(RefreshTokenRow, SessionRow)>> {
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .find_also_related(session::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(token, session)| session.map(|s| (token, s))))
}

/// Marks a refresh token used, once: false if it already was (a replay, or a concurrent
/// exchange that won).
pub async fn use_refresh_token(db: &impl ConnectionTrait, id: &str, now: DateTime<Utc>) -> Result<bool> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records a session's use and pushes its end forward.
pub async fn touch(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    session::Entity::update_many()
        .col_expr(session::Column::LastUsedAt, Expr::value(now))
        .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
        .filter(session::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Which sessions to revoke.
#[derive(Debug, Clone)]
pub enum Sessions<'a> {
    /// One session.
    Id(&'a str),
    /// Every session of a user.
    OfUser(&'a str),
    /// A user's sessions in one tenant.
    OfUserInTenant(&'a str, &'a str),
    /// Every session in a tenant (by tenant id).
    InTenant(&'a str),
}

/// Revokes the live sessions `which` selects: marks them revoked and records the revocations
/// for every replica to learn. Call inside the transaction that causes it. Returns how many.
pub async fn revoke(
    db: &impl ConnectionTrait,
    environment_id: &str,
    which: Sessions<'_>,
    now: DateTime<Utc>,
    forget_after: DateTime<Utc>,
) -> Result<usize> {
    let condition = match which {
        Sessions::Id(id) => Condition::all().add(session::Column::Id.eq(id)),
        Sessions::OfUser(user_id) => Condition::all().add(session::Column::UserId.eq(user_id)),
        Sessions::OfUserInTenant(user_id, tenant_id) => Condition::all()
            .add(session::Column::UserId.eq(user_id))
            .add(session::Column::TenantId.eq(tenant_id)),
        Sessions::InTenant(tenant_id) => Condition::all().add(session::Column::TenantId.eq(tenant_id)),
    };
    let ids: Vec<String> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::EnvironmentId.eq(environment_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(condition)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.is_in(ids.clone()))
        .exec(db)
        .await?;
    let rows = ids.iter().map(|id| session_revocation::ActiveModel {
        session_id: Set(id.clone()),
        revoked_at: Set(now),
        forget_after: Set(forget_after),
    });
    session_revocation::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([session_revocation::Column::SessionId])
        .exec(db)
        .await?;
    if db.get_database_backend() == DbBackend::Postgres {
        // Delivered to every listening replica when the transaction commits.
        db.execute_unprepared(&format!("SELECT pg_notify('{REVOCATION_CHANNEL}', '')"))
            .await?;
    }
    Ok(ids.len())
}

/// Revocations recorded at or after `since`, with how long each must be remembered.
pub async fn revocations_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>, DateTime<Utc>)>> {
    Ok(session_revocation::Entity::find()
        .select_only()
        .column(session_revocation::Column::SessionId)
        .column(session_revocation::Column::RevokedAt)
        .column(session_revocation::Column::ForgetAfter)
        .filter(session_revocation::Column::RevokedAt.gte(since))
        .into_tuple()
        .all(db)
        .await?)
}

/// Deletes revocations no token can outlive any more.
pub async fn forget_revocations(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<()> {
    session_revocation::Entity::delete_many()
        .filter(session_revocation::Column::ForgetAfter.lt(now))
        .exec(db)
        .await?;
    Ok(())
}

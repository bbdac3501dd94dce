//! Queries over sessions, their refresh tokens, and session revocations.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    IntoActiveModel, QueryFilter, QuerySelect, Set, Statement, sea_query::Expr,
};

use super::{
    entity::{refresh_token, session, session_revocation, user},
    users::{self, UserRow},
};
use crate::domain::{
    error::Result,
    user::{Membership, User},
};

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

/// Marks the refresh token with this digest used, in one statement and only once: `None` when no
/// unused token has it (an unknown token, a replay, or a concurrent exchange that won).
pub async fn use_refresh_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<RefreshTokenRow>> {
    let mut used = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec_with_returning(db)
        .await?;
    Ok(used.pop())
}

/// A session and its user, in one query.
pub async fn with_user(db: &impl ConnectionTrait, id: &str) -> Result<Option<(SessionRow, UserRow)>> {
    let found = session::Entity::find_by_id(id)
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(session, user)| user.map(|u| (session, u))))
}

/// A refresh token exchanged for a new one: the session, its tenant, and its user.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The session's id.
    pub session_id: String,
    /// The tenant the session is in.
    pub tenant_id: Option<String>,
    /// The session's user, with its memberships.
    pub user: User,
}

/// The new refresh token a rotation stores.
#[derive(Debug, Clone)]
pub struct NextToken {
    /// SHA-256 of the new token.
    pub token_hash: String,
    /// When it expires; the session is pushed to the same instant.
    pub expires_at: DateTime<Utc>,
}

/// Exchanges a refresh token on PostgreSQL in one statement, so one round trip: uses the token
/// (only if it is unused and unexpired, its session live and in the environment, and its user not
/// locked), pushes the session's end forward, stores the next token, and returns the session and
/// user. `None` when anything was wrong, and then nothing was written.
pub async fn rotate_on_postgres(
    db: &impl ConnectionTrait,
    environment_id: &str,
    token_hash: &str,
    next: &NextToken,
    now: DateTime<Utc>,
) -> Result<Option<Rotated>> {
    const SQL: &str = r#"
        WITH used AS (
            UPDATE refresh_tokens AS rt SET used_at = $1
            FROM sessions AS s, users AS u
            WHERE rt.token_hash = $2 AND rt.used_at IS NULL AND rt.expires_at > $1
              AND s.id = rt.session_id AND s.environment_id = $3
              AND s.revoked_at IS NULL AND s.expires_at > $1
              AND u.id = s.user_id AND NOT u.locked
            RETURNING rt.session_id
        ), touched AS (
            UPDATE sessions AS s SET last_used_at = $1, expires_at = $4
            FROM used WHERE s.id = used.session_id
            RETURNING s.id AS session_id, s.tenant_id AS session_tenant_id, s.user_id
        ), issued AS (
            INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
            SELECT $5, touched.session_id, $6, $1, $4 FROM touched
        )
        SELECT touched.session_id, touched.session_tenant_id, u.*,
            ARRAY(SELECT t.tenant_id FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_ref
                  WHERE ut.user_id = u.id ORDER BY ut.created_at, t.tenant_id) AS member_tenant_ids,
            ARRAY(SELECT ut.created_at FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_ref
                  WHERE ut.user_id = u.id ORDER BY ut.created_at, t.tenant_id) AS member_since
        FROM touched JOIN users AS u ON u.id = touched.user_id"#;
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        SQL,
        [
            now.into(),
            token_hash.into(),
            environment_id.into(),
            next.expires_at.into(),
            uuid::Uuid::new_v4().to_string().into(),
            next.token_hash.clone().into(),
        ],
    );
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let user_row = UserRow::from_query_result(&row, "")?;
    let tenant_ids: Vec<String> = row.try_get("", "member_tenant_ids")?;
    let since: Vec<DateTime<Utc>> = row.try_get("", "member_since")?;
    let tenants = tenant_ids
        .into_iter()
        .zip(since)
        .map(|(tenant_id, created_at)| Membership {
            tenant_id,
            created_at,
        })
        .collect();
    Ok(Some(Rotated {
        session_id: row.try_get("", "session_id")?,
        tenant_id: row.try_get("", "session_tenant_id")?,
        user: users::to_domain(user_row, tenants),
    }))
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

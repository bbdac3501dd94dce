//! Queries over sessions, their refresh tokens, and session revocations.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QueryResult, QuerySelect, Set, Statement, TransactionTrait,
    sea_query::{Expr, ExprTrait, Query},
    sqlx,
};

use super::{
    First,
    entity::{refresh_token, session, session_revocation, user, user_tenant},
    roles::{self, postgres_access_columns, sqlite_access_columns},
    users::{self, UserRow},
};
use crate::domain::{
    Error,
    error::Result,
    role::Access,
    scope::Scope,
    user::{Membership, User},
};

/// The stored form of a session.
pub type SessionRow = session::Model;
/// The stored form of a refresh token.
pub type RefreshTokenRow = refresh_token::Model;

/// PostgreSQL channel on which revocations are announced to every replica.
pub const REVOCATION_CHANNEL: &str = "sigil_revocations";

/// A session a sign-in opens, with its first refresh token.
#[derive(Debug, Clone)]
pub struct Opening<'a> {
    /// The environment signing in.
    pub scope: &'a Scope,
    /// The user signing in.
    pub user_id: &'a str,
    /// The new session's id.
    pub session_id: &'a str,
    /// The client's user agent, as it told it.
    pub user_agent: Option<String>,
    /// The client's address.
    pub ip: Option<String>,
    /// The instant of the sign-in.
    pub now: DateTime<Utc>,
    /// When the session and its first refresh token expire.
    pub expires_at: DateTime<Utc>,
    /// SHA-256 of the first refresh token.
    pub refresh_token_hash: String,
    /// Whether the user holds the roles of its groups (the groups configuration).
    pub group_roles: bool,
}

/// The writes of a sign-in on SQLite, which has no writes in WITH but takes several statements in
/// one call. They run under one write lock (a transaction), so the later two see the first's
/// outcome by repeating its conditions. Only the first returns rows.
macro_rules! sqlite_sign_in {
    () => {
        concat!(
            r#"
        UPDATE users SET last_login = $1
        WHERE id = $2 AND environment_id = $9
          AND locked = FALSE AND activated = TRUE AND active_tenant_id IS NOT NULL
        RETURNING *,
            (SELECT json_group_array(t.tenant_id ORDER BY ut.created_at, t.tenant_id)
             FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_ref
             WHERE ut.user_id = users.id) AS member_tenant_ids,
            (SELECT json_group_array(ut.created_at ORDER BY ut.created_at, t.tenant_id)
             FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_ref
             WHERE ut.user_id = users.id) AS member_since, "#,
            sqlite_access_columns!(
                "users.id",
                "users.environment_id",
                "users.active_tenant_id",
                "$10"
            ),
            r#";
        INSERT INTO sessions (id, environment_id, user_id, tenant_id, user_agent, ip,
                              created_at, last_used_at, expires_at)
        SELECT $3, environment_id, id, active_tenant_id, $4, $5, $1, $1, $6 FROM users
        WHERE id = $2 AND environment_id = $9
          AND locked = FALSE AND activated = TRUE AND active_tenant_id IS NOT NULL;
        INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
        SELECT $7, id, $8, $1, $6 FROM sessions WHERE id = $3"#
        )
    };
}

/// The writes of a sign-in on PostgreSQL: one statement, atomic on its own.
const POSTGRES_SIGN_IN: &str = concat!(
    r#"
    WITH u AS (
        UPDATE users SET last_login = $1
        WHERE id = $2 AND environment_id = $9
          AND NOT locked AND activated AND active_tenant_id IS NOT NULL
        RETURNING *
    ), s AS (
        INSERT INTO sessions (id, environment_id, user_id, tenant_id, user_agent, ip,
                              created_at, last_used_at, expires_at)
        SELECT $3, environment_id, id, active_tenant_id, $4, $5, $1, $1, $6 FROM u
        RETURNING id
    ), r AS (
        INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
        SELECT $7, id, $8, $1, $6 FROM s
    )
    SELECT u.*,
        ARRAY(SELECT t.tenant_id FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_ref
              WHERE ut.user_id = u.id ORDER BY ut.created_at, t.tenant_id) AS member_tenant_ids,
        ARRAY(SELECT ut.created_at FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_ref
              WHERE ut.user_id = u.id ORDER BY ut.created_at, t.tenant_id) AS member_since, "#,
    postgres_access_columns!("u.id", "u.environment_id", "u.active_tenant_id", "$10"),
    " FROM u"
);

/// Everything a sign-in writes, in the caller's transaction: records the login on the user (only
/// if it is activated, not locked and in a tenant), opens a session in the user's active tenant
/// with its first refresh token, and returns the user as it now is with its access in that
/// tenant (read by the same statement). `None`, with nothing written,
/// when the user may not sign in. One call on SQLite, under its write lock; on PostgreSQL the
/// user's tenants and then the user are locked first (see [`lock_for_sign_in`]).
pub async fn open(db: &impl ConnectionTrait, opening: Opening<'_>) -> Result<Option<(User, Access)>> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        lock_for_sign_in(db, opening.scope, opening.user_id).await?;
    }
    let sql = if backend == DbBackend::Postgres {
        POSTGRES_SIGN_IN
    } else {
        sqlite_sign_in!()
    };
    let refresh_token_id = uuid::Uuid::new_v4().to_string();
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [
            opening.now.into(),
            opening.user_id.into(),
            opening.session_id.into(),
            opening.user_agent.into(),
            opening.ip.into(),
            opening.expires_at.into(),
            refresh_token_id.into(),
            opening.refresh_token_hash.into(),
            opening.scope.environment_id().into(),
            opening.group_roles.into(),
        ],
    );
    let row = db.query_all_raw(statement).await?.into_iter().next();
    row.map(|row| opened_user(&row, backend)).transpose()
}

/// [`open`] in a transaction of its own: on PostgreSQL, the locks and the statement; on SQLite,
/// one call carrying its own BEGIN IMMEDIATE and COMMIT, on one connection that is rolled back
/// and closed if any statement fails.
///
/// The work runs in a task of its own that finishes even when the caller goes away (a client
/// that times out or resets its stream drops the caller's future): cancelled halfway, SQLite's
/// statements would stop after BEGIN IMMEDIATE and the connection would go back to the pool
/// inside the transaction, holding the database's write lock.
pub async fn open_alone(db: &DatabaseConnection, opening: Opening<'_>) -> Result<Option<(User, Access)>> {
    let db = db.clone();
    let owned = OwnedOpening::from(opening);
    tokio::spawn(async move { owned.open_alone(&db).await })
        .await
        .map_err(Error::internal)?
}

/// An [`Opening`] that owns its values, to be moved into a task.
struct OwnedOpening {
    scope: Scope,
    user_id: String,
    session_id: String,
    user_agent: Option<String>,
    ip: Option<String>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    refresh_token_hash: String,
    group_roles: bool,
}

impl From<Opening<'_>> for OwnedOpening {
    fn from(opening: Opening<'_>) -> Self {
        Self {
            scope: opening.scope.clone(),
            user_id: opening.user_id.to_owned(),
            session_id: opening.session_id.to_owned(),
            user_agent: opening.user_agent,
            ip: opening.ip,
            now: opening.now,
            expires_at: opening.expires_at,
            refresh_token_hash: opening.refresh_token_hash,
            group_roles: opening.group_roles,
        }
    }
}

impl OwnedOpening {
    fn borrowed(&self) -> Opening<'_> {
        Opening {
            scope: &self.scope,
            user_id: &self.user_id,
            session_id: &self.session_id,
            user_agent: self.user_agent.clone(),
            ip: self.ip.clone(),
            now: self.now,
            expires_at: self.expires_at,
            refresh_token_hash: self.refresh_token_hash.clone(),
            group_roles: self.group_roles,
        }
    }

    async fn open_alone(self, db: &DatabaseConnection) -> Result<Option<(User, Access)>> {
        if db.get_database_backend() != DbBackend::Sqlite {
            let txn = db.begin().await?;
            let user = open(&txn, self.borrowed()).await?;
            txn.commit().await?;
            return Ok(user);
        }
        const SQL: &str = concat!("BEGIN IMMEDIATE;", sqlite_sign_in!(), "; COMMIT");
        let mut connection = db
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .map_err(super::sqlx_error)?;
        let outcome = sqlx::query(SQL)
            .bind(self.now)
            .bind(&self.user_id)
            .bind(&self.session_id)
            .bind(self.user_agent)
            .bind(self.ip)
            .bind(self.expires_at)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(self.refresh_token_hash)
            .bind(self.scope.environment_id())
            .bind(self.group_roles)
            .fetch_all(&mut *connection)
            .await;
        match outcome {
            Ok(rows) => rows
                .into_iter()
                .next()
                .map(|row| opened_user(&QueryResult::from(row), DbBackend::Sqlite))
                .transpose(),
            Err(error) => {
                // Never hand this connection back to the pool. It may be inside the transaction;
                // and sqlx keeps the failed statement prepared on it, whose next run panics the
                // connection's worker thread in sqlx-sqlite 0.9 ("There should be an error",
                // seemingly as the ROLLBACK below clears the error that resetting the statement
                // reports), leaving that caller waiting for ever and the write lock held.
                // Rolling back frees the lock at once; closing drops the prepared statement.
                let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
                connection.close_on_drop();
                Err(super::sqlx_error(error))
            }
        }
    }
}

/// Makes a PostgreSQL sign-in wait for any change in flight to the user's memberships, so the
/// statement that follows, which reads them under a snapshot of its own, sees that change
/// committed. Otherwise a removal from a tenant (which locks the user) or a tenant's deletion
/// (which locks the tenant) that commits while the sign-in waits would revoke the user's sessions
/// before this one exists, and its token would claim the tenant the user left. Tenants are locked
/// before the user, in the order those two take them, so the three cannot deadlock.
async fn lock_for_sign_in(db: &impl ConnectionTrait, scope: &Scope, user_id: &str) -> Result<()> {
    const LOCKS: [&str; 2] = [
        "SELECT t.id FROM tenants t JOIN user_tenants ut ON ut.tenant_ref = t.id \
         WHERE ut.user_id = $1 AND t.environment_id = $2 ORDER BY t.id FOR SHARE OF t",
        "SELECT id FROM users WHERE id = $1 AND environment_id = $2 FOR NO KEY UPDATE",
    ];
    for sql in LOCKS {
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [user_id.into(), scope.environment_id().into()],
        );
        db.query_all_raw(statement).await?;
    }
    Ok(())
}

fn opened_user(row: &QueryResult, backend: DbBackend) -> Result<(User, Access)> {
    let user_row = UserRow::from_query_result(row, "")?;
    Ok((
        users::to_domain(user_row, memberships_in(row, backend)?),
        roles::access_in(row, backend)?,
    ))
}

/// The memberships a statement returned beside a user row, as `member_tenant_ids` and
/// `member_since` (arrays on PostgreSQL, JSON arrays on SQLite), oldest first.
fn memberships_in(row: &QueryResult, backend: DbBackend) -> Result<Vec<Membership>> {
    let (tenant_ids, since): (Vec<String>, Vec<DateTime<Utc>>) = if backend == DbBackend::Postgres {
        (
            row.try_get("", "member_tenant_ids")?,
            row.try_get("", "member_since")?,
        )
    } else {
        let json = |column: &str| -> Result<Vec<String>> {
            let text: String = row.try_get("", column)?;
            serde_json::from_str(&text).map_err(Error::internal)
        };
        let since = json("member_since")?
            .iter()
            .map(|at| DateTime::parse_from_rfc3339(at).map(|at| at.to_utc()))
            .collect::<std::result::Result<_, _>>()
            .map_err(Error::internal)?;
        (json("member_tenant_ids")?, since)
    };
    Ok(tenant_ids
        .into_iter()
        .zip(since)
        .map(|(tenant_id, created_at)| Membership {
            tenant_id,
            created_at,
        })
        .collect())
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
        successor: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The refresh token with this digest and its session, a session of the scope.
pub async fn find_refresh_token(
    db: &impl ConnectionTrait,
    scope: &Scope,
    token_hash: &str,
) -> Result<Option<(RefreshTokenRow, SessionRow)>> {
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .filter(session::Column::EnvironmentId.eq(scope.environment_id()))
        .find_also_related(session::Entity)
        .first(db)
        .await?;
    Ok(found.and_then(|(token, session)| session.map(|s| (token, s))))
}

/// Marks the refresh token with this digest used, recording its sealed successor, in one
/// statement and only once: `None` when no unused token has it (an unknown token, a replay, or a
/// concurrent exchange that won).
pub async fn use_refresh_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
    successor: &str,
    now: DateTime<Utc>,
) -> Result<Option<RefreshTokenRow>> {
    let mut used = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .col_expr(refresh_token::Column::Successor, Expr::value(successor))
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec_with_returning(db)
        .await?;
    Ok(used.pop())
}

/// A session of the scope and its user, in one query.
pub async fn with_user(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: &str,
) -> Result<Option<(SessionRow, UserRow)>> {
    let found = session::Entity::find_by_id(id)
        .filter(session::Column::EnvironmentId.eq(scope.environment_id()))
        .find_also_related(user::Entity)
        .first(db)
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
    /// What the user may do in the session's tenant.
    pub access: Access,
}

/// The new refresh token a rotation stores.
#[derive(Debug, Clone)]
pub struct NextToken {
    /// SHA-256 of the new token.
    pub token_hash: String,
    /// The new token, sealed for the holder of the used one, recorded on the used one.
    pub sealed: String,
    /// When it expires, unless the session ends first; the session is pushed to the same instant.
    pub expires_at: DateTime<Utc>,
    /// Sessions opened at or before this instant have reached their absolute lifetime.
    pub opened_after: DateTime<Utc>,
}

/// Exchanges a refresh token on PostgreSQL in one statement, so one round trip: uses the token
/// (only if it is unused and unexpired, its session live, within its absolute lifetime and in the
/// environment, and its user not locked), pushes the session's end forward (never past its
/// absolute lifetime), stores the next token, and returns the session and user, with the roles
/// of the user's groups when `group_roles`. `None` when anything was wrong, and then nothing was
/// written.
pub async fn rotate_on_postgres(
    db: &impl ConnectionTrait,
    scope: &Scope,
    token_hash: &str,
    next: &NextToken,
    now: DateTime<Utc>,
    group_roles: bool,
) -> Result<Option<Rotated>> {
    const SQL: &str = concat!(
        r#"
        WITH used AS (
            UPDATE refresh_tokens AS rt SET used_at = $1, successor = $7
            FROM sessions AS s, users AS u
            WHERE rt.token_hash = $2 AND rt.used_at IS NULL AND rt.expires_at > $1
              AND s.id = rt.session_id AND s.environment_id = $3
              AND s.revoked_at IS NULL AND s.expires_at > $1 AND s.created_at > $8
              AND u.id = s.user_id AND NOT u.locked
            RETURNING rt.session_id
        ), touched AS (
            -- $1 - $8 is the absolute lifetime.
            UPDATE sessions AS s
            SET last_used_at = $1, expires_at = LEAST($4, s.created_at + ($1 - $8))
            FROM used WHERE s.id = used.session_id
            RETURNING s.id AS session_id, s.tenant_id AS session_tenant_id, s.user_id,
                s.expires_at AS session_expires_at
        ), issued AS (
            INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
            SELECT $5, touched.session_id, $6, $1, touched.session_expires_at FROM touched
        )
        SELECT touched.session_id, touched.session_tenant_id, u.*,
            ARRAY(SELECT t.tenant_id FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_ref
                  WHERE ut.user_id = u.id ORDER BY ut.created_at, t.tenant_id) AS member_tenant_ids,
            ARRAY(SELECT ut.created_at FROM user_tenants ut JOIN tenants t ON t.id = ut.tenant_ref
                  WHERE ut.user_id = u.id ORDER BY ut.created_at, t.tenant_id) AS member_since, "#,
        postgres_access_columns!("u.id", "u.environment_id", "touched.session_tenant_id", "$9"),
        " FROM touched JOIN users AS u ON u.id = touched.user_id"
    );
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        SQL,
        [
            now.into(),
            token_hash.into(),
            scope.environment_id().into(),
            next.expires_at.into(),
            uuid::Uuid::new_v4().to_string().into(),
            next.token_hash.clone().into(),
            next.sealed.clone().into(),
            next.opened_after.into(),
            group_roles.into(),
        ],
    );
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok(None);
    };
    let user_row = UserRow::from_query_result(&row, "")?;
    let tenants = memberships_in(&row, DbBackend::Postgres)?;
    Ok(Some(Rotated {
        session_id: row.try_get("", "session_id")?,
        tenant_id: row.try_get("", "session_tenant_id")?,
        user: users::to_domain(user_row, tenants),
        access: roles::access_in(&row, DbBackend::Postgres)?,
    }))
}

/// Moves the live sessions of user `user_id` of the scope (only session `session_id`, when
/// given) to tenant `tenant_id`: their next refresh issues tokens for it.
pub async fn move_to_tenant(
    db: &impl ConnectionTrait,
    scope: &Scope,
    user_id: &str,
    session_id: Option<&str>,
    tenant_id: &str,
) -> Result<()> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::TenantId, Expr::value(tenant_id))
        .filter(session::Column::EnvironmentId.eq(scope.environment_id()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(session_id) = session_id {
        update = update.filter(session::Column::Id.eq(session_id));
    }
    update.exec(db).await?;
    Ok(())
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
    /// Every session in a tenant (by tenant id).
    InTenant(&'a str),
    /// Every session, in any tenant, of the members of a tenant (by its row id): their tokens
    /// list the tenant in `tenantIds`.
    OfMembersOf(&'a str),
}

/// Revokes the live sessions `which` selects: marks them revoked and records the revocations
/// for every replica to learn. Call inside the transaction that causes it. Returns how many.
pub async fn revoke(
    db: &impl ConnectionTrait,
    scope: &Scope,
    which: Sessions<'_>,
    now: DateTime<Utc>,
    forget_after: DateTime<Utc>,
) -> Result<usize> {
    let condition = match which {
        Sessions::Id(id) => Condition::all().add(session::Column::Id.eq(id)),
        Sessions::OfUser(user_id) => Condition::all().add(session::Column::UserId.eq(user_id)),
        Sessions::InTenant(tenant_id) => Condition::all().add(session::Column::TenantId.eq(tenant_id)),
        Sessions::OfMembersOf(tenant_row_id) => Condition::all().add(
            session::Column::UserId.in_subquery(
                Query::select()
                    .column(user_tenant::Column::UserId)
                    .from(user_tenant::Entity)
                    .and_where(Expr::col(user_tenant::Column::TenantRef).eq(tenant_row_id))
                    .to_owned(),
            ),
        ),
    };
    let ids: Vec<String> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::EnvironmentId.eq(scope.environment_id()))
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
        ..Default::default()
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

/// A recorded revocation, as replicas read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationRow {
    /// Its number in the database sequence.
    pub seq: i64,
    /// The revoked session.
    pub session_id: String,
    /// When no access token of the session can be valid any more.
    pub forget_after: DateTime<Utc>,
}

/// Revocations numbered above `after`, in the order of their numbers.
pub async fn revocations_after(db: &impl ConnectionTrait, after: i64) -> Result<Vec<RevocationRow>> {
    let rows: Vec<(i64, String, DateTime<Utc>)> = session_revocation::Entity::find()
        .select_only()
        .column(session_revocation::Column::Seq)
        .column(session_revocation::Column::SessionId)
        .column(session_revocation::Column::ForgetAfter)
        .filter(session_revocation::Column::Seq.gt(after))
        .order_by_asc(session_revocation::Column::Seq)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, session_id, forget_after)| RevocationRow {
            seq,
            session_id,
            forget_after,
        })
        .collect())
}

/// Deletes revocations no token can outlive any more.
pub async fn forget_revocations(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<()> {
    session_revocation::Entity::delete_many()
        .filter(session_revocation::Column::ForgetAfter.lt(now))
        .exec(db)
        .await?;
    Ok(())
}

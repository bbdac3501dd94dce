//! Persistence: sea-orm entities and the queries over them. Database errors become domain errors
//! here, and nowhere else.

pub mod bulk_roles;
pub mod cleanup;
pub mod entity;
pub mod environments;
pub mod groups;
pub mod keys;
pub mod permissions;
#[cfg(test)]
pub(crate) mod plan;
pub mod policies;
pub mod roles;
pub mod sessions;
pub mod tenants;
#[cfg(test)]
pub(crate) mod testing;
pub mod tokens;
pub mod users;

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, RuntimeErr, Select, SelectTwo, Selector, SelectorTrait, SqlErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use crate::domain::{Error, Resource, error::FieldViolation, page::Order};

/// The database used when none is configured: `sigil.db` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://sigil.db?mode=rwc";

/// Opens a pool on `url` (`sqlite://...` or `postgres://...`) of at most `max_connections`,
/// where a request waits at most `wait` for a connection (and, on SQLite, for the write lock).
///
/// Every connection goes back to the pool only outside a transaction: one still inside one when
/// released (its rollback failed, or was cut short) is closed, so what is written on it next can
/// never be left uncommitted, nor its lock held. A SQLite connection that opens read-only (the
/// files were write-protected at that moment) is refused rather than pooled.
pub async fn connect(url: &str, max_connections: u32, wait: Duration) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(wait)
        // sqlx would log every statement, parameters included.
        .sqlx_logging(false)
        // With write-ahead logging, NORMAL syncs at checkpoints rather than at every commit: a
        // crash of sigil loses nothing, a power cut may lose the last commits (sessions, mostly).
        .map_sqlx_sqlite_opts(move |options| {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(wait)
        })
        .map_sqlx_sqlite_pool_opts(|options| {
            options
                .after_connect(|conn, _| Box::pin(refuse_read_only(conn)))
                .after_release(|conn, _| Box::pin(released_cleanly(conn)))
        })
        .map_sqlx_postgres_pool_opts(|options| {
            options.after_release(|conn, _| Box::pin(released_cleanly(conn)))
        });
    // Write-ahead logging (above) lets readers run beside the single writer. Foreign keys are on
    // by default in sqlx's SQLite driver.
    let started = tokio::time::Instant::now();
    loop {
        match Database::connect(options.clone()).await {
            // Switching a new SQLite file to write-ahead logging fails at once, without waiting
            // for the busy timeout, while another process holds its lock (two replicas starting
            // together on one file): try again until the timeout.
            Err(error) if sqlite_busy(&error) && started.elapsed() < CONNECT_TIMEOUT => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            connected => return Ok(connected?),
        }
    }
}

/// How long a request waits for a pooled connection when none is configured.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(2);

/// How long opening the pool may take, busy retries included.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a connection handed back to the pool may serve again: only outside a transaction.
/// sqlx rolls back a transaction dropped unfinished when the connection is next used; on SQLite
/// that rollback is still queued here, so the connection is pinged (which runs it) before the
/// verdict. A rollback that failed leaves the connection counted inside its transaction.
async fn released_cleanly<C: sea_orm::sqlx::Connection>(conn: &mut C) -> Result<bool, sea_orm::sqlx::Error> {
    if conn.is_in_transaction() {
        conn.ping().await?;
    }
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("closing a database connection released inside a transaction");
    }
    Ok(clean)
}

/// Refuses a SQLite connection that cannot write. SQLite opens write-protected files for reading
/// without a word (BEGIN IMMEDIATE even succeeds on them), and such a connection fails every
/// write for as long as it lives, long after the files are writable again. So each new
/// connection writes once, in a transaction it rolls back: it sets the schema's user version to
/// the value it has.
async fn refuse_read_only(conn: &mut sea_orm::sqlx::SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::sqlx::{AssertSqlSafe, query, query_scalar};
    let version: i64 = query_scalar("PRAGMA user_version").fetch_one(&mut *conn).await?;
    query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let wrote = query(AssertSqlSafe(format!("PRAGMA user_version = {version}")))
        .execute(&mut *conn)
        .await;
    query("ROLLBACK").execute(&mut *conn).await?;
    wrote.map(drop)
}

/// SQLite's primary result codes that sigil tells apart.
const SQLITE_BUSY: i32 = 5;

/// The primary SQLite result code of `error`, if it is one: the low byte of an extended code
/// (SQLITE_BUSY_RECOVERY is 261). PostgreSQL's five-character SQLSTATEs are not numbers.
fn sqlite_code(error: &sea_orm::sqlx::Error) -> Option<i32> {
    let code = error.as_database_error()?.code()?;
    (code.len() < 5)
        .then(|| code.parse::<i32>().ok())
        .flatten()
        .map(|code| code & 0xff)
}

/// Whether `error` is SQLite's SQLITE_BUSY ("database is locked", extended codes included).
fn sqlite_busy(error: &DbErr) -> bool {
    sqlx_cause(error).and_then(sqlite_code) == Some(SQLITE_BUSY)
}

/// The sqlx error inside a sea-orm one, if any.
fn sqlx_cause(error: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(cause))
        | DbErr::Exec(RuntimeErr::SqlxError(cause))
        | DbErr::Query(RuntimeErr::SqlxError(cause)) => Some(cause),
        _ => None,
    }
}

/// Key of the PostgreSQL advisory lock that serializes migrations across replicas.
const MIGRATION_LOCK: i64 = 0x7369_6769_6c00; // "sigil"

/// Applies the migrations that have not run yet; a no-op when all have. They run in one
/// transaction that first takes a lock (PostgreSQL: an advisory lock; SQLite: the write lock), so
/// replicas starting together take turns and a failed migration leaves nothing half-applied.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = begin(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
            .await?;
    }
    Migrator::up(&txn, None).await?;
    // Environments that existed before roles and permissions did get the built-in ones here, once,
    // and those made before a release of the built-in catalog get what it added (new environments
    // get the whole catalog as they are created): in the migrations' transaction, under their
    // lock, so replicas starting together seed each environment once.
    let (seeded, updated) = permissions::seed_environments(&txn, chrono::Utc::now()).await?;
    if seeded + updated > 0 {
        tracing::info!(
            seeded,
            updated,
            "gave environments the built-in roles and permissions"
        );
    }
    txn.commit().await?;
    Ok(())
}

/// Advisory lock keys of the one-off writes that replicas must not do twice at once.
#[derive(Debug, Clone, Copy)]
#[repr(i64)]
pub enum Lock {
    /// Creating or updating the default environment at start.
    Bootstrap = 0x7369_6769_6c01,
    /// Generating an environment's next signing key.
    SigningKeys = 0x7369_6769_6c02,
}

/// Makes `txn` the only holder of `lock` until it ends, so replicas doing the same thing take
/// turns and the later one sees what the earlier one wrote. PostgreSQL: a transaction-scoped
/// advisory lock; SQLite: nothing more is needed, as [`begin`] already took the database's
/// single write lock.
pub async fn serialize(txn: &DatabaseTransaction, lock: Lock) -> Result<(), Error> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({})", lock as i64))
            .await?;
    }
    Ok(())
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front (BEGIN
/// IMMEDIATE), so that two writers queue on the busy timeout instead of failing when one upgrades
/// a read lock; on PostgreSQL, rows read to be changed are locked with `FOR UPDATE`.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, Error> {
    Ok(begin_writing(db).await?)
}

/// [`begin`], with sea-orm's error.
async fn begin_writing(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Whether `key` can name a stored row at all. Ids, tenant ids and client ids never hold control
/// characters (sigil makes or checks them), so a lookup by one that does finds nothing without a
/// query, the same on both databases (PostgreSQL would refuse a NUL in the statement).
pub(crate) fn may_exist(key: &str) -> bool {
    !key.chars().any(char::is_control)
}

/// The SQL sort direction of a domain sort order.
pub(crate) fn sort_order(order: Order) -> sea_orm::Order {
    match order {
        Order::Asc => sea_orm::Order::Asc,
        Order::Desc => sea_orm::Order::Desc,
    }
}

/// Where NULLs go in an order by a nullable column, said explicitly because the databases
/// disagree (SQLite puts them first, PostgreSQL last): before every value, as the smallest.
pub(crate) fn nulls_as_smallest(order: Order) -> sea_orm::sea_query::NullOrdering {
    match order {
        Order::Asc => sea_orm::sea_query::NullOrdering::First,
        Order::Desc => sea_orm::sea_query::NullOrdering::Last,
    }
}

/// Whether the database answers.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// Unique indexes and what a violation of each means to a caller: the index name (PostgreSQL
/// reports it), the column list (SQLite reports that instead), the resource and the field.
const UNIQUE_INDEXES: &[(&str, &str, Resource, &str)] = &[
    (
        "ux_users_environment_email",
        "users.environment_id, users.email",
        Resource::User,
        "email",
    ),
    (
        "ux_tenants_environment_tenant_id",
        "tenants.environment_id, tenants.tenant_id",
        Resource::Tenant,
        "tenant_id",
    ),
    (
        "user_tenants_pkey",
        "user_tenants.user_id, user_tenants.tenant_ref",
        Resource::Membership,
        "tenant_id",
    ),
    (
        "ux_roles_environment_key",
        "roles.environment_id, roles.key",
        Resource::Role,
        "key",
    ),
    (
        "ux_permissions_environment_key",
        "permissions.environment_id, permissions.key",
        Resource::Permission,
        "key",
    ),
    (
        "permission_categories_pkey",
        "permission_categories.environment_id, permission_categories.id",
        Resource::PermissionCategory,
        "id",
    ),
    (
        "ux_groups_tenant_name",
        "groups.tenant_ref, groups.name",
        Resource::Group,
        "name",
    ),
    (
        "ux_environments_client_id",
        "environments.client_id",
        Resource::Environment,
        "client_id",
    ),
    (
        "ux_environments_host",
        "environments.host",
        Resource::Environment,
        "host",
    ),
];

impl From<DbErr> for Error {
    fn from(error: DbErr) -> Self {
        let trouble = match &error {
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout) => Some(Trouble::Busy),
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed) => Some(Trouble::Fault),
            error => sqlx_cause(error).and_then(trouble),
        };
        if let Some(trouble) = trouble {
            return unavailable(trouble, error);
        }
        // PostgreSQL refuses NUL in text (character_not_in_repertoire): a value no row can hold.
        // Requests are checked for control characters where they arrive; this is the net below.
        let code = sqlx_cause(&error)
            .and_then(|cause| cause.as_database_error())
            .and_then(|cause| cause.code());
        if code.as_deref() == Some("22021") {
            return Error::InvalidArgument(vec![FieldViolation::new(
                "request",
                "must not contain NUL characters",
            )]);
        }
        if let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() {
            for (index, columns, resource, field) in UNIQUE_INDEXES {
                if message.contains(index) || message.contains(columns) {
                    return Error::AlreadyExists {
                        resource: *resource,
                        field,
                    };
                }
            }
        }
        Error::internal(error)
    }
}

/// A database error met through sqlx directly (outside sea-orm), as a domain error.
pub(crate) fn sqlx_error(error: sea_orm::sqlx::Error) -> Error {
    match trouble(&error) {
        Some(trouble) => unavailable(trouble, error),
        None => Error::internal(error),
    }
}

/// Why the database could not do the work now, when the same request may well succeed if retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    /// Too busy: a lock or a pooled connection was not free in time, or a serialization
    /// conflict. Nothing is wrong with the database.
    Busy,
    /// The database cannot write or cannot be reached: disk full, read-only files, an I/O error,
    /// PostgreSQL down, restarting or out of connections.
    Fault,
}

/// What a retry may cure in `error`, if anything.
fn trouble(error: &sea_orm::sqlx::Error) -> Option<Trouble> {
    use sea_orm::sqlx::Error as Sqlx;
    match error {
        // A closed pool is this process stopping.
        Sqlx::PoolTimedOut | Sqlx::PoolClosed => Some(Trouble::Busy),
        Sqlx::Io(_) | Sqlx::Tls(_) | Sqlx::WorkerCrashed => Some(Trouble::Fault),
        Sqlx::Database(database) => {
            let code = database.code()?;
            if let Some(code) = sqlite_code(error) {
                return match code {
                    // SQLITE_BUSY, SQLITE_LOCKED
                    SQLITE_BUSY | 6 => Some(Trouble::Busy),
                    // SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
                    8 | 10 | 13 | 14 => Some(Trouble::Fault),
                    _ => None,
                };
            }
            // PostgreSQL's SQLSTATE: serialization_failure, deadlock_detected and
            // lock_not_available; connection exceptions (class 08), insufficient resources
            // (class 53: disk full, out of memory, too many connections), the server shutting
            // down or starting (57P01-57P03), an I/O error (58030) and a read-only transaction
            // (25006: a standby).
            match code.as_ref() {
                "40001" | "40P01" | "55P03" => Some(Trouble::Busy),
                "57P01" | "57P02" | "57P03" | "58030" | "25006" => Some(Trouble::Fault),
                code if code.starts_with("08") || code.starts_with("53") => Some(Trouble::Fault),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The database could not do the work now: logged with its cause, answered as retryable, and a
/// fault made known to [`storage_faults`] watchers.
fn unavailable(trouble: Trouble, error: impl std::fmt::Display) -> Error {
    match trouble {
        Trouble::Busy => {
            tracing::warn!(error = %error, "the database is busy; the request may be retried");
            Error::Unavailable("the database is busy; retry shortly")
        }
        Trouble::Fault => {
            tracing::error!(error = %error, "the database cannot do the work now");
            FAULTS.send_modify(|faults| *faults = faults.wrapping_add(1));
            Error::Unavailable("the database is unavailable; retry shortly")
        }
    }
}

/// Counts the storage faults this process has met, for readiness to follow.
static FAULTS: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::Sender::new(0));

/// Changes whenever a request of this process meets a storage fault (the database could not
/// write, or could not be reached). Process-wide: a process serves one database.
pub fn storage_faults() -> tokio::sync::watch::Receiver<u64> {
    FAULTS.subscribe()
}

/// Writes to the database and commits, to learn whether it can write: true once the commit
/// returned. Waits for the write lock like any writer.
pub async fn check_writes(db: &DatabaseConnection, now: chrono::DateTime<chrono::Utc>) -> bool {
    let statement = sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            DbBackend::Postgres => {
                "INSERT INTO write_checks (id, checked_at) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
            }
            _ => {
                "INSERT INTO write_checks (id, checked_at) VALUES (1, ?) \
                 ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at"
            }
        },
        [now.into()],
    );
    let written = async {
        let txn = begin_writing(db).await?;
        txn.execute_raw(statement).await?;
        txn.commit().await?;
        Ok::<_, DbErr>(())
    }
    .await;
    if let Err(error) = &written {
        tracing::debug!(error = %error, "the database cannot write yet");
    }
    written.is_ok()
}

/// The first row of a query, for use in place of sea-orm's `one()`, which binds its `LIMIT 1` as
/// a parameter: SQLite compiles a statement whose LIMIT is a parameter again at every run, cached
/// or not, while with the literal `LIMIT 1` used here the cached statement runs as it is.
pub(crate) trait First {
    type Item;

    /// The first row `self` selects, if any.
    fn first<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> impl Future<Output = Result<Option<Self::Item>, DbErr>> + Send;
}

impl<S: SelectorTrait + Send> First for Selector<S> {
    type Item = S::Item;

    async fn first<C: ConnectionTrait>(self, db: &C) -> Result<Option<S::Item>, DbErr> {
        let backend = db.get_database_backend();
        if backend != DbBackend::Sqlite {
            return self.one(db).await;
        }
        // SQLite has no row locks, so the statement ends with its ORDER BY, if any.
        let mut statement = self.into_statement(backend);
        statement.sql.push_str(" LIMIT 1");
        db.query_one_raw(statement)
            .await?
            .map(S::from_raw_query_result)
            .transpose()
    }
}

impl<E: EntityTrait> First for Select<E> {
    type Item = E::Model;

    fn first<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> impl Future<Output = Result<Option<E::Model>, DbErr>> + Send {
        self.into_model::<E::Model>().first(db)
    }
}

impl<E: EntityTrait, F: EntityTrait> First for SelectTwo<E, F> {
    type Item = (E::Model, Option<F::Model>);

    fn first<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> impl Future<Output = Result<Option<Self::Item>, DbErr>> + Send {
        self.into_model::<E::Model, F::Model>().first(db)
    }
}

/// Connections of the pool: `(in use, idle)`.
pub fn pool_usage(db: &DatabaseConnection) -> (u32, u32) {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    (size.saturating_sub(idle), idle)
}

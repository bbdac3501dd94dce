//! Persistence: sea-orm entities and the queries over them. Database errors become domain errors
//! here, and nowhere else.

pub mod cleanup;
pub mod entity;
pub mod environments;
pub mod keys;
#[cfg(test)]
mod plan;
pub mod sessions;
pub mod tenants;
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

use crate::domain::{Error, Resource, page::Order};

/// The database used when none is configured: `sigil.db` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://sigil.db?mode=rwc";

/// Opens a pool on `url` (`sqlite://...` or `postgres://...`).
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(Duration::from_secs(10))
        // sqlx would log every statement, parameters included.
        .sqlx_logging(false)
        // With write-ahead logging, NORMAL syncs at checkpoints rather than at every commit: a
        // crash of sigil loses nothing, a power cut may lose the last commits (sessions, mostly).
        .map_sqlx_sqlite_opts(|options| {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
        });
    // Write-ahead logging (above) lets readers run beside the single writer. Foreign keys and a
    // busy timeout are on by default in sqlx's SQLite driver.
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

/// How long opening the pool may take, busy retries included.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `error` is SQLite's SQLITE_BUSY ("database is locked", extended codes included).
fn sqlite_busy(error: &DbErr) -> bool {
    let (DbErr::Conn(RuntimeErr::SqlxError(error)) | DbErr::Exec(RuntimeErr::SqlxError(error))) = error
    else {
        return false;
    };
    let Some(code) = error.as_database_error().and_then(|e| e.code()) else {
        return false;
    };
    // The primary result code is the low byte of an extended one (SQLITE_BUSY_RECOVERY is 261).
    code.parse::<i32>().is_ok_and(|code| code & 0xff == 5)
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
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?)
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
        match &error {
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout) => return busy(error),
            DbErr::Conn(RuntimeErr::SqlxError(cause))
            | DbErr::Exec(RuntimeErr::SqlxError(cause))
            | DbErr::Query(RuntimeErr::SqlxError(cause))
                if retryable(cause) =>
            {
                return busy(error);
            }
            _ => {}
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
    if retryable(&error) {
        return busy(error);
    }
    Error::internal(error)
}

/// Whether `error` says the database was too busy to do the work now, and the same request may
/// well succeed if retried: SQLite's BUSY and LOCKED, PostgreSQL's serialization failure and
/// deadlock, and no pooled connection free in time.
fn retryable(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match error {
        Sqlx::PoolTimedOut => true,
        Sqlx::Database(error) => {
            let Some(code) = error.code() else {
                return false;
            };
            // PostgreSQL's SQLSTATE has five characters: serialization_failure and
            // deadlock_detected. SQLite's result codes are shorter numbers, the primary code
            // the low byte of an extended one: SQLITE_BUSY (5) and SQLITE_LOCKED (6).
            if code.len() == 5 {
                matches!(code.as_ref(), "40001" | "40P01")
            } else {
                code.parse::<i32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6))
            }
        }
        _ => false,
    }
}

/// The database could not do the work now: logged with its cause, answered as retryable.
fn busy(error: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %error, "the database is busy; the request may be retried");
    Error::Unavailable("the database is busy; retry shortly")
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

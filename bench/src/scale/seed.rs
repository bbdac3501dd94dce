//! Bulk seeding for the scale scenario: users cloned from template users in multi-row INSERTs,
//! straight into the database of a stopped server.

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement,
    TransactionTrait, Value,
};

use super::Sampled;

/// Rows per INSERT: 3 parameters each for users, within both databases' limits on parameters
/// (SQLite 32,766, PostgreSQL 65,535).
const BATCH: usize = 1_000;
/// Rows per transaction.
const TRANSACTION: usize = 50_000;
/// Seeded users kept for the lookups and sign-ins, spread over the whole seeding.
const SAMPLE: u64 = 1_000;

/// A tenant's template user and how many copies of it to make.
pub struct Template {
    pub tenant: &'static str,
    pub user_id: String,
    pub clones: u64,
}

/// One user to insert.
struct Row {
    id: String,
    email: String,
    created_at: DateTime<Utc>,
}

/// How one table's rows are cloned: the columns a clone gets its own values for, and the column
/// naming the template's row it copies every other column from.
struct Shape {
    table: &'static str,
    /// (column, its value's name in the VALUES list).
    own: &'static [(&'static str, &'static str)],
    /// The VALUES list's columns.
    values: &'static [&'static str],
    template_column: &'static str,
}

/// `users`: a clone's own id, email and timestamps.
const USERS: Shape = Shape {
    table: "users",
    own: &[
        ("id", "id"),
        ("email", "email"),
        ("created_at", "created_at"),
        ("updated_at", "created_at"),
    ],
    values: &["id", "email", "created_at"],
    template_column: "id",
};

/// `user_tenants`: the clone's membership of its template's tenant.
const MEMBERSHIPS: Shape = Shape {
    table: "user_tenants",
    own: &[
        ("user_id", "id"),
        ("created_at", "created_at"),
        ("user_created_at", "created_at"),
    ],
    values: &["id", "created_at"],
    template_column: "user_id",
};

/// The INSERT statements of one table.
struct Cloning {
    shape: &'static Shape,
    /// The table's columns, from the database.
    columns: Vec<String>,
}

impl Cloning {
    async fn new(db: &DatabaseConnection, shape: &'static Shape) -> anyhow::Result<Self> {
        let columns = columns(db, shape.table).await?;
        for (column, _) in shape.own {
            if !columns.iter().any(|c| c == column) {
                bail!(
                    "table {} has no column {column}: the scale seeding needs updating",
                    shape.table
                );
            }
        }
        Ok(Self { shape, columns })
    }

    /// `WITH v(...) AS (VALUES ...) INSERT INTO table (...) SELECT ... FROM v CROSS JOIN table t
    /// WHERE t.template_column = <last parameter>` for `rows` rows.
    fn sql(&self, backend: DatabaseBackend, rows: usize) -> String {
        let mut parameter = 0;
        let mut next = || {
            parameter += 1;
            match backend {
                DatabaseBackend::Postgres => format!("${parameter}"),
                _ => "?".to_owned(),
            }
        };
        let tuples: Vec<String> = (0..rows)
            .map(|_| {
                let row: Vec<String> = self.shape.values.iter().map(|_| next()).collect();
                format!("({})", row.join(", "))
            })
            .collect();
        let template = next();
        let selected: Vec<String> = self
            .columns
            .iter()
            .map(|column| match self.shape.own.iter().find(|(c, _)| c == column) {
                Some((_, value)) => format!("v.\"{value}\""),
                None => format!("t.\"{column}\""),
            })
            .collect();
        let quoted: Vec<String> = self.columns.iter().map(|c| format!("\"{c}\"")).collect();
        let values: Vec<String> = self.shape.values.iter().map(|v| format!("\"{v}\"")).collect();
        format!(
            "WITH v({}) AS (VALUES {}) INSERT INTO \"{table}\" ({}) SELECT {} FROM v CROSS JOIN \"{table}\" AS t WHERE t.\"{}\" = {template}",
            values.join(", "),
            tuples.join(", "),
            quoted.join(", "),
            selected.join(", "),
            self.shape.template_column,
            table = self.shape.table,
        )
    }

    fn parameters(&self, rows: &[Row], template: &str) -> Vec<Value> {
        let mut parameters = Vec::with_capacity(rows.len() * self.shape.values.len() + 1);
        for row in rows {
            for value in self.shape.values {
                parameters.push(match *value {
                    "id" => Value::from(row.id.clone()),
                    "email" => Value::from(row.email.clone()),
                    _ => Value::from(row.created_at),
                });
            }
        }
        parameters.push(Value::from(template.to_owned()));
        parameters
    }
}

/// The columns of `table`, in order.
async fn columns(db: &DatabaseConnection, table: &str) -> anyhow::Result<Vec<String>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Sqlite => "SELECT name FROM pragma_table_info(?) ORDER BY cid",
        DatabaseBackend::Postgres => {
            "SELECT column_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        }
        _ => bail!("only SQLite and PostgreSQL are supported"),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [Value::from(table)]))
        .await?;
    let names = rows
        .iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() {
        bail!("no table {table}: the server has not run its migrations");
    }
    Ok(names)
}

/// Inserts each template's clones into the database at `url`, the tenants' users interleaved in
/// time as when they sign up over the same months; returns a sample of them.
pub async fn clone_users(url: &str, templates: &[Template]) -> anyhow::Result<Vec<Sampled>> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(1).min_connections(1).sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .context("connecting to the database")?;
    let backend = db.get_database_backend();
    match backend {
        // A crash mid-seeding only loses a database that is thrown away anyway.
        DatabaseBackend::Sqlite => {
            for pragma in [
                "PRAGMA synchronous = OFF",
                "PRAGMA cache_size = -262144",
                "PRAGMA temp_store = MEMORY",
            ] {
                db.execute_unprepared(pragma).await?;
            }
        }
        DatabaseBackend::Postgres => {
            db.execute_unprepared("SET synchronous_commit = off").await?;
        }
        _ => bail!("only SQLite and PostgreSQL are supported"),
    }
    let users = Cloning::new(&db, &USERS).await?;
    let memberships = Cloning::new(&db, &MEMBERSHIPS).await?;
    let full = (users.sql(backend, BATCH), memberships.sql(backend, BATCH));

    let total: u64 = templates.iter().map(|t| t.clones).sum();
    let every = (total / SAMPLE).max(1);
    // One second apart, the oldest first, all before the templates (created just now); in
    // microseconds, as the server stores them.
    let start = Utc::now().trunc_subsecs(6) - TimeDelta::seconds(total as i64 + 60);
    let started = Instant::now();
    let mut pending: Vec<Vec<Row>> = templates.iter().map(|_| Vec::with_capacity(BATCH)).collect();
    // Smooth weighted round robin: every stretch of the timeline has each tenant's share.
    let mut credit: Vec<i128> = vec![0; templates.len()];
    let mut sample = Vec::new();
    let mut txn = db.begin().await?;
    let mut in_transaction = 0;
    for position in 0..total {
        for (credit, template) in credit.iter_mut().zip(templates) {
            *credit += i128::from(template.clones);
        }
        let chosen = (0..templates.len()).max_by_key(|&i| credit[i]).unwrap_or(0);
        credit[chosen] -= i128::from(total);
        let template = &templates[chosen];
        let row = Row {
            id: uuid::Uuid::new_v4().to_string(),
            email: format!("u{position}@{}.scale.test", template.tenant),
            created_at: start + TimeDelta::seconds(position as i64),
        };
        if position % every == every / 2 && (sample.len() as u64) < SAMPLE {
            sample.push(Sampled {
                id: row.id.clone(),
                email: row.email.clone(),
                tenant: template.tenant,
            });
        }
        pending[chosen].push(row);
        if pending[chosen].len() == BATCH {
            let rows = std::mem::replace(&mut pending[chosen], Vec::with_capacity(BATCH));
            insert(
                &txn,
                backend,
                &users,
                &memberships,
                Some(&full),
                &rows,
                &template.user_id,
            )
            .await?;
            in_transaction += rows.len();
            if in_transaction >= TRANSACTION {
                txn.commit().await?;
                txn = db.begin().await?;
                in_transaction = 0;
            }
        }
        if (position + 1).is_multiple_of(100_000) {
            println!(
                "  seeded {} of {} users in {:.1} s",
                super::thousands(position + 1),
                super::thousands(total),
                started.elapsed().as_secs_f64()
            );
        }
    }
    for (rows, template) in pending.iter().zip(templates) {
        if !rows.is_empty() {
            insert(&txn, backend, &users, &memberships, None, rows, &template.user_id).await?;
        }
    }
    txn.commit().await?;
    match backend {
        // What autovacuum does to a table that grew this much; without it the planner would
        // still see the empty tables of the migrations.
        DatabaseBackend::Postgres => {
            db.execute_unprepared("VACUUM ANALYZE users, user_tenants")
                .await?;
        }
        // SQLite has no such background work: the server gets the file as the inserts left it.
        _ => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
    }
    db.close().await?;
    Ok(sample)
}

/// Inserts `rows` and their memberships, clones of `template`. `full` holds the statements for
/// a full batch, built once.
async fn insert(
    txn: &impl ConnectionTrait,
    backend: DatabaseBackend,
    users: &Cloning,
    memberships: &Cloning,
    full: Option<&(String, String)>,
    rows: &[Row],
    template: &str,
) -> anyhow::Result<()> {
    let (users_sql, memberships_sql) = match full {
        Some((u, m)) if rows.len() == BATCH => (u.clone(), m.clone()),
        _ => (
            users.sql(backend, rows.len()),
            memberships.sql(backend, rows.len()),
        ),
    };
    let inserted = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            users_sql,
            users.parameters(rows, template),
        ))
        .await
        .context("inserting users")?;
    if inserted.rows_affected() != rows.len() as u64 {
        bail!("the template user {template} is gone");
    }
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        memberships_sql,
        memberships.parameters(rows, template),
    ))
    .await
    .context("inserting memberships")?;
    Ok(())
}

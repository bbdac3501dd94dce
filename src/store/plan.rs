//! For the store's unit tests: a migrated SQLite database, and SQLite's plan for a statement, so
//! tests can check that a query seeks on the index meant for it.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// A migrated SQLite database in `dir`.
pub async fn migrated(dir: &tempfile::TempDir) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("plan.db").display());
    let db = super::connect(&url, 1, super::DEFAULT_WAIT).await.unwrap();
    super::migrate(&db).await.unwrap();
    db
}

/// The details of SQLite's plan for `statement`.
pub async fn plan_of(db: &impl ConnectionTrait, statement: Statement) -> Vec<String> {
    let explain = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("EXPLAIN QUERY PLAN {}", statement.sql),
        statement.values.map(|v| v.0).unwrap_or_default(),
    );
    db.query_all_raw(explain)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "detail").unwrap())
        .collect()
}

//! For unit tests of the store and the services: a migrated database of its own per test, on
//! SQLite, or on PostgreSQL when `SIGIL_TEST_DATABASE_URL` names a server (a new database there).

use sea_orm::{ConnectionTrait, DatabaseConnection};

/// A migrated database, and what keeps it alive (its directory, on SQLite).
pub struct TestDb {
    /// A pool on it.
    pub db: DatabaseConnection,
    _dir: Option<tempfile::TempDir>,
}

/// A new migrated database with a pool of `connections`.
pub async fn database(connections: u32) -> TestDb {
    let (url, dir) = match std::env::var("SIGIL_TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => {
            let name = format!("sigil_unit_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&server).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            admin.close().await.ok();
            let mut url = url::Url::parse(&server).unwrap();
            url.set_path(&name);
            (url.to_string(), None)
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("unit.db").display());
            (url, Some(dir))
        }
    };
    let db = super::connect(&url, connections, super::DEFAULT_WAIT)
        .await
        .unwrap();
    super::migrate(&db).await.unwrap();
    TestDb { db, _dir: dir }
}

//! Sign-ins under contention: callers that go away while their database work waits.

use std::time::Duration;

use crate::helpers::{TestApp, spawn_app};
use sea_orm::sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use sigil::transport::grpc::pb;

const PASSWORD: &str = "correct horse battery";

fn on_postgres(app: &TestApp) -> bool {
    app.database.url.starts_with("postgres")
}

/// A connection of the test's own that holds what every sign-in's write needs (SQLite's write
/// lock; on PostgreSQL, a lock on `users` that lets reads through but no update), until released.
enum Blocker {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Blocker {
    async fn hold(app: &TestApp) -> Self {
        if on_postgres(app) {
            let mut connection = PgConnection::connect(&app.database.url).await.unwrap();
            connection.execute("BEGIN").await.unwrap();
            connection
                .execute("LOCK TABLE users IN EXCLUSIVE MODE")
                .await
                .unwrap();
            Self::Postgres(connection)
        } else {
            let mut connection = SqliteConnection::connect(&app.database.url).await.unwrap();
            connection.execute("BEGIN IMMEDIATE").await.unwrap();
            Self::Sqlite(connection)
        }
    }

    async fn release(self) {
        match self {
            Self::Sqlite(mut connection) => {
                connection.execute("ROLLBACK").await.unwrap();
                connection.close().await.unwrap();
            }
            Self::Postgres(mut connection) => {
                connection.execute("ROLLBACK").await.unwrap();
                connection.close().await.unwrap();
            }
        }
    }
}

async fn login(app: &TestApp, email: &str) -> Result<pb::AuthenticationResponse, tonic::Status> {
    app.auth()
        .login(pb::LoginRequest {
            email: email.into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().authentication.unwrap())
}

/// Whether nothing holds the database's write lock or sits inside a transaction: the test takes
/// the write lock itself (SQLite), or finds no connection idle in a transaction (PostgreSQL).
async fn no_transaction_is_left_open(app: &TestApp) -> bool {
    if on_postgres(app) {
        let mut connection = PgConnection::connect(&app.database.url).await.unwrap();
        let (open,): (i64,) = sea_orm::sqlx::query_as(
            "SELECT COUNT(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        )
        .fetch_one(&mut connection)
        .await
        .unwrap();
        connection.close().await.unwrap();
        open == 0
    } else {
        let options: sea_orm::sqlx::sqlite::SqliteConnectOptions = app.database.url.parse().unwrap();
        let mut connection = SqliteConnection::connect_with(&options.busy_timeout(Duration::from_secs(2)))
            .await
            .unwrap();
        let locked = connection.execute("BEGIN IMMEDIATE").await.is_err();
        if !locked {
            connection.execute("COMMIT").await.unwrap();
        }
        connection.close().await.unwrap();
        !locked
    }
}

#[tokio::test]
async fn sign_ins_cancelled_while_waiting_for_the_database_leave_no_transaction_behind() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let blocker = Blocker::hold(&app).await;
    // Callers that give up while their sign-in waits for the lock: each drop resets its stream,
    // and the server drops the request's future wherever it is.
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let mut auth = app.auth();
        callers.spawn(async move {
            let request = pb::LoginRequest {
                email: "ann@example.com".into(),
                password: PASSWORD.into(),
                ..Default::default()
            };
            tokio::time::timeout(Duration::from_millis(1500), auth.login(request)).await
        });
    }
    while let Some(outcome) = callers.join_next().await {
        assert!(
            outcome.unwrap().is_err(),
            "no sign-in finishes while the lock is held"
        );
    }
    blocker.release().await;

    // Every later sign-in, on whichever pooled connection, writes and commits.
    for _ in 0..8 {
        let auth = tokio::time::timeout(Duration::from_secs(10), login(&app, "ann@example.com"))
            .await
            .expect("a sign-in after the cancellations answers")
            .expect("a sign-in after the cancellations succeeds");
        app.validate(&auth.access_token).await.unwrap();
    }
    let (mut tenants, _) = app.clients().await;
    tenants
        .create_tenant(crate::helpers::tenant("beta", "Beta"))
        .await
        .expect("other writes work too");
    assert!(no_transaction_is_left_open(&app).await);
    // What the server wrote is in the database for every connection to see.
    assert!(app.count("sessions", "1=1").await >= 8);
    assert_eq!(app.count("tenants", "tenant_id = 'beta'").await, 1);
}

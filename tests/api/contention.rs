//! Sign-ins under contention: callers that go away while their database work waits, and a
//! database too busy to answer in time.

use std::time::Duration;

use crate::helpers::{TestApp, assert_error, spawn_app};
use sea_orm::sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use sigil::transport::grpc::pb;
use tonic::Code;
use tonic_types::StatusExt;

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

/// What a database error becomes in the domain, and whether a caller may retry it.
fn mapped(error: sea_orm::DbErr) -> sigil::domain::Error {
    sigil::domain::Error::from(error)
}

#[track_caller]
fn assert_retryable(error: sigil::domain::Error) {
    assert_eq!(error.class(), sigil::domain::ErrorClass::Unavailable, "{error:?}");
    assert_eq!(error.reason(), "UNAVAILABLE");
    assert!(error.retry_after().is_some());
}

#[tokio::test]
async fn retryable_database_errors_are_unavailable_and_others_internal() {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, TransactionTrait};
    let app = spawn_app().await;

    // No pooled connection free in time.
    let mut options = ConnectOptions::new(app.database.url.clone());
    options
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(200))
        .sqlx_logging(false);
    let pool = Database::connect(options).await.unwrap();
    let held = pool.begin().await.unwrap();
    assert_retryable(mapped(pool.execute_unprepared("SELECT 1").await.unwrap_err()));
    held.rollback().await.unwrap();

    // A mistake is not retryable.
    let error = mapped(pool.execute_unprepared("SELEC 1").await.unwrap_err());
    assert_eq!(error.class(), sigil::domain::ErrorClass::Internal);
    assert!(error.retry_after().is_none());

    if on_postgres(&app) {
        // A serialization failure: a repeatable-read transaction updates a row that changed
        // after its snapshot.
        pool.execute_unprepared("CREATE TABLE scratch (id INT PRIMARY KEY, n INT NOT NULL)")
            .await
            .unwrap();
        pool.execute_unprepared("INSERT INTO scratch VALUES (1, 0)")
            .await
            .unwrap();
        let other = Database::connect(app.database.url.clone()).await.unwrap();
        let txn = other
            .begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), None)
            .await
            .unwrap();
        txn.execute_unprepared("SELECT n FROM scratch").await.unwrap();
        pool.execute_unprepared("UPDATE scratch SET n = 1").await.unwrap();
        let error = txn
            .execute_unprepared("UPDATE scratch SET n = 2")
            .await
            .unwrap_err();
        assert_retryable(mapped(error));
        txn.rollback().await.unwrap();
    } else {
        // SQLITE_BUSY: the write lock is held elsewhere and this connection does not wait.
        let blocker = Blocker::hold(&app).await;
        let mut options = ConnectOptions::new(app.database.url.clone());
        options
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|options| options.busy_timeout(Duration::ZERO));
        let impatient = Database::connect(options).await.unwrap();
        let error = impatient.execute_unprepared("BEGIN IMMEDIATE").await.unwrap_err();
        assert_retryable(mapped(error));
        blocker.release().await;
    }
}

#[tokio::test]
async fn a_sign_in_the_busy_database_cannot_serve_is_unavailable_with_a_retry_hint() {
    let app = spawn_app().await;
    // Documented for every kind of caller, so clients (and schemathesis) expect it.
    let document: serde_json::Value = reqwest::get(format!("http://{}/openapi.json", app.http_addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method) in [
        ("/identity/resources/auth/v1/user", "post"),
        ("/tenants/resources/tenants/v1", "get"),
        ("/identity/resources/users/v2/me", "get"),
    ] {
        let responses = &document["paths"][path][method]["responses"];
        assert!(responses.get("503").is_some(), "{method} {path}: {responses}");
    }
    if on_postgres(&app) {
        // PostgreSQL waits for locks without a timeout; its retryable errors are covered above.
        return;
    }
    app.active_user("ann@example.com", PASSWORD).await;
    let blocker = Blocker::hold(&app).await;
    // Both wait out SQLite's busy timeout (SIGIL_DATABASE_ACQUIRE_TIMEOUT, 2 s), together.
    let rest = async {
        reqwest::Client::new()
            .post(format!(
                "http://{}/identity/resources/auth/v1/user",
                app.http_addr
            ))
            .json(&serde_json::json!({"email": "ann@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
    };
    let (response, grpc) = tokio::join!(rest, login(&app, "ann@example.com"));
    blocker.release().await;

    assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], "UNAVAILABLE");

    let status = grpc.unwrap_err();
    assert_error(&status, Code::Unavailable, "UNAVAILABLE");
    let retry = status.get_details_retry_info().expect("RetryInfo detail");
    assert_eq!(retry.retry_delay, Some(Duration::from_secs(1)));

    // The lock released, sign-ins work again.
    login(&app, "ann@example.com").await.unwrap();
}

#[tokio::test]
async fn sign_ins_that_fail_in_the_database_answer_and_leave_the_pool_usable() {
    use crate::helpers::{TestClock, TestDatabase, spawn_with, test_config};
    // Two connections: the failing sign-ins come back to the same ones.
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.database_max_connections = Some(2);
    let app = spawn_with(database, config, TestClock::new()).await;
    app.active_user("ada@example.com", PASSWORD).await;
    let rename_table = |from: &str, to: &str| {
        let sql = format!("ALTER TABLE {from} RENAME TO {to}");
        let db = app.db.clone();
        async move {
            sea_orm::ConnectionTrait::execute_unprepared(&db, &sql)
                .await
                .unwrap()
        }
    };
    rename_table("tenants", "tenants_gone").await;

    // Every sign-in fails inside its transaction; each must answer, none may hang.
    for attempt in 0..4 {
        let answer = tokio::time::timeout(Duration::from_secs(20), login(&app, "ada@example.com"))
            .await
            .unwrap_or_else(|_| panic!("sign-in {attempt} got no answer"));
        assert_eq!(answer.unwrap_err().code(), Code::Internal);
    }

    // Nothing was left holding the database: with the table back, sign-ins work again.
    rename_table("tenants_gone", "tenants").await;
    let signed_in = tokio::time::timeout(Duration::from_secs(20), login(&app, "ada@example.com"))
        .await
        .expect("the sign-in after the repair got no answer");
    signed_in.unwrap();
    assert!(no_transaction_is_left_open(&app).await);
}

#[tokio::test]
async fn sign_ins_past_the_hashing_queue_are_refused_with_a_retry_delay() {
    let app = spawn_app().await;
    app.active_user("flood@example.com", PASSWORD).await;
    // Two cores queue 128 password checks; a flood of twice that overflows the queue.
    let client = reqwest::Client::new();
    let url = format!("http://{}/identity/resources/auth/v1/user", app.http_addr);
    let flood: Vec<_> = (0..400)
        .map(|_| {
            let request = client
                .post(&url)
                .json(&serde_json::json!({"email": "flood@example.com", "password": PASSWORD}));
            tokio::spawn(async move { request.send().await.unwrap() })
        })
        .collect();
    let (mut signed_in, mut refused) = (0, 0);
    for response in flood {
        let response = response.await.unwrap();
        match response.status() {
            reqwest::StatusCode::OK => signed_in += 1,
            reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                assert_eq!(response.headers()["retry-after"], "1");
            }
            status => panic!("a sign-in of the flood answered {status}"),
        }
    }
    assert!(
        signed_in > 0 && refused > 0,
        "{signed_in} signed in, {refused} refused"
    );
}

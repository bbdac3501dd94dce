//! Several replicas over one database: what one replica does, the others honour.
//!
//! Each test runs two servers on one database. With SIGIL_TEST_DATABASE_URL that is one
//! PostgreSQL database, where revocations also travel by LISTEN/NOTIFY; on SQLite the servers
//! share one database file, and revocations travel by the periodic read alone.

use std::{future::Future, time::Duration};

use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use sigil::{Config, config::KeyRotation, store::sessions, transport::grpc::pb};
use tonic::{Code, Status};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::helpers::{
    Bearer, TestApp, TestClock, TestDatabase, assert_error, build, claims, spawn_with, start, test_config,
};

const PASSWORD: &str = "correct horse battery";

/// Two running replicas on one fresh database, sharing one clock.
async fn two_replicas(config: impl Fn(&TestDatabase) -> Config) -> (TestApp, TestApp) {
    let clock = TestClock::new();
    let database = TestDatabase::new().await;
    let config = config(&database);
    let first = spawn_with(database, config.clone(), clock.clone()).await;
    let second = spawn_with(TestDatabase::existing(&first.database.url), config, clock).await;
    (first, second)
}

/// The test configuration with revocations read every 100 ms.
fn quick_sync(database: &TestDatabase) -> Config {
    let mut config = test_config(database);
    config.revocation_sync = Duration::from_millis(100);
    config
}

/// Retries `call` for up to three seconds until it fails, moving `clocks` on by the sync
/// interval between tries (on SQLite the periodic read, which runs on the clock, is the only
/// path between replicas); returns the failure.
async fn refused_within_seconds<F, Fut, T>(clocks: &[&TestClock], mut call: F) -> Status
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    for _ in 0..150 {
        if let Err(status) = call().await {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        for clock in clocks {
            clock.advance(Duration::from_millis(100));
        }
    }
    panic!("still accepted after three seconds");
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Result<pb::AuthenticationResponse, Status> {
    app.auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: refresh_token.into(),
        })
        .await
        .map(|response| response.into_inner().authentication.unwrap())
}

fn kid(token: &str) -> String {
    jwt_simple::token::Token::decode_metadata(token)
        .unwrap()
        .key_id()
        .unwrap()
        .to_owned()
}

async fn health(app: &TestApp) -> ServingStatus {
    let response = HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    ServingStatus::try_from(response.status).unwrap()
}

#[tokio::test]
async fn a_session_ended_on_one_replica_is_refused_on_the_other() {
    let (first, second) = two_replicas(quick_sync).await;
    first.active_user("ann@example.com", PASSWORD).await;
    let auth = first.login("ann@example.com", PASSWORD).await;
    second
        .validate(&auth.access_token)
        .await
        .expect("both replicas accept the access token");

    first
        .auth()
        .logout(pb::LogoutRequest {
            refresh_token: auth.refresh_token.clone(),
        })
        .await
        .unwrap();
    let status = refused_within_seconds(&[&second.clock], || second.validate(&auth.access_token)).await;
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = refresh(&second, &auth.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

#[tokio::test]
async fn a_refresh_token_rotated_on_one_replica_is_refused_on_the_other() {
    let (first, second) = two_replicas(quick_sync).await;
    first.active_user("ann@example.com", PASSWORD).await;
    let auth = first.login("ann@example.com", PASSWORD).await;
    let rotated = refresh(&first, &auth.refresh_token).await.unwrap();

    // The used token presented to the other replica past the grace window is a replay:
    // refused, and the session ends.
    second.clock.advance(Duration::from_secs(6));
    let status = refresh(&second, &auth.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "REFRESH_TOKEN_REUSED");
    let status = refresh(&first, &rotated.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    // The replica that issued the newest access token learns of the revocation too.
    let status = refused_within_seconds(&[&first.clock], || first.validate(&rotated.access_token)).await;
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

#[tokio::test]
async fn a_signing_key_rotated_on_one_replica_is_trusted_by_the_other() {
    let with_rotation = |database: &TestDatabase| {
        let mut config = test_config(database);
        config.key_rotation = KeyRotation::Every(Duration::from_secs(2 * 3600));
        config
    };
    let (first, second) = two_replicas(with_rotation).await;
    first.active_user("ann@example.com", PASSWORD).await;
    first.clock.advance(Duration::from_secs(110 * 60));
    let before = first.login("ann@example.com", PASSWORD).await;

    // Twenty minutes later the key is due; the first replica restarts (as its periodic check
    // would) and rotates it.
    first.clock.advance(Duration::from_secs(20 * 60));
    let config = with_rotation(&first.database);
    let clock = first.clock.clone();
    let database = first.stop().await;
    let first = spawn_with(database, config, clock).await;
    let after = first.login("ann@example.com", PASSWORD).await;
    assert_ne!(kid(&after.access_token), kid(&before.access_token), "rotated");

    second
        .validate(&after.access_token)
        .await
        .expect("the other replica trusts the new key at once");
    let from_second = second.login("ann@example.com", PASSWORD).await;
    assert_eq!(
        kid(&from_second.access_token),
        kid(&after.access_token),
        "and signs with it from then on"
    );
    first
        .validate(&before.access_token)
        .await
        .expect("tokens of the retired key stay valid on the rotating replica");
    second.validate(&before.access_token).await.unwrap();
    first.validate(&from_second.access_token).await.unwrap();
    assert_eq!(second.count("signing_keys", "1=1").await, 2);
}

#[tokio::test]
async fn replicas_rotating_a_due_key_at_once_make_one_new_key() {
    let with_rotation = |database: &TestDatabase| {
        let mut config = test_config(database);
        config.key_rotation = KeyRotation::Every(Duration::from_secs(2 * 3600));
        config
    };
    let (first, second) = two_replicas(with_rotation).await;
    let config = with_rotation(&first.database);
    let clock = first.clock.clone();
    clock.advance(Duration::from_secs(2 * 3600 + 60));
    let url = first.database.url.clone();
    second.stop().await;
    let database = first.stop().await;

    let (a, b) = tokio::join!(
        build(config.clone(), clock.clone()),
        build(config.clone(), clock.clone())
    );
    let ((a, a_mail), (b, b_mail)) = (a.unwrap(), b.unwrap());
    let first = start(a, a_mail, database, clock.clone()).await;
    let second = start(b, b_mail, TestDatabase::existing(&url), clock).await;
    assert_eq!(
        first.count("signing_keys", "1=1").await,
        2,
        "one new key, not two"
    );
    assert_eq!(first.count("signing_keys", "retired_at IS NULL").await, 1);
    first.active_user("ann@example.com", PASSWORD).await;
    let one = first.login("ann@example.com", PASSWORD).await;
    let other = second.login("ann@example.com", PASSWORD).await;
    assert_eq!(kid(&one.access_token), kid(&other.access_token));
}

#[tokio::test]
async fn replicas_starting_together_on_a_fresh_database_bootstrap_once() {
    let database = TestDatabase::new().await;
    let config = test_config(&database);
    let clock = TestClock::new();
    let (a, b) = tokio::join!(
        build(config.clone(), clock.clone()),
        build(config.clone(), clock.clone())
    );
    let ((a, a_mail), (b, b_mail)) = (
        a.expect("the first replica starts"),
        b.expect("the second replica starts"),
    );
    let url = database.url.clone();
    let first = start(a, a_mail, database, clock.clone()).await;
    let second = start(b, b_mail, TestDatabase::existing(&url), clock).await;
    assert_eq!(health(&first).await, ServingStatus::Serving);
    assert_eq!(health(&second).await, ServingStatus::Serving);
    assert_eq!(first.count("environments", "1=1").await, 1);
    assert_eq!(first.count("signing_keys", "1=1").await, 1);

    // An environment token from either replica works on both.
    let token = first.env_token().await;
    let (mut tenants, _) = second.clients().await;
    tenants
        .create_tenant(crate::helpers::tenant("acme", "Acme"))
        .await
        .unwrap();
    second
        .tenants_with(Bearer::token(&token))
        .get_tenant(pb::GetTenantRequest {
            tenant_id: "acme".into(),
        })
        .await
        .expect("a token signed by the first replica works on the second");
}

#[tokio::test]
async fn replicas_starting_together_without_credentials_generate_them_once() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.bootstrap_client_id = None;
    config.bootstrap_secret = None;
    let clock = TestClock::new();
    let (a, b) = tokio::join!(
        build(config.clone(), clock.clone()),
        build(config.clone(), clock.clone())
    );
    let ((a, a_mail), (b, b_mail)) = (a.unwrap(), b.unwrap());
    let generated: Vec<_> = [a.generated_credentials(), b.generated_credentials()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    assert_eq!(generated.len(), 1, "exactly one replica generated credentials");
    let url = database.url.clone();
    let first = start(a, a_mail, database, clock.clone()).await;
    let second = start(b, b_mail, TestDatabase::existing(&url), clock).await;
    assert_eq!(first.count("environments", "1=1").await, 1);
    for app in [&first, &second] {
        app.auth_client()
            .authenticate_vendor(pb::AuthenticateVendorRequest {
                client_id: generated[0].client_id.clone(),
                secret: generated[0].secret.expose().into(),
            })
            .await
            .expect("the generated credentials work on every replica");
    }
}

#[tokio::test]
async fn a_replica_whose_clock_runs_ahead_does_not_hide_later_revocations() {
    let database = TestDatabase::new().await;
    let config = quick_sync(&database);
    let first = spawn_with(database, config.clone(), TestClock::new()).await;
    // Half an hour ahead: far more than any overlap a reader could allow, less than a token's life.
    let fast = TestClock::new();
    fast.advance(Duration::from_secs(30 * 60));
    let ahead = spawn_with(TestDatabase::existing(&first.database.url), config, fast).await;
    first.active_user("ann@example.com", PASSWORD).await;
    first.active_user("bob@example.com", PASSWORD).await;
    let ann = first.login("ann@example.com", PASSWORD).await;
    let bob = first.login("bob@example.com", PASSWORD).await;

    // The replica ahead ends ann's session: its revocation is stamped half an hour ahead.
    ahead
        .auth()
        .logout(pb::LogoutRequest {
            refresh_token: ann.refresh_token.clone(),
        })
        .await
        .unwrap();
    let status = refused_within_seconds(&[&first.clock], || first.validate(&ann.access_token)).await;
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");

    // Later, by the other replica's clock, bob's session ends: both replicas must learn of it.
    first
        .auth()
        .logout(pb::LogoutRequest {
            refresh_token: bob.refresh_token.clone(),
        })
        .await
        .unwrap();
    let status = refused_within_seconds(&[&first.clock], || first.validate(&bob.access_token)).await;
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = refused_within_seconds(&[&ahead.clock], || ahead.validate(&bob.access_token)).await;
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

fn on_postgres(app: &TestApp) -> bool {
    app.db.get_database_backend() == DbBackend::Postgres
}

/// Waits until `count` connections to the test database are listening for announcements.
async fn listening(app: &TestApp, count: i64) {
    for _ in 0..150 {
        let listeners = app
            .count(
                "pg_stat_activity",
                "datname = current_database() AND query LIKE 'LISTEN%'",
            )
            .await;
        if listeners >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the replicas are not listening for announcements");
}

#[tokio::test]
async fn on_postgresql_an_announcement_alone_carries_a_revocation_to_another_replica() {
    let hourly = |database: &TestDatabase| {
        let mut config = test_config(database);
        config.revocation_sync = Duration::from_secs(3600);
        config
    };
    let (first, second) = two_replicas(hourly).await;
    if !on_postgres(&first) {
        // SQLite has no announcements: the periodic read is its only path (tested above).
        return;
    }
    listening(&first, 2).await;
    first.active_user("ann@example.com", PASSWORD).await;
    let auth = first.login("ann@example.com", PASSWORD).await;
    second.validate(&auth.access_token).await.unwrap();

    first
        .auth()
        .logout(pb::LogoutRequest {
            refresh_token: auth.refresh_token.clone(),
        })
        .await
        .unwrap();
    // The clocks stand still: the hourly read never comes.
    let status = refused_within_seconds(&[], || second.validate(&auth.access_token)).await;
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

#[tokio::test]
async fn on_postgresql_a_revocation_committed_after_a_later_numbered_one_still_reaches_every_replica() {
    let (first, second) = two_replicas(quick_sync).await;
    if !on_postgres(&first) {
        // SQLite commits one writer at a time: numbers are read in the order they commit.
        return;
    }
    first.active_user("ann@example.com", PASSWORD).await;
    first.active_user("bob@example.com", PASSWORD).await;
    let ann = first.login("ann@example.com", PASSWORD).await;
    let bob = first.login("bob@example.com", PASSWORD).await;

    // Ann's session is revoked, as sigil revokes one, in a transaction that takes its number and
    // stays open.
    let sid = claims(&ann.access_token)["sid"].as_str().unwrap().to_owned();
    let held = first.db.begin().await.unwrap();
    for statement in [
        format!("UPDATE sessions SET revoked_at = NOW() WHERE id = '{sid}'"),
        format!(
            "INSERT INTO session_revocations (session_id, revoked_at, forget_after) \
             VALUES ('{sid}', NOW(), NOW() + INTERVAL '1 hour')"
        ),
        format!("SELECT pg_notify('{}', '')", sessions::REVOCATION_CHANNEL),
    ] {
        held.execute_unprepared(&statement).await.unwrap();
    }
    // Bob's revocation takes the next number and commits first; both replicas read past it.
    first
        .auth()
        .logout(pb::LogoutRequest {
            refresh_token: bob.refresh_token.clone(),
        })
        .await
        .unwrap();
    let clocks = [&*first.clock];
    refused_within_seconds(&clocks, || first.validate(&bob.access_token)).await;
    refused_within_seconds(&clocks, || second.validate(&bob.access_token)).await;
    first
        .validate(&ann.access_token)
        .await
        .expect("not committed yet");

    held.commit().await.unwrap();
    let status = refused_within_seconds(&clocks, || second.validate(&ann.access_token)).await;
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = refused_within_seconds(&clocks, || first.validate(&ann.access_token)).await;
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

//! The periodic cleanup: sessions, refresh tokens and single-use tokens that ended more than a
//! day ago are deleted, in batches, on the injected clock; live ones stay and keep working.

use std::time::Duration;

use sigil::transport::grpc::pb;

use crate::helpers::{TestApp, TestClock, TestDatabase, spawn_with, test_config};

const PASSWORD: &str = "correct horse battery";
/// The cleanup interval the test server runs with.
const INTERVAL: Duration = Duration::from_secs(60);

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("sessions", "1 = 1").await,
        app.count("refresh_tokens", "1 = 1").await,
        app.count("user_tokens", "1 = 1").await,
    )
}

/// Moves the clock an interval at a time until the table counts are `want`, or fails.
async fn wait_for_counts(app: &TestApp, want: (i64, i64, i64)) {
    for _ in 0..200 {
        if counts(app).await == want {
            return;
        }
        app.clock.advance(INTERVAL);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(counts(app).await, want, "(sessions, refresh tokens, user tokens)");
}

#[tokio::test]
async fn ended_sessions_and_tokens_are_deleted_and_live_ones_stay() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.cleanup_interval = INTERVAL;
    let app = spawn_with(database, config, TestClock::new()).await;
    let (_, mut users) = app.clients().await;

    // Ann's session is live; its first refresh token is used, its second live.
    app.active_user("ann@example.com", PASSWORD).await;
    let first = app.login("ann@example.com", PASSWORD).await;
    let second = app
        .auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();
    // Carol's session is revoked.
    app.active_user("carol@example.com", PASSWORD).await;
    let carol = app.login("carol@example.com", PASSWORD).await;
    app.auth()
        .logout(pb::LogoutRequest {
            refresh_token: carol.refresh_token,
        })
        .await
        .unwrap();
    // Bob's first activation token is revoked by the second, which stays live a day.
    let (bob, _) = app.invited_user("bob@example.com").await;
    users
        .generate_activation_token(pb::GenerateActivationTokenRequest { user_id: bob.id })
        .await
        .unwrap();
    // And a backlog of used tokens, more than one batch of the cleanup.
    app.db_execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
         INSERT INTO user_tokens (id, user_id, kind, token_hash, code_hash, failed_attempts,
                                  created_at, expires_at, consumed_at)
         SELECT 'backlog-' || i, user_id, kind, 'backlog-' || i, NULL, 0,
                created_at, expires_at, consumed_at
         FROM user_tokens, n WHERE consumed_at IS NOT NULL",
    )
    .await;
    assert_eq!(counts(&app).await, (2, 3, 2502));

    // Nothing has ended a day ago yet.
    app.clock.advance(Duration::from_secs(12 * 3600));
    for _ in 0..5 {
        app.clock.advance(INTERVAL);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(counts(&app).await, (2, 3, 2502));

    // A day and an hour after: Carol's session and its token, Ann's used token, Bob's first
    // activation token and the backlog go; Ann's session, its live token and Bob's second
    // activation token (which expires at the day's end) stay.
    app.clock.advance(Duration::from_secs(13 * 3600));
    wait_for_counts(&app, (1, 1, 1)).await;
    assert_eq!(
        app.count("sessions", "revoked_at IS NULL").await,
        1,
        "the live session stays"
    );
    assert_eq!(app.count("user_tokens", "consumed_at IS NULL").await, 1);
    // The live refresh token still works.
    app.auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: second.refresh_token,
        })
        .await
        .expect("the live refresh token still refreshes");
}

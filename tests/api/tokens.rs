//! Signing keys, JWKS and token validation.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use jwt_simple::prelude::{JWTClaims, NoCustomClaims, RS256PublicKey, RSAPublicKeyLike, VerificationOptions};
use reqwest::StatusCode;
use sigil::{config::KeyRotation, domain::secret::Secret, transport::grpc::pb};
use tonic::Code;

use crate::{
    helpers::{TestApp, TestClock, TestDatabase, assert_error, build, spawn_app, spawn_with, test_config},
    metrics::Scrape,
};

const ME: &str = "/identity/resources/users/v2/me";

const PASSWORD: &str = "correct horse battery";

async fn jwks(app: &TestApp) -> Vec<pb::Jwk> {
    app.tokens()
        .get_jwks(pb::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner()
        .keys
}

fn verify_independently(token: &str, keys: &[pb::Jwk]) -> JWTClaims<serde_json::Value> {
    let kid = jwt_simple::token::Token::decode_metadata(token)
        .unwrap()
        .key_id()
        .unwrap()
        .to_owned();
    let jwk = keys
        .iter()
        .find(|k| k.kid == kid)
        .expect("the token's key is published");
    let decode = |v: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v)
            .unwrap()
    };
    let key = RS256PublicKey::from_components(&decode(&jwk.n), &decode(&jwk.e)).unwrap();
    key.verify_token::<serde_json::Value>(token, Some(VerificationOptions::default()))
        .expect("an independent JWT library accepts the token with only the JWKS")
}

#[tokio::test]
async fn an_issued_token_verifies_with_an_independent_library_and_only_the_jwks() {
    let app = spawn_app().await;
    let user = app.active_user("ann@example.com", PASSWORD).await;
    let auth = app.login("ann@example.com", PASSWORD).await;
    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].kty.as_str(), keys[0].alg.as_str(), keys[0].r#use.as_str()),
        ("RSA", "RS256", "sig")
    );

    let claims = verify_independently(&auth.access_token, &keys);
    assert_eq!(claims.subject.as_deref(), Some(user.id.as_str()));
    assert_eq!(claims.issuer.as_deref(), Some("https://auth.sigil.test"));
    let custom = claims.custom;
    assert_eq!(custom["type"], "userToken");
    assert_eq!(custom["email"], "ann@example.com");
    assert_eq!(custom["tenantId"], "acme");
    assert_eq!(custom["tenantIds"], serde_json::json!(["acme"]));
    assert!(custom["sid"].is_string());
    // The first member of a tenant is its admin.
    assert_eq!(custom["roles"], serde_json::json!(["Admin"]));
    assert!(custom["metadata"].is_object());
    let header = jwt_simple::token::Token::decode_metadata(&auth.access_token).unwrap();
    assert_eq!(header.algorithm(), "RS256");
    let _unused: Option<JWTClaims<NoCustomClaims>> = None;
}

#[tokio::test]
async fn validation_rejects_forged_foreign_and_environment_tokens() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let auth = app.login("ann@example.com", PASSWORD).await;

    let mut parts: Vec<String> = auth.access_token.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&parts[1])
            .unwrap(),
    )
    .unwrap();
    payload["tenantId"] = "someone-else".into();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
    let status = app.validate(&parts.join(".")).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");

    // An environment token is not an access token.
    let status = app.validate(&app.env_token().await).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");

    let other = spawn_app().await;
    other.active_user("ann@example.com", PASSWORD).await;
    let foreign = other.login("ann@example.com", PASSWORD).await;
    let status = app.validate(&foreign.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");

    let status = app.validate("garbage").await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");
}

#[tokio::test]
async fn after_rotation_the_new_key_signs_and_the_old_one_still_verifies() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.key_rotation = KeyRotation::Every(Duration::from_secs(2 * 3600));
    let clock = TestClock::new();
    let app = spawn_with(database, config.clone(), clock.clone()).await;
    app.active_user("ann@example.com", PASSWORD).await;
    clock.advance(Duration::from_secs(110 * 60));
    let before = app.login("ann@example.com", PASSWORD).await;
    let database = app.stop().await;

    // Twenty minutes later the key is due; a restart (like the periodic check) rotates it.
    clock.advance(Duration::from_secs(20 * 60));
    let app = spawn_with(database, config, clock.clone()).await;
    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 2, "the retired key is still published");
    let after = app.login("ann@example.com", PASSWORD).await;
    assert_ne!(kid(&after.access_token), kid(&before.access_token));
    assert_eq!(
        keys[0].kid,
        kid(&after.access_token),
        "the signing key comes first"
    );
    app.validate(&before.access_token)
        .await
        .expect("tokens of the retired key stay valid");
    app.validate(&after.access_token).await.unwrap();
    assert_eq!(app.count("signing_keys", "retired_at IS NOT NULL").await, 1);
}

#[tokio::test]
async fn with_a_master_key_private_keys_are_sealed_at_rest() {
    let database = TestDatabase::new().await;
    let mut plain = test_config(&database);
    plain.master_key = None;
    let clock = TestClock::new();
    let app = spawn_with(database, plain.clone(), clock.clone()).await;
    app.active_user("ann@example.com", PASSWORD).await;
    let before = app.login("ann@example.com", PASSWORD).await;
    let database = app.stop().await;

    let mut sealed = plain.clone();
    sealed.master_key = Some(Secret::new(STANDARD.encode([42u8; 32])));
    let app = spawn_with(database, sealed.clone(), clock.clone()).await;
    assert_eq!(
        app.count("signing_keys", "encrypted = true").await,
        1,
        "the existing key was sealed"
    );
    app.validate(&before.access_token).await.unwrap();
    app.login("ann@example.com", PASSWORD).await;
    let database = app.stop().await;

    let error = build(plain, clock.clone())
        .await
        .err()
        .expect("sealed keys need the master key");
    assert!(format!("{error:#}").contains("SIGIL_MASTER_KEY"), "{error:#}");
    let mut wrong = sealed.clone();
    wrong.master_key = Some(Secret::new(STANDARD.encode([43u8; 32])));
    assert!(
        build(wrong, clock.clone()).await.is_err(),
        "another master key does not open them"
    );
    drop(database);
}

#[tokio::test]
async fn a_revocation_reaches_every_replica() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.revocation_sync = Duration::from_millis(200);
    let clock = TestClock::new();
    let first = spawn_with(database, config.clone(), clock.clone()).await;
    let url = first.database.url.clone();
    let second = spawn_with(TestDatabase::existing(&url), config, clock.clone()).await;
    first.active_user("ann@example.com", PASSWORD).await;
    let auth = first.login("ann@example.com", PASSWORD).await;
    second
        .validate(&auth.access_token)
        .await
        .expect("both replicas accept it");

    first
        .auth()
        .logout(pb::LogoutRequest {
            refresh_token: auth.refresh_token.clone(),
        })
        .await
        .unwrap();
    let mut last = None;
    for _ in 0..100 {
        match second.validate(&auth.access_token).await {
            Err(status) => {
                last = Some(status);
                break;
            }
            Ok(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                // On SQLite the periodic read, which runs on the clock, is the only path.
                clock.advance(Duration::from_millis(200));
            }
        }
    }
    let status = last.expect("the other replica learned of the revocation within two seconds");
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

/// The claims of a token, read without verifying it.
fn claims_of(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// A server where ann is active in acme (her current tenant) and a member of globex too.
async fn member_of_acme_and_globex() -> (TestApp, pb::User, crate::helpers::Tenants, crate::helpers::Users) {
    let app = spawn_app().await;
    let user = app.active_user("ann@example.com", PASSWORD).await;
    let (mut tenants, mut users) = app.clients().await;
    tenants
        .create_tenant(crate::helpers::tenant("globex", "Globex"))
        .await
        .unwrap();
    users
        .add_user_to_tenant(pb::AddUserToTenantRequest {
            user_id: user.id.clone(),
            tenant_id: "globex".into(),
        })
        .await
        .unwrap();
    (app, user, tenants, users)
}

#[tokio::test]
async fn a_user_removed_from_a_tenant_keeps_no_token_that_claims_it() {
    let (app, user, _, mut users) = member_of_acme_and_globex().await;
    let auth = app.login("ann@example.com", PASSWORD).await;
    let claims = claims_of(&auth.access_token);
    assert_eq!(claims["tenantId"], "acme");
    assert_eq!(claims["tenantIds"], serde_json::json!(["acme", "globex"]));

    // Removed from globex, which is not the tenant of her session: her token still claims it.
    users
        .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
            user_id: user.id.clone(),
            tenant_id: "globex".into(),
        })
        .await
        .unwrap();
    let status = app.validate(&auth.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = app
        .auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: auth.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");

    // A new sign-in claims only the tenants she is in.
    let again = app.login("ann@example.com", PASSWORD).await;
    let claims = claims_of(&again.access_token);
    assert_eq!(claims["tenantIds"], serde_json::json!(["acme"]));
    app.validate(&again.access_token).await.unwrap();
}

#[tokio::test]
async fn a_deleted_tenant_is_claimed_by_no_token_of_its_former_members() {
    let (app, _, mut tenants, _) = member_of_acme_and_globex().await;
    let auth = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(
        claims_of(&auth.access_token)["tenantIds"],
        serde_json::json!(["acme", "globex"])
    );
    tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: "globex".into(),
        })
        .await
        .unwrap();
    let status = app.validate(&auth.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let again = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(
        claims_of(&again.access_token)["tenantIds"],
        serde_json::json!(["acme"])
    );
}

/// How a tenant is taken from a member in the race below.
enum Leaving {
    /// The user is removed from the tenant.
    Removed,
    /// The tenant is deleted.
    Deleted,
}

/// On PostgreSQL, a sign-in whose statement starts while a removal from a tenant (or the tenant's
/// deletion) is in flight must not come out with a live token claiming the tenant. The test
/// holds the membership row so the removal stops half-way, holding its locks, starts the sign-in
/// then, and lets the removal finish. SQLite serializes the two under its write lock.
async fn race_sign_in_against(leaving: Leaving) {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};

    let (app, user, mut tenants, mut users) = member_of_acme_and_globex().await;
    if app.db.get_database_backend() != DbBackend::Postgres {
        return;
    }

    let hold = app.db.begin().await.unwrap();
    hold.execute_unprepared(&format!(
        "SELECT 1 FROM user_tenants WHERE user_id = '{}' FOR UPDATE",
        user.id
    ))
    .await
    .unwrap();
    let leave = tokio::spawn(async move {
        match leaving {
            Leaving::Removed => users
                .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
                    user_id: user.id.clone(),
                    tenant_id: "globex".into(),
                })
                .await
                .map(drop),
            Leaving::Deleted => tenants
                .delete_tenant(pb::DeleteTenantRequest {
                    tenant_id: "globex".into(),
                })
                .await
                .map(drop),
        }
    });
    lock_waiters_reach(&app, 1).await;
    let mut auth = app.auth();
    let sign_in = tokio::spawn(async move {
        auth.login(pb::LoginRequest {
            email: "ann@example.com".into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
    });
    // The sign-in either waits for the removal's locks or, unprotected, runs to its end.
    for _ in 0..200 {
        if sign_in.is_finished() || lock_waiters(&app).await >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    hold.commit().await.unwrap();
    leave.await.unwrap().unwrap();
    let auth = sign_in
        .await
        .unwrap()
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();

    if claims_of(&auth.access_token)["tenantIds"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("globex"))
    {
        let status = app.validate(&auth.access_token).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    } else {
        app.validate(&auth.access_token).await.unwrap();
    }
}

/// Sessions of the test's database waiting for a lock.
async fn lock_waiters(app: &TestApp) -> i64 {
    app.count(
        "pg_stat_activity",
        "datname = current_database() AND wait_event_type = 'Lock'",
    )
    .await
}

/// Waits (five seconds at most) until `count` sessions of the test's database wait for a lock.
async fn lock_waiters_reach(app: &TestApp, count: i64) {
    for _ in 0..500 {
        if lock_waiters(app).await >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{count} sessions never came to wait for a lock");
}

#[tokio::test]
async fn a_sign_in_racing_a_removal_from_a_tenant_gets_no_live_token_claiming_it() {
    race_sign_in_against(Leaving::Removed).await;
}

#[tokio::test]
async fn a_sign_in_racing_a_tenant_deletion_gets_no_live_token_claiming_it() {
    race_sign_in_against(Leaving::Deleted).await;
}

#[tokio::test]
async fn with_default_settings_the_signing_key_does_not_rotate_as_time_passes() {
    let database = TestDatabase::new().await;
    let config = test_config(&database);
    let clock = TestClock::new();
    let app = spawn_with(database, config.clone(), clock.clone()).await;
    app.active_user("ann@example.com", PASSWORD).await;
    let before = app.login("ann@example.com", PASSWORD).await;
    let database = app.stop().await;

    // Far past the old 30-day default, a start keeps the key.
    clock.advance(Duration::from_secs(61 * 24 * 3600));
    let app = spawn_with(database, config, clock.clone()).await;
    let after = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(kid(&after.access_token), kid(&before.access_token));
    assert_eq!(jwks(&app).await.len(), 1);
    assert_eq!(app.count("signing_keys", "1=1").await, 1);

    // Nor does the periodic check, which runs on the clock, once the clock passes it.
    clock.advance(Duration::from_secs(61 * 24 * 3600));
    key_checks_reach(&app, 1.0).await;
    let later = app.login("ann@example.com", PASSWORD).await;
    assert_eq!(kid(&later.access_token), kid(&before.access_token));
    assert_eq!(app.count("signing_keys", "1=1").await, 1);
}

/// Waits (three seconds at most) until the periodic key check has succeeded `count` times.
async fn key_checks_reach(app: &TestApp, count: f64) {
    for _ in 0..150 {
        let scrape = Scrape::of(app).await;
        assert_eq!(
            scrape.get("sigil_signing_key_checks_total{outcome=\"error\"}"),
            0.0
        );
        if scrape.get("sigil_signing_key_checks_total{outcome=\"ok\"}") >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the key check did not run");
}

fn kid(token: &str) -> String {
    jwt_simple::token::Token::decode_metadata(token)
        .unwrap()
        .key_id()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn automatic_rotation_when_enabled_runs_as_the_clock_passes_without_a_restart() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.key_rotation = KeyRotation::Every(Duration::from_secs(2 * 3600));
    let clock = TestClock::new();
    let app = spawn_with(database, config, clock.clone()).await;
    app.active_user("ann@example.com", PASSWORD).await;

    // Checks at one hour and at 1 h 45 find the key young enough.
    clock.advance(Duration::from_secs(3600));
    key_checks_reach(&app, 1.0).await;
    clock.advance(Duration::from_secs(45 * 60));
    key_checks_reach(&app, 2.0).await;
    assert_eq!(app.count("signing_keys", "1=1").await, 1);
    let before = app.login("ann@example.com", PASSWORD).await;
    // Past the period, the next check rotates it.
    clock.advance(Duration::from_secs(20 * 60));
    key_checks_reach(&app, 3.0).await;
    assert_eq!(app.count("signing_keys", "1=1").await, 2);
    let after = app.login("ann@example.com", PASSWORD).await;
    assert_ne!(kid(&after.access_token), kid(&before.access_token));
    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].kid, kid(&after.access_token), "the signing key first");
    app.validate(&before.access_token)
        .await
        .expect("the retired key still verifies");
    app.validate(&after.access_token).await.unwrap();
}

/// Polls `app` (three seconds at most) until `series` reaches `value`.
async fn metric_reaches(app: &TestApp, series: &str, value: f64) {
    for _ in 0..150 {
        if Scrape::of(app).await.get(series) >= value {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{series} did not reach {value}");
}

#[tokio::test]
async fn past_the_staleness_bound_validation_fails_closed_until_revocations_are_read_again() {
    const FAILED: &str = "sigil_revocation_syncs_total{outcome=\"error\"}";
    const SUCCEEDED: &str = "sigil_revocation_syncs_total{outcome=\"ok\"}";
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.revocation_sync = Duration::from_secs(10);
    config.revocation_max_staleness = Duration::from_secs(30);
    let clock = TestClock::new();
    let app = spawn_with(database, config, clock.clone()).await;
    app.active_user("ann@example.com", PASSWORD).await;
    let auth = app.login("ann@example.com", PASSWORD).await;
    let me = crate::http::Api::bearer(&app, &auth.access_token);
    app.validate(&auth.access_token).await.unwrap();
    assert_eq!(me.get(ME).await.status(), 200);

    // The revocations can no longer be read: their table is gone.
    app.db_execute("ALTER TABLE session_revocations RENAME TO session_revocations_away")
        .await;
    clock.advance(Duration::from_secs(11));
    metric_reaches(&app, FAILED, 1.0).await;
    app.validate(&auth.access_token)
        .await
        .expect("within the bound, the revocations in memory are trusted");
    clock.advance(Duration::from_secs(20));
    metric_reaches(&app, FAILED, 2.0).await;
    let status = app.validate(&auth.access_token).await.unwrap_err();
    assert_error(&status, Code::Unavailable, "UNAVAILABLE");
    crate::http::error(me.get(ME).await, StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE").await;
    assert!(Scrape::of(&app).await.get("sigil_revocation_sync_age_seconds") >= 31.0);
    // An expired token is still told apart.
    clock.advance(Duration::from_secs(3600));
    let status = app.validate(&auth.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "TOKEN_EXPIRED");

    // Once a read succeeds again, tokens validate again.
    app.db_execute("ALTER TABLE session_revocations_away RENAME TO session_revocations")
        .await;
    let fresh = app.login("ann@example.com", PASSWORD).await;
    let succeeded = Scrape::of(&app).await.get(SUCCEEDED);
    clock.advance(Duration::from_secs(10));
    metric_reaches(&app, SUCCEEDED, succeeded + 1.0).await;
    app.validate(&fresh.access_token).await.unwrap();
    assert!(Scrape::of(&app).await.get("sigil_revocation_sync_age_seconds") < 30.0);
    let me = crate::http::Api::bearer(&app, &fresh.access_token);
    assert_eq!(me.get(ME).await.status(), 200);
}

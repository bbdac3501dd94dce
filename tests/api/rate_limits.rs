//! Limits in front of password hashing: per account, per client address (through trusted
//! proxies only), and hashing skipped for callers that left.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sigil::{service::limits::RateLimit, transport::grpc::pb};
use tonic::Code;
use tonic_types::StatusExt;

use crate::{
    helpers::{TestApp, TestClock, TestDatabase, assert_error, spawn_app, spawn_with, test_config},
    metrics::Scrape,
};

const PASSWORD: &str = "correct horse battery";
const HASHES: &str = "sigil_password_hash_wait_seconds_count";

async fn app_with(per_account: &str, per_address: &str, trusted_proxies: &[&str]) -> TestApp {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.sign_in_limit_per_account = per_account.parse::<RateLimit>().unwrap();
    config.sign_in_limit_per_address = per_address.parse::<RateLimit>().unwrap();
    config.trusted_proxies = trusted_proxies.iter().map(|net| net.parse().unwrap()).collect();
    spawn_with(database, config, TestClock::new()).await
}

async fn grpc_login(
    app: &TestApp,
    email: &str,
    password: &str,
) -> Result<pb::AuthenticationResponse, tonic::Status> {
    app.auth()
        .login(pb::LoginRequest {
            email: email.into(),
            password: password.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().authentication.unwrap())
}

async fn rest_login(app: &TestApp, email: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!(
            "http://{}/identity/resources/auth/v1/user",
            app.http_addr
        ))
        .json(&json!({"email": email, "password": PASSWORD}));
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    request.send().await.unwrap()
}

#[track_caller]
fn assert_limited(status: &tonic::Status) {
    assert_error(status, Code::ResourceExhausted, "TOO_MANY_ATTEMPTS");
    let retry = status.get_details_retry_info().expect("RetryInfo detail");
    assert!(retry.retry_delay.is_some_and(|d| d > Duration::ZERO));
}

#[tokio::test]
async fn an_account_gets_a_few_attempts_a_period_whether_or_not_it_exists() {
    let app = app_with("3/1m", "off", &[]).await;
    app.active_user("ann@example.com", PASSWORD).await;
    for email in ["ann@example.com", "nobody@example.com"] {
        for _ in 0..3 {
            let status = grpc_login(&app, email, "wrong password").await.unwrap_err();
            assert_error(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
        }
        let hashed = Scrape::of(&app).await.get(HASHES);
        // Past the limit, even the right password is refused, and nothing is hashed.
        let limited = grpc_login(&app, email, PASSWORD).await.unwrap_err();
        assert_limited(&limited);
        let limited = grpc_login(&app, &email.to_uppercase(), PASSWORD)
            .await
            .unwrap_err();
        assert_limited(&limited);
        assert_eq!(Scrape::of(&app).await.get(HASHES), hashed);
    }
    // Over REST: 429 with the seconds to wait, as documented; an existing and an unknown
    // account alike.
    let document: Value = reqwest::get(format!("http://{}/openapi.json", app.http_addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let login = &document["paths"]["/identity/resources/auth/v1/user"]["post"]["responses"];
    assert!(login.get("429").is_some(), "{login}");
    for email in ["ann@example.com", "nobody@example.com"] {
        let response = rest_login(&app, email, None).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "20");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errorCode"], "TOO_MANY_ATTEMPTS");
    }
    // Other accounts are not held back; the limit refills with time.
    app.active_user("bob@example.com", PASSWORD).await;
    grpc_login(&app, "bob@example.com", PASSWORD).await.unwrap();
    app.clock.advance(Duration::from_secs(20));
    grpc_login(&app, "ann@example.com", PASSWORD).await.unwrap();
    assert_limited(&grpc_login(&app, "ann@example.com", PASSWORD).await.unwrap_err());
}

#[tokio::test]
async fn an_address_gets_a_few_attempts_a_period_across_accounts() {
    let app = app_with("off", "2/1m", &[]).await;
    app.active_user("ann@example.com", PASSWORD).await;
    grpc_login(&app, "ann@example.com", PASSWORD).await.unwrap();
    let status = grpc_login(&app, "bob@example.com", PASSWORD).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    assert_limited(&grpc_login(&app, "carl@example.com", PASSWORD).await.unwrap_err());
    // Without trusted proxies, a forwarded address is not believed.
    let response = rest_login(&app, "dora@example.com", Some("198.51.100.1")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(Duration::from_secs(30));
    grpc_login(&app, "ann@example.com", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_clients() {
    let app = app_with("off", "1/1m", &["127.0.0.1/32"]).await;
    app.active_user("ann@example.com", PASSWORD).await;
    let first = rest_login(&app, "ann@example.com", Some("6.6.6.6, 198.51.100.1")).await;
    assert_eq!(first.status(), StatusCode::OK);
    // The same client again, whatever it forged on the left: limited.
    let again = rest_login(&app, "ann@example.com", Some("7.7.7.7, 198.51.100.1")).await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not.
    let other = rest_login(&app, "ann@example.com", Some("198.51.100.2")).await;
    assert_eq!(other.status(), StatusCode::OK);
    // Over gRPC too.
    let mut request = tonic::Request::new(pb::LoginRequest {
        email: "ann@example.com".into(),
        password: PASSWORD.into(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("x-forwarded-for", "198.51.100.3".parse().unwrap());
    app.auth().login(request).await.unwrap();
    // Straight from the proxy's own address, it is the client.
    grpc_login(&app, "ann@example.com", PASSWORD).await.unwrap();
    assert_limited(&grpc_login(&app, "ann@example.com", PASSWORD).await.unwrap_err());
    // Sessions record the client's address, not the proxy's.
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(app.count("sessions", &format!("ip = '{ip}'")).await, 1, "{ip}");
    }
}

#[tokio::test]
async fn password_checks_of_callers_that_left_are_skipped() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    // Far more checks than the hashing threads can do before their callers give up (after the
    // lookup of the account, while their checks wait in the queue).
    let mut callers = tokio::task::JoinSet::new();
    for n in 0..64 {
        let mut auth = app.auth();
        callers.spawn(async move {
            let request = pb::LoginRequest {
                email: format!("nobody{n}@example.com"),
                password: PASSWORD.into(),
                ..Default::default()
            };
            let _ = tokio::time::timeout(Duration::from_millis(150), auth.login(request)).await;
        });
    }
    while callers.join_next().await.is_some() {}
    let scrape = loop {
        let scrape = Scrape::of(&app).await;
        if scrape.get("sigil_password_hash_queue_depth") == 0.0 {
            break scrape;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let skipped = scrape.get("sigil_password_hash_skipped_total");
    assert!(skipped >= 8.0, "only {skipped} checks were skipped");
    // A caller that stays is served at once.
    grpc_login(&app, "ann@example.com", PASSWORD).await.unwrap();
}

//! `GET /metrics`: scraped and parsed before and after traffic, its counters move with it.

use std::collections::HashMap;

use sigil::transport::grpc::pb;

use crate::helpers::{CLIENT_ID, TestApp, TestClock, TestDatabase, spawn_app, spawn_with, test_config};

/// One scrape: each sample's name and labels (as written) to its value.
pub struct Scrape {
    samples: HashMap<String, f64>,
    content_type: String,
}

impl Scrape {
    /// Scrapes `app` where it serves its metrics.
    pub async fn of(app: &TestApp) -> Self {
        let addr = app.metrics_addr.unwrap_or(app.http_addr);
        Self::at(&format!("http://{addr}/metrics")).await
    }

    /// Scrapes `url`.
    pub async fn at(url: &str) -> Self {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        let text = response.text().await.unwrap();
        assert_eq!(
            text.lines().last(),
            Some("# EOF"),
            "OpenMetrics text ends with # EOF"
        );
        let mut samples = HashMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad line {line:?}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line:?}"));
            assert!(
                samples.insert(series.to_owned(), value).is_none(),
                "{series} appears twice"
            );
        }
        Self {
            samples,
            content_type,
        }
    }

    /// The value of `series`, 0 when absent (a counter not yet touched).
    pub fn get(&self, series: &str) -> f64 {
        self.samples.get(series).copied().unwrap_or(0.0)
    }

    pub fn has(&self, series: &str) -> bool {
        self.samples.contains_key(series)
    }
}

fn grpc(metric: &str, service: &str, method: &str, code: &str) -> String {
    format!(
        "sigil_{metric}{{grpc_service=\"identity.v1.{service}\",grpc_method=\"{method}\",grpc_code=\"{code}\"}}"
    )
}

#[tokio::test]
async fn counters_move_with_grpc_and_http_traffic() {
    let app = spawn_app().await;
    let before = Scrape::of(&app).await;
    assert!(before.content_type.starts_with("application/openmetrics-text"));
    assert!(before.has("sigil_build_info{version=\"0.1.0\"}"));
    assert!(before.has("sigil_password_hash_queue_depth"));
    assert!(before.has("sigil_db_pool_connections{state=\"idle\"}"));
    assert!(before.has("sigil_db_pool_connections{state=\"in_use\"}"));
    // The revocations were read at start, a moment ago by the (unmoved) test clock.
    assert!(before.get("sigil_revocation_syncs_total{outcome=\"ok\"}") >= 1.0);
    assert!(before.get("sigil_revocation_sync_age_seconds") < 1.0);

    // gRPC: an environment token (a hash), a refused one, a user's sign-in, its refresh and a
    // failed sign-in.
    app.env_token().await;
    let refused = app
        .auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: CLIENT_ID.into(),
            secret: "wrong".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    app.active_user("ada@example.com", "correct horse battery").await;
    let signed_in = app.login("ada@example.com", "correct horse battery").await;
    app.auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: signed_in.refresh_token,
        })
        .await
        .expect("refresh");
    let failed = app
        .auth()
        .login(pb::LoginRequest {
            email: "ada@example.com".into(),
            password: "wrong password".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(failed.code(), tonic::Code::Unauthenticated);
    // HTTP: two probes and a path that is not served.
    for path in ["/readyz", "/readyz", "/no/such/thing"] {
        reqwest::get(format!("http://{}{path}", app.http_addr))
            .await
            .unwrap();
    }

    let after = Scrape::of(&app).await;
    let moved = |series: &str| after.get(series) - before.get(series);
    let vendor_ok = grpc(
        "grpc_server_handled_total",
        "EnvironmentAuthService",
        "AuthenticateVendor",
        "OK",
    );
    assert!(moved(&vendor_ok) >= 2.0, "{vendor_ok}: {}", moved(&vendor_ok));
    assert_eq!(
        moved(&grpc(
            "grpc_server_handled_total",
            "EnvironmentAuthService",
            "AuthenticateVendor",
            "UNAUTHENTICATED"
        )),
        1.0
    );
    assert_eq!(
        moved(&grpc("grpc_server_handled_total", "AuthService", "Login", "OK")),
        1.0
    );
    assert_eq!(
        moved(&grpc(
            "grpc_server_handling_seconds_count",
            "AuthService",
            "Login",
            "UNAUTHENTICATED"
        )),
        1.0
    );
    assert_eq!(
        moved("sigil_http_server_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}"),
        2.0
    );
    assert_eq!(
        moved(
            "sigil_http_server_request_duration_seconds_count{method=\"GET\",route=\"/readyz\",status=\"200\"}"
        ),
        2.0
    );
    assert_eq!(
        moved("sigil_http_server_requests_total{method=\"GET\",route=\"none\",status=\"404\"}"),
        1.0
    );
    assert_eq!(moved("sigil_sign_ins_total{outcome=\"success\"}"), 1.0);
    assert_eq!(
        moved("sigil_sign_ins_total{outcome=\"invalid_credentials\"}"),
        1.0
    );
    // The sign-in and the refresh each issue an access and a refresh token.
    assert_eq!(moved("sigil_tokens_issued_total{kind=\"access\"}"), 2.0);
    assert_eq!(moved("sigil_tokens_issued_total{kind=\"refresh\"}"), 2.0);
    assert!(moved("sigil_tokens_issued_total{kind=\"environment\"}") >= 2.0);
    // Vendor checks, the new user's password, two sign-ins: each waited for a hashing thread.
    assert!(moved("sigil_password_hash_wait_seconds_count") >= 6.0);
    assert_eq!(after.get("sigil_password_hash_queue_depth"), 0.0);
    // The scrape itself is the one HTTP request in flight.
    assert_eq!(after.get("sigil_http_server_in_flight"), 1.0);
    assert!(after.get("sigil_db_pool_connections{state=\"idle\"}") >= 1.0);
}

#[tokio::test]
async fn methods_that_are_not_served_are_counted_as_unknown() {
    let app = spawn_app().await;
    let mut client = tonic::client::Grpc::new(app.channel.clone());
    client.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<pb::ValidateTokenRequest, pb::ValidateTokenResponse>::default();
    let status = client
        .unary(
            tonic::Request::new(pb::ValidateTokenRequest::default()),
            "/identity.v1.TokenService/MadeUp".parse().unwrap(),
            codec,
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    let scrape = Scrape::of(&app).await;
    assert_eq!(
        scrape.get(
            "sigil_grpc_server_handled_total{grpc_service=\"unknown\",grpc_method=\"unknown\",grpc_code=\"UNIMPLEMENTED\"}"
        ),
        1.0
    );
    assert!(
        !scrape.samples.keys().any(|k| k.contains("MadeUp")),
        "a made-up method became a label value"
    );
}

#[tokio::test]
async fn with_a_metrics_address_metrics_leave_the_public_listener_for_their_own() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let app = spawn_with(database, config, TestClock::new()).await;
    let metrics_addr = app.metrics_addr.expect("a metrics listener");
    assert_ne!(metrics_addr, app.http_addr);

    let public = reqwest::get(format!("http://{}/metrics", app.http_addr))
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "not on the public listener");
    let public = reqwest::get(format!("http://{}/frontegg/metrics", app.http_addr))
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    reqwest::get(format!("http://{}/readyz", app.http_addr))
        .await
        .unwrap();

    let scrape = Scrape::at(&format!("http://{metrics_addr}/metrics")).await;
    assert!(scrape.content_type.starts_with("application/openmetrics-text"));
    assert!(scrape.has("sigil_build_info{version=\"0.1.0\"}"));
    // It counts the public listener's traffic, the refused scrape included.
    assert_eq!(
        scrape.get("sigil_http_server_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}"),
        1.0
    );
    assert_eq!(
        scrape.get("sigil_http_server_requests_total{method=\"GET\",route=\"none\",status=\"404\"}"),
        2.0
    );
    // The metrics listener serves nothing else.
    for path in ["/readyz", "/openapi.json", "/.well-known/jwks.json"] {
        let other = reqwest::get(format!("http://{metrics_addr}{path}"))
            .await
            .unwrap();
        assert_eq!(other.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn every_refused_sign_in_costs_one_full_password_hash() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", "a good password").await;
    app.invited_user("bob@example.com").await;
    let hashes = "sigil_password_hash_wait_seconds_count";
    // An unknown email and a user without a password are checked against a dummy hash, so
    // they take as long as a wrong password: each must run exactly one hash.
    for (email, password) in [
        ("ann@example.com", "a wrong password"),
        ("nobody@example.com", "a good password"),
        ("bob@example.com", "a good password"),
    ] {
        let before = Scrape::of(&app).await;
        let status = app
            .auth()
            .login(pb::LoginRequest {
                email: email.into(),
                password: password.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        let after = Scrape::of(&app).await;
        assert_eq!(after.get(hashes) - before.get(hashes), 1.0, "{email}");
    }
    // So do an unknown client id and a wrong secret of environment authentication.
    for (client_id, secret) in [(CLIENT_ID, "not the secret"), ("nobody", "not the secret")] {
        let before = Scrape::of(&app).await;
        let mut environments = app.auth_client();
        let status = environments
            .authenticate_vendor(pb::AuthenticateVendorRequest {
                client_id: client_id.into(),
                secret: secret.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        let after = Scrape::of(&app).await;
        assert_eq!(after.get(hashes) - before.get(hashes), 1.0, "{client_id}");
    }
}

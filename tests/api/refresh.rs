//! Refresh and logout: the refresh cookie only from allowed origins, the grace window of a
//! rotation, reuse detection outside it, and the absolute lifetime of a session.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode, header};
use serde_json::{Value, json};
use sigil::transport::grpc::pb;
use tonic::Code;

use crate::helpers::{TestApp, TestClock, TestDatabase, assert_error, spawn_app, spawn_with, test_config};

const PASSWORD: &str = "correct horse battery";
const COOKIE: &str = "fe_refresh_testclient";
const APP_ORIGIN: &str = "https://app.example.com";
const PUBLIC_ORIGIN: &str = "https://auth.sigil.test";
const REFRESH: &str = "/identity/resources/auth/v1/user/token/refresh";
const LOGOUT: &str = "/identity/resources/auth/v1/logout";

async fn app_with_cors() -> TestApp {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.cors_origins = vec![APP_ORIGIN.into()];
    spawn_with(database, config, TestClock::new()).await
}

fn url(app: &TestApp, path: &str) -> String {
    format!("http://{}{}", app.http_addr, path)
}

/// Signs in over REST: the refresh token (also the cookie's value) and the access token.
async fn rest_login(app: &TestApp) -> (String, String) {
    let response = Client::new()
        .post(url(app, "/identity/resources/auth/v1/user"))
        .json(&json!({"email": "ann@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    (
        body["refreshToken"].as_str().unwrap().to_owned(),
        body["accessToken"].as_str().unwrap().to_owned(),
    )
}

/// A POST carrying the refresh cookie, from a page of `origin` if any.
async fn with_cookie(app: &TestApp, path: &str, cookie: &str, origin: Option<&str>) -> Response {
    let mut request = Client::new()
        .post(url(app, path))
        .header(header::COOKIE, format!("{COOKIE}={cookie}"));
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    request.send().await.unwrap()
}

async fn assert_refused_origin(response: Response) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], "ORIGIN_NOT_ALLOWED");
}

#[tokio::test]
async fn the_refresh_cookie_works_only_from_pages_of_allowed_origins() {
    let app = app_with_cors().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let (token, access_token) = rest_login(&app).await;

    // Another site's page (or a request without an Origin) cannot rotate or end the session.
    for origin in [None, Some("https://evil.example"), Some("null")] {
        assert_refused_origin(with_cookie(&app, REFRESH, &token, origin).await).await;
        assert_refused_origin(with_cookie(&app, LOGOUT, &token, origin).await).await;
    }
    app.validate(&access_token).await.expect("the session lives on");

    // The application's pages and sigil's own may.
    let rotated = with_cookie(&app, REFRESH, &token, Some(APP_ORIGIN)).await;
    assert_eq!(rotated.status(), StatusCode::CREATED);
    let token: Value = rotated.json().await.unwrap();
    let token = token["refreshToken"].as_str().unwrap().to_owned();
    let rotated = with_cookie(&app, REFRESH, &token, Some(PUBLIC_ORIGIN)).await;
    assert_eq!(rotated.status(), StatusCode::CREATED);
    let token: Value = rotated.json().await.unwrap();
    let token = token["refreshToken"].as_str().unwrap().to_owned();
    let ended = with_cookie(&app, LOGOUT, &token, Some(APP_ORIGIN)).await;
    assert_eq!(ended.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn callers_that_send_the_token_in_the_body_need_no_origin() {
    let app = app_with_cors().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let (token, _) = rest_login(&app).await;
    let rotated = Client::new()
        .post(url(&app, REFRESH))
        .header(header::ORIGIN, "https://elsewhere.example")
        .json(&json!({"refreshToken": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::CREATED);
    let body: Value = rotated.json().await.unwrap();
    let ended = Client::new()
        .post(url(&app, LOGOUT))
        .json(&json!({"refreshToken": body["refreshToken"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::CREATED);
}

async fn grpc_refresh(
    app: &TestApp,
    refresh_token: &str,
) -> Result<pb::AuthenticationResponse, tonic::Status> {
    app.auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: refresh_token.into(),
        })
        .await
        .map(|r| r.into_inner().authentication.unwrap())
}

#[tokio::test]
async fn a_repeated_refresh_within_the_grace_window_gets_the_same_pair_and_both_work() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let first = app.login("ann@example.com", PASSWORD).await;
    let rotated = grpc_refresh(&app, &first.refresh_token).await.unwrap();
    // A second tab, or a retry after a lost answer, a few seconds later.
    app.clock.advance(Duration::from_secs(4));
    let again = grpc_refresh(&app, &first.refresh_token).await.unwrap();
    assert_eq!(again.refresh_token, rotated.refresh_token);
    assert_eq!(again.access_token, rotated.access_token);
    assert_eq!(again.expires, rotated.expires);
    app.validate(&again.access_token).await.unwrap();
    // The one successor goes on rotating; the session was not revoked.
    let next = grpc_refresh(&app, &again.refresh_token).await.unwrap();
    app.validate(&next.access_token).await.unwrap();
    assert_eq!(app.count("sessions", "revoked_at IS NOT NULL").await, 0);

    // Over REST alike, the token in the body.
    let (token, _) = rest_login(&app).await;
    let refresh = || async {
        let response = Client::new()
            .post(url(&app, REFRESH))
            .json(&json!({"refreshToken": token}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()
    };
    let one = refresh().await;
    app.clock.advance(Duration::from_secs(1));
    let two = refresh().await;
    assert_eq!(one["refreshToken"], two["refreshToken"]);
    assert_eq!(one["accessToken"], two["accessToken"]);
}

#[tokio::test]
async fn a_reuse_after_the_grace_window_revokes_the_session() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let first = app.login("ann@example.com", PASSWORD).await;
    let rotated = grpc_refresh(&app, &first.refresh_token).await.unwrap();
    app.clock.advance(Duration::from_secs(6));
    let status = grpc_refresh(&app, &first.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "REFRESH_TOKEN_REUSED");
    let status = grpc_refresh(&app, &rotated.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = app.validate(&rotated.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_is_refreshed() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.session_max_lifetime = Duration::from_secs(2 * 3600);
    let app = spawn_with(database, config, TestClock::new()).await;
    app.active_user("ann@example.com", PASSWORD).await;
    let mut auth = app.login("ann@example.com", PASSWORD).await;
    for _ in 0..2 {
        app.clock.advance(Duration::from_secs(50 * 60));
        auth = grpc_refresh(&app, &auth.refresh_token).await.unwrap();
    }
    // The sliding refresh token would live 30 days more; the session stops at two hours.
    app.clock.advance(Duration::from_secs(25 * 60));
    let status = grpc_refresh(&app, &auth.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_EXPIRED");
    // The REST gateway says the same.
    let response = Client::new()
        .post(url(&app, REFRESH))
        .json(&json!({"refreshToken": auth.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], "SESSION_EXPIRED");
    // A new sign-in starts a new session.
    let fresh = app.login("ann@example.com", PASSWORD).await;
    grpc_refresh(&app, &fresh.refresh_token).await.unwrap();
}

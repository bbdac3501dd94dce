//! Refresh and logout: the refresh cookie only from allowed origins.

use crate::helpers::{TestApp, TestClock, TestDatabase, spawn_with, test_config};
use reqwest::{Client, Response, StatusCode, header};
use serde_json::{Value, json};

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

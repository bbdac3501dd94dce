//! Frontegg's browser SDK calls every path under `/frontegg` after its base URL: the gateway
//! answers there exactly as at the root.

use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn the_sdk_prefix_serves_the_same_routes_and_errors() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let url = |path: &str| format!("http://{}/frontegg{path}", app.http_addr);

    let login = Client::new()
        .post(url("/identity/resources/auth/v1/user"))
        .json(&json!({"email": "ann@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("fe_refresh_"))
        .expect("the refresh cookie")
        .to_owned();
    assert!(
        cookie.contains("Path=/;") || cookie.ends_with("Path=/"),
        "{cookie}"
    );

    // The cookie set under the prefix is read there too.
    let pair = cookie.split(';').next().unwrap().to_owned();
    let refresh = Client::new()
        .post(url("/identity/resources/auth/v1/user/token/refresh"))
        .header(header::COOKIE, pair)
        .header(header::ORIGIN, "https://auth.sigil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), StatusCode::CREATED);

    let missing = Client::new()
        .get(url("/identity/resources/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.headers().contains_key("frontegg-trace-id"));
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["errorCode"], "NOT_FOUND");

    let wrong_method = Client::new()
        .get(url("/identity/resources/auth/v1/user"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = wrong_method.json().await.unwrap();
    assert_eq!(body["errorCode"], "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn paths_that_only_resemble_the_prefix_and_operational_routes_under_it_are_not_found() {
    let app = spawn_app().await;
    for path in [
        "/fronteggidentity/resources/auth/v1/user",
        "/frontegg/frontegg/healthz",
        // Probes, metrics and the document stay at the root, out of a public SDK path.
        "/frontegg/healthz",
        "/frontegg/readyz",
        "/frontegg/metrics",
        "/frontegg/openapi.json",
    ] {
        let response = Client::new()
            .get(format!("http://{}{path}", app.http_addr))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

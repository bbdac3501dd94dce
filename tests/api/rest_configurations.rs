//! `GET /identity/resources/configurations/v1` over real HTTP: the environment's configuration,
//! whose `publicKey` Frontegg's Node SDK uses to validate every token.

use std::{collections::HashSet, time::Duration};

use jwt_simple::prelude::{RS256PublicKey, RSAPublicKeyLike, VerificationOptions};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    CLIENT_ID, SECRET, TestApp, TestClock, TestDatabase, spawn_app, spawn_with, test_config,
};

const PATH: &str = "/identity/resources/configurations/v1";
const PASSWORD: &str = "correct horse battery";

fn url(app: &TestApp, path: &str) -> String {
    format!("http://{}{}", app.http_addr, path)
}

fn get(app: &TestApp) -> RequestBuilder {
    Client::new().get(url(app, PATH))
}

/// An environment token from `POST /auth/vendor`, as Frontegg's Node SDK gets one.
async fn vendor_token(app: &TestApp) -> String {
    let body: Value = Client::new()
        .post(url(app, "/auth/vendor"))
        .json(&json!({"clientId": CLIENT_ID, "secret": SECRET}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// An access token of a freshly created user, from a REST login.
async fn access_token(app: &TestApp, email: &str) -> String {
    app.active_user(email, PASSWORD).await;
    let body: Value = Client::new()
        .post(url(app, "/identity/resources/auth/v1/user"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["accessToken"].as_str().unwrap().to_owned()
}

async fn configuration(app: &TestApp) -> Value {
    let response = get(app)
        .bearer_auth(vendor_token(app).await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("frontegg-trace-id"));
    response.json().await.unwrap()
}

/// Verification that also pins the audience to the configuration's environment. Tokens issued
/// at a test clock moved ahead of the real one are accepted.
fn options(environment_id: &str) -> VerificationOptions {
    VerificationOptions {
        allowed_audiences: Some(HashSet::from([environment_id.to_owned()])),
        accept_future: true,
        ..Default::default()
    }
}

/// `token` with one character in the middle of its signature changed.
fn tampered(token: &str) -> String {
    let (message, signature) = token.rsplit_once('.').unwrap();
    let mut signature: Vec<char> = signature.chars().collect();
    let middle = signature.len() / 2;
    signature[middle] = if signature[middle] == 'A' { 'B' } else { 'A' };
    format!("{message}.{}", signature.into_iter().collect::<String>())
}

async fn assert_rejected(request: RequestBuilder, code: &str) {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], code, "{body}");
    assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()), "{body}");
}

#[tokio::test]
async fn the_configuration_names_the_environment_and_its_lifetimes_and_fills_no_secret() {
    let app = spawn_app().await;
    let config = configuration(&app).await;

    assert!(!config["id"].as_str().unwrap().is_empty());
    assert_eq!(config["jwtAlgorithm"], "RS256");
    assert_eq!(config["defaultTokenExpiration"], 3600);
    assert_eq!(config["defaultRefreshTokenExpiration"], 30 * 24 * 3600);
    assert_eq!(config["rotateRefreshTokens"], true);
    assert_eq!(config["authStrategy"], "EmailAndPassword");
    // The test server marks its cookie Secure, so cross-site browsers may send it.
    assert_eq!(config["cookieSameSite"], "NONE");
    assert_eq!(config["jwtSecret"], "", "a secret is never handed out");
    let text = config.to_string();
    assert!(!text.contains(SECRET) && !text.contains("PRIVATE KEY"));

    let pem = config["publicKey"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    assert!(pem.ends_with("-----END PUBLIC KEY-----\n"), "{pem}");
}

#[tokio::test]
async fn every_field_of_the_contract_is_present() {
    let app = spawn_app().await;
    let config = configuration(&app).await;
    let contract = [
        "id",
        "defaultTokenExpiration",
        "defaultRefreshTokenExpiration",
        "publicKey",
        "cookieSameSite",
        "allowSignups",
        "apiTokensEnabled",
        "allowOverridePasswordComplexity",
        "allowOverridePasswordExpiration",
        "allowOverrideEnforcePasswordHistory",
        "jwtAlgorithm",
        "jwtSecret",
        "allowNotVerifiedUsersLogin",
        "forcePermissions",
        "authStrategy",
        "defaultPasswordlessTokenExpiration",
        "forceSameDeviceOnAuth",
        "allowTenantInvitations",
        "rotateRefreshTokens",
        "machineToMachineAuthStrategy",
        "addRolesToJwt",
        "addPermissionsToJwt",
        "refreshTokensRotationLimit",
        "addSamlAttributesToJwt",
        "allowCustomLoginTenantSwitch",
        // Settable in the contract's request, and so read back too.
        "skipTenantValidation",
    ];
    let fields: HashSet<&str> = config.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, HashSet::from(contract));
}

#[tokio::test]
async fn the_public_key_verifies_sigil_access_tokens_and_refuses_tampered_ones() {
    let app = spawn_app().await;
    let token = access_token(&app, "ann@example.com").await;
    let config = configuration(&app).await;
    let key = RS256PublicKey::from_pem(config["publicKey"].as_str().unwrap()).unwrap();
    let environment_id = config["id"].as_str().unwrap();

    let claims = key
        .verify_token::<Value>(&token, Some(options(environment_id)))
        .expect("the configuration's key verifies the access token");
    assert_eq!(claims.custom["type"], "userToken");
    assert_eq!(claims.custom["email"], "ann@example.com");
    assert!(
        key.verify_token::<Value>(&tampered(&token), Some(options(environment_id)))
            .is_err()
    );
}

#[tokio::test]
async fn frontegg_node_sdk_sends_the_environment_token_as_x_access_token() {
    let app = spawn_app().await;
    let response = get(&app)
        .header("x-access-token", vendor_token(&app).await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let config: Value = response.json().await.unwrap();
    assert!(config["publicKey"].as_str().unwrap().contains("PUBLIC KEY"));
}

#[tokio::test]
async fn only_a_current_environment_token_reads_the_configuration() {
    let app = spawn_app().await;
    assert_rejected(get(&app), "MISSING_TOKEN").await;
    assert_rejected(
        get(&app).header("authorization", "Basic dXNlcjpwYXNz"),
        "MISSING_TOKEN",
    )
    .await;
    assert_rejected(get(&app).bearer_auth("a.b.c"), "INVALID_TOKEN").await;
    assert_rejected(get(&app).header("x-access-token", "not-a-token"), "INVALID_TOKEN").await;
    let vendor = vendor_token(&app).await;
    assert_rejected(get(&app).bearer_auth(tampered(&vendor)), "INVALID_TOKEN").await;
    // A user's access token is signed by the same key; a user holding
    // `fe.secure.read.securityPolicy` (here its tenant's Admin) reads the configuration too, as
    // the admin portal does.
    let user = access_token(&app, "bob@example.com").await;
    for request in [
        get(&app).bearer_auth(&user),
        get(&app).header("x-access-token", &user),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    app.clock.advance(Duration::from_secs(2 * 3600));
    assert_rejected(get(&app).bearer_auth(&vendor), "TOKEN_EXPIRED").await;
}

#[tokio::test]
async fn after_a_key_rotation_the_configuration_gives_the_new_signing_key() {
    let clock = TestClock::new();
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    let period = Duration::from_secs(30 * 24 * 3600);
    config.key_rotation = sigil::config::KeyRotation::Every(period);
    let app = spawn_with(database, config.clone(), clock.clone()).await;
    let before = configuration(&app).await["publicKey"].clone();
    let database = app.stop().await;

    // Past the rotation period, a start makes a new signing key.
    clock.advance(period + Duration::from_secs(60));
    let app = spawn_with(database, config, clock).await;
    let token = access_token(&app, "cy@example.com").await;
    let after = configuration(&app).await;
    assert_ne!(after["publicKey"], before);
    let environment_id = after["id"].as_str().unwrap();
    let new_key = RS256PublicKey::from_pem(after["publicKey"].as_str().unwrap()).unwrap();
    new_key
        .verify_token::<Value>(&token, Some(options(environment_id)))
        .expect("the new key verifies new tokens");
    let old_key = RS256PublicKey::from_pem(before.as_str().unwrap()).unwrap();
    assert!(
        old_key
            .verify_token::<Value>(&token, Some(options(environment_id)))
            .is_err()
    );
}

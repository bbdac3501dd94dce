//! The REST gateway at Frontegg's paths, over real HTTP: bodies, status codes, the error body,
//! the refresh cookie, and its agreement with the gRPC API.

use base64::Engine;
use jwt_simple::prelude::{RS256PublicKey, RSAPublicKeyLike, VerificationOptions};
use reqwest::{Client, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Bearer, CLIENT_ID, SECRET, TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";
const COOKIE: &str = "fe_refresh_testclient";
/// The origin of the test server's public URL, whose pages may use the refresh cookie.
const PUBLIC_ORIGIN: &str = "https://auth.sigil.test";

fn url(app: &TestApp, path: &str) -> String {
    format!("http://{}{}", app.http_addr, path)
}

fn client() -> Client {
    Client::builder().user_agent("rest-test/1.0").build().unwrap()
}

async fn post(app: &TestApp, path: &str, body: Value) -> Response {
    client().post(url(app, path)).json(&body).send().await.unwrap()
}

/// Asserts the contract's error body with `code` and returns it.
async fn assert_error_body(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert!(response.headers().contains_key("frontegg-trace-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], code, "{body}");
    let errors = body["errors"].as_array().expect("errors is an array");
    assert!(
        !errors.is_empty() && errors.iter().all(Value::is_string),
        "{body}"
    );
    body
}

/// The `Set-Cookie` of the refresh cookie, if any.
fn refresh_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{COOKIE}=")))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap()
}

async fn login(app: &TestApp, email: &str, password: &str) -> Response {
    post(
        app,
        "/identity/resources/auth/v1/user",
        json!({"email": email, "password": password}),
    )
    .await
}

#[tokio::test]
async fn environment_credentials_get_a_token_over_rest_that_the_grpc_api_accepts() {
    let app = spawn_app().await;
    let response = post(
        &app,
        "/auth/vendor",
        json!({"clientId": CLIENT_ID, "secret": SECRET}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["expiresIn"].as_i64().unwrap() > 0);
    let token = body["token"].as_str().unwrap();

    // The same token authenticates the management API over gRPC.
    let mut tenants = app.tenants_with(Bearer::token(token));
    tenants
        .list_tenants(sigil::transport::grpc::pb::ListTenantsRequest::default())
        .await
        .expect("the REST-issued environment token works over gRPC");

    let wrong = post(
        &app,
        "/auth/vendor",
        json!({"clientId": CLIENT_ID, "secret": "nope"}),
    )
    .await;
    assert_error_body(wrong, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    let missing = post(&app, "/auth/vendor", json!({"clientId": CLIENT_ID})).await;
    assert_error_body(missing, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
}

#[tokio::test]
async fn unreadable_requests_get_a_4xx_with_the_error_body() {
    let app = spawn_app().await;
    let path = url(&app, "/identity/resources/auth/v1/user");
    let malformed = client()
        .post(&path)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_error_body(malformed, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;

    let wrong_type = post(
        &app,
        "/identity/resources/auth/v1/user",
        json!({"email": 7, "password": 1}),
    )
    .await;
    assert_error_body(wrong_type, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;

    let not_json = client().post(&path).body("email=a").send().await.unwrap();
    assert_error_body(
        not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;

    let oversized = json!({"email": "a@example.com", "password": "x".repeat(100 * 1024)});
    let too_large = post(&app, "/identity/resources/auth/v1/user", oversized).await;
    assert_error_body(too_large, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;

    let unknown = client()
        .get(url(&app, "/identity/resources/nothing"))
        .send()
        .await
        .unwrap();
    assert_error_body(unknown, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let wrong_method = client().get(&path).send().await.unwrap();
    assert_error_body(wrong_method, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;

    let strategy = client()
        .get(url(
            &app,
            "/identity/resources/users/v1/activate/strategy?userId=x",
        ))
        .send()
        .await
        .unwrap();
    assert_error_body(strategy, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
}

#[tokio::test]
async fn login_answers_the_authentication_response_and_sets_the_refresh_cookie() {
    let app = spawn_app().await;
    let user = app.active_user("ann@example.com", PASSWORD).await;
    let response = login(&app, "Ann@Example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = refresh_cookie(&response).expect("login sets the refresh cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=None", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie} lacks {attribute}");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["tokenType"], "bearer");
    assert_eq!(body["mfaRequired"], false);
    assert_eq!(body["userId"], user.id.as_str());
    assert_eq!(body["userEmail"], "ann@example.com");
    assert!(body["expiresIn"].as_i64().unwrap() > 0);
    assert!(body["expires"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["refreshToken"].as_str().unwrap(), cookie_value(&set_cookie));
    for field in ["webauthn", "phones", "authenticators", "emails"] {
        assert!(body["mfaDevices"][field].is_array());
    }

    // The access token validates over gRPC as any other.
    let claims = app.validate(body["accessToken"].as_str().unwrap()).await.unwrap();
    assert_eq!(claims.sub, user.id);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let wrong = login(&app, "ann@example.com", "wrong password!").await;
    let wrong = assert_error_body(wrong, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    let unknown = login(&app, "bob@example.com", PASSWORD).await;
    let unknown = assert_error_body(unknown, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS").await;
    assert_eq!(wrong, unknown);

    let bad_email = login(&app, "not an email", PASSWORD).await;
    assert_error_body(bad_email, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
}

#[tokio::test]
async fn refresh_reads_the_cookie_rotates_it_and_a_replay_revokes_the_session() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let first = refresh_cookie(&login(&app, "ann@example.com", PASSWORD).await).unwrap();
    let first = cookie_value(&first);
    let refresh = |cookie: String| {
        let path = url(&app, "/identity/resources/auth/v1/user/token/refresh");
        async move {
            client()
                .post(path)
                .header(header::COOKIE, format!("{COOKIE}={cookie}"))
                .header(header::ORIGIN, PUBLIC_ORIGIN)
                .send()
                .await
                .unwrap()
        }
    };

    let rotated = refresh(first.clone()).await;
    assert_eq!(rotated.status(), StatusCode::CREATED);
    let second = cookie_value(&refresh_cookie(&rotated).expect("refresh sets the new cookie"));
    assert_ne!(second, first);
    let body: Value = rotated.json().await.unwrap();
    assert_eq!(body["refreshToken"].as_str().unwrap(), second);

    // A refresh token in the body works for callers without cookies.
    let by_body = post(
        &app,
        "/identity/resources/auth/v1/user/token/refresh",
        json!({"refreshToken": second}),
    )
    .await;
    assert_eq!(by_body.status(), StatusCode::CREATED);
    let third = cookie_value(&refresh_cookie(&by_body).unwrap());

    // Replaying the first token past the grace window revokes the session: the current one
    // stops working too.
    app.clock.advance(std::time::Duration::from_secs(6));
    assert_error_body(
        refresh(first).await,
        StatusCode::UNAUTHORIZED,
        "REFRESH_TOKEN_REUSED",
    )
    .await;
    assert_error_body(refresh(third).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;

    let none = client()
        .post(url(&app, "/identity/resources/auth/v1/user/token/refresh"))
        .send()
        .await
        .unwrap();
    assert_error_body(none, StatusCode::UNAUTHORIZED, "MISSING_TOKEN").await;
}

#[tokio::test]
async fn logout_ends_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let response = login(&app, "ann@example.com", PASSWORD).await;
    let cookie = cookie_value(&refresh_cookie(&response).unwrap());
    let body: Value = response.json().await.unwrap();
    let access_token = body["accessToken"].as_str().unwrap().to_owned();

    let logout = client()
        .post(url(&app, "/identity/resources/auth/v1/logout"))
        .header(header::COOKIE, format!("{COOKIE}={cookie}"))
        .header(header::ORIGIN, PUBLIC_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::CREATED);
    let cleared = refresh_cookie(&logout).expect("logout clears the cookie");
    assert_eq!(cookie_value(&cleared), "");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let refreshed = post(
        &app,
        "/identity/resources/auth/v1/user/token/refresh",
        json!({"refreshToken": cookie}),
    )
    .await;
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
    let status = app.validate(&access_token).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    let anonymous = client()
        .post(url(&app, "/identity/resources/auth/v1/logout"))
        .send()
        .await
        .unwrap();
    assert_error_body(anonymous, StatusCode::UNAUTHORIZED, "MISSING_TOKEN").await;
}

#[tokio::test]
async fn an_invited_user_activates_over_rest_and_is_signed_in() {
    let app = spawn_app().await;
    let (user, activation) = app.invited_user("cat@example.com").await;
    let strategy_url = |token: &str| {
        url(
            &app,
            &format!(
                "/identity/resources/users/v1/activate/strategy?userId={}&token={token}",
                user.id
            ),
        )
    };
    let strategy = client()
        .get(strategy_url(&activation.token))
        .send()
        .await
        .unwrap();
    assert_eq!(strategy.status(), StatusCode::OK);
    let strategy: Value = strategy.json().await.unwrap();
    assert_eq!(strategy, json!({"shouldSetPassword": true}));

    let wrong = client().get(strategy_url("wrong-token")).send().await.unwrap();
    assert_error_body(wrong, StatusCode::BAD_REQUEST, "INVALID_ACTIVATION_TOKEN").await;

    let short = post(
        &app,
        "/identity/resources/users/v1/activate",
        json!({"userId": user.id, "token": activation.token, "password": "short"}),
    )
    .await;
    assert_error_body(short, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;

    let activated = post(
        &app,
        "/identity/resources/users/v1/activate",
        json!({"userId": user.id, "token": activation.token, "password": PASSWORD}),
    )
    .await;
    assert_eq!(activated.status(), StatusCode::OK);
    assert!(refresh_cookie(&activated).is_some());
    let body: Value = activated.json().await.unwrap();
    assert_eq!(body["userId"], user.id.as_str());
    assert_eq!(body["emailVerified"], true);

    let again = post(
        &app,
        "/identity/resources/users/v1/activate",
        json!({"userId": user.id, "token": activation.token, "password": PASSWORD}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        login(&app, "cat@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn activation_with_a_code_counts_wrong_codes() {
    let app = spawn_app().await;
    let (user, activation) = app.invited_user("dan@example.com").await;
    let attempt = |code: &str| {
        post(
            &app,
            "/identity/resources/users/v1/activate/code",
            json!({"userId": user.id, "token": activation.token, "code": code, "password": PASSWORD}),
        )
    };
    let wrong_code = if activation.code == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_error_body(
        attempt(wrong_code).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ACTIVATION_CODE",
    )
    .await;
    let without = post(
        &app,
        "/identity/resources/users/v1/activate/code",
        json!({"userId": user.id, "token": activation.token}),
    )
    .await;
    assert_error_body(without, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
    assert_eq!(attempt(&activation.code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn resetting_an_activation_token_needs_the_environment_token() {
    let app = spawn_app().await;
    let (_, activation) = app.invited_user("eve@example.com").await;
    let path = url(&app, "/identity/resources/users/v1/activate/reset");
    let body = json!({"email": "eve@example.com", "emailMetadata": {}});

    let anonymous = client().post(&path).json(&body).send().await.unwrap();
    assert_error_body(anonymous, StatusCode::UNAUTHORIZED, "MISSING_TOKEN").await;
    let forged = client()
        .post(&path)
        .bearer_auth("a.b.c")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error_body(forged, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;

    let token = app.env_token().await;
    let mailed = app.mailer.sent().len();
    let reset = client()
        .post(&path)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::CREATED);
    assert_eq!(app.mailer.sent().len(), mailed + 1);

    // The old token no longer works.
    let old = client()
        .get(url(
            &app,
            &format!(
                "/identity/resources/users/v1/activate/strategy?userId={}&token={}",
                activation.user_id, activation.token
            ),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::BAD_REQUEST);

    let not_an_object = json!({"email": "eve@example.com", "emailMetadata": [1]});
    let invalid = client()
        .post(&path)
        .bearer_auth(&token)
        .json(&not_an_object)
        .send()
        .await
        .unwrap();
    assert_error_body(invalid, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
}

#[tokio::test]
async fn the_jwks_document_verifies_tokens_issued_over_rest() {
    let app = spawn_app().await;
    app.active_user("fay@example.com", PASSWORD).await;
    let body: Value = login(&app, "fay@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let token = body["accessToken"].as_str().unwrap();

    let jwks: Value = client()
        .get(url(&app, "/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (&key["kty"], &key["alg"], &key["use"]),
        (&json!("RSA"), &json!("RS256"), &json!("sig"))
    );
    let decode = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v.as_str().unwrap())
            .unwrap()
    };
    let public = RS256PublicKey::from_components(&decode(&key["n"]), &decode(&key["e"])).unwrap();
    public
        .verify_token::<Value>(token, Some(VerificationOptions::default()))
        .expect("the published JWKS verifies the token");
}

#[tokio::test]
async fn probes_answer_over_http() {
    let app = spawn_app().await;
    for path in ["/healthz", "/livez", "/readyz"] {
        let response = client().get(url(&app, path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.headers().contains_key("frontegg-trace-id"));
    }
}

#[tokio::test]
async fn browsers_of_allowed_origins_may_call_with_credentials() {
    let database = crate::helpers::TestDatabase::new().await;
    let mut config = crate::helpers::test_config(&database);
    config.cors_origins = vec!["https://app.sigil.test".into()];
    let app = crate::helpers::spawn_with(database, config, crate::helpers::TestClock::new()).await;
    // Every header Frontegg's browser SDK may send.
    const SDK_HEADERS: &str = "authorization,content-type,frontegg-vendor-host,frontegg-login-alias,\
                               frontegg-requested-application-id,x-frontegg-framework,x-frontegg-sdk";
    let preflight = |origin: &'static str| {
        client()
            .request(
                reqwest::Method::OPTIONS,
                url(&app, "/identity/resources/auth/v1/user"),
            )
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, SDK_HEADERS)
            .send()
    };
    let allowed = preflight("https://app.sigil.test").await.unwrap();
    assert!(allowed.status().is_success());
    let headers = allowed.headers();
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.sigil.test"
    );
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    let allowed_headers = headers[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap();
    for name in SDK_HEADERS.split(',') {
        assert!(
            allowed_headers.contains(name),
            "{name} is not allowed: {allowed_headers}"
        );
    }

    let other = preflight("https://evil.test").await.unwrap();
    assert!(!other.headers().contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
}

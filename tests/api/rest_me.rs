//! The signed-in user's own routes, which Frontegg's frontend SDK loads after a sign-in,
//! authenticated by the user's access token.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{
    helpers::{TestApp, spawn_app},
    http::{Api, error, ok, sign_in},
};

const PASSWORD: &str = "correct horse battery";
const ME_V2: &str = "/identity/resources/users/v2/me";
const ME_V3: &str = "/identity/resources/users/v3/me";
const TENANTS_V1: &str = "/identity/resources/users/v1/me/tenants";
const TENANTS_V2: &str = "/identity/resources/users/v2/me/tenants";
const TENANTS_V3: &str = "/identity/resources/users/v3/me/tenants";

/// Ann, a member of acme (her current tenant) and globex, signed in; returns her id and token.
async fn ann(app: &TestApp) -> (String, String) {
    let api = Api::environment(app).await;
    for (id, name) in [("acme", "Acme"), ("globex", "Globex"), ("initech", "Initech")] {
        api.create_tenant(id, name).await;
        // Distinct creation times make the order of the listings certain.
        app.clock.advance(Duration::from_secs(1));
    }
    let ann = api.create_user("acme", "ann@example.com", Some(PASSWORD)).await;
    let id = ann["id"].as_str().unwrap().to_owned();
    ok(
        api.post(
            &format!("/identity/resources/users/v1/{id}/tenant"),
            json!({"tenantId": "globex"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    (id, sign_in(app, "ann@example.com", PASSWORD).await)
}

#[tokio::test]
async fn a_signed_in_user_reads_its_profile() {
    let app = spawn_app().await;
    let (id, token) = ann(&app).await;
    let me = Api::bearer(&app, &token);
    for path in [ME_V2, ME_V3] {
        let profile = ok(me.get(path).await, StatusCode::OK).await;
        assert_eq!(profile["id"], id);
        assert_eq!(profile["sub"], id);
        assert_eq!(profile["email"], "ann@example.com");
        assert_eq!(profile["tenantId"], "acme", "the tenant of the session");
        assert_eq!(profile["tenantIds"], json!(["acme", "globex"]));
        // Acme's first member is its admin: the role and what it grants, in full.
        assert_eq!(profile["roles"][0]["key"], "Admin");
        assert_eq!(profile["tenants"][0]["roles"][0]["key"], "Admin");
        assert!(
            profile["permissions"]
                .to_string()
                .contains("fe.secure.write.roles")
        );
        assert!(profile["lastLogin"].is_string(), "signed in: {profile}");
        assert!(profile.get("vendorMetadata").is_some());
    }
}

#[tokio::test]
async fn a_signed_in_user_updates_its_profile() {
    let app = spawn_app().await;
    let (_, token) = ann(&app).await;
    let me = Api::bearer(&app, &token);
    let updated = ok(
        me.put(
            ME_V2,
            json!({"name": "Ann", "phoneNumber": "+15550100", "metadata": "{\"theme\":\"dark\"}"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["name"], "Ann");
    assert_eq!(updated["metadata"], "{\"theme\":\"dark\"}");
    let read = ok(me.get(ME_V2).await, StatusCode::OK).await;
    assert_eq!(read["phoneNumber"], "+15550100");
    let bad = me.put(ME_V2, json!({"phoneNumber": "call me"})).await;
    error(bad, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
    // Environment-only fields are not the user's to change.
    let ignored = ok(
        me.put(ME_V2, json!({"vendorMetadata": "{\"tier\":9}"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ignored["vendorMetadata"], "{}");
}

#[tokio::test]
async fn a_signed_in_user_lists_its_tenants() {
    let app = spawn_app().await;
    let (_, token) = ann(&app).await;
    let me = Api::bearer(&app, &token);

    for path in [TENANTS_V1, TENANTS_V3] {
        let answer = ok(me.get(path).await, StatusCode::OK).await;
        let ids: Vec<_> = answer["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tenantId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["acme", "globex"], "not initech, which she is not in");
        assert_eq!(answer["activeTenant"]["tenantId"], "acme");
        assert_eq!(answer["activeTenant"]["name"], "Acme");
    }
    let plain = ok(me.get(TENANTS_V2).await, StatusCode::OK).await;
    let plain = plain.as_array().unwrap();
    assert_eq!(plain.len(), 2);
    assert_eq!(plain[0]["tenantId"], "acme");
    assert_eq!(plain[0]["name"], "Acme");
    assert_eq!(plain[1]["name"], "Globex");
}

#[tokio::test]
async fn the_users_own_routes_need_its_valid_access_token() {
    let app = spawn_app().await;
    let (id, token) = ann(&app).await;
    let env_token = app.env_token().await;
    let other = spawn_app().await;
    let (_, foreign) = ann(&other).await;

    let paths = [ME_V2, ME_V3, TENANTS_V1, TENANTS_V2, TENANTS_V3];
    for (token, code) in [
        (None, "MISSING_TOKEN"),
        (Some("garbage".to_owned()), "INVALID_TOKEN"),
        // An environment's token is a valid credential, of a kind these routes do not take.
        (Some(env_token), "CALLER_NOT_ALLOWED"),
        (Some(foreign), "INVALID_TOKEN"),
    ] {
        let caller = match &token {
            Some(token) => Api::bearer(&app, token),
            None => Api::anonymous(&app),
        };
        let status = if code == "CALLER_NOT_ALLOWED" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        for path in paths {
            error(caller.get(path).await, status, code).await;
        }
        error(caller.put(ME_V2, json!({"name": "x"})).await, status, code).await;
    }

    // A user header naming someone else is refused; naming the caller is fine.
    let me = Api::bearer(&app, &token);
    let someone_else = me
        .request(Method::GET, TENANTS_V2)
        .header("frontegg-user-id", "someone-else")
        .send()
        .await
        .unwrap();
    error(someone_else, StatusCode::FORBIDDEN, "USER_MISMATCH").await;
    let herself = me
        .request(Method::GET, TENANTS_V2)
        .header("frontegg-user-id", id)
        .send()
        .await
        .unwrap();
    ok(herself, StatusCode::OK).await;
    let unreadable = me
        .request(Method::GET, ME_V2)
        .header(
            "frontegg-user-id",
            reqwest::header::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        )
        .send()
        .await
        .unwrap();
    error(unreadable, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;

    // After logout the token's session is over.
    let logout = me
        .request(Method::POST, "/identity/resources/auth/v1/logout")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::CREATED);
    error(me.get(ME_V2).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
}

#[tokio::test]
async fn a_locked_users_token_stops_working() {
    let app = spawn_app().await;
    let (id, token) = ann(&app).await;
    let api = Api::environment(&app).await;
    ok(
        api.post(&format!("/identity/resources/users/v1/{id}/lock"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    error(
        Api::bearer(&app, &token).get(ME_V2).await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;
}

#[tokio::test]
async fn a_user_removed_from_a_tenant_keeps_no_token_that_claims_it() {
    let app = spawn_app().await;
    let (id, _) = ann(&app).await;
    let signed_in = ok(
        Api::anonymous(&app)
            .post(
                "/identity/resources/auth/v1/user",
                json!({"email": "ann@example.com", "password": PASSWORD}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let token = signed_in["accessToken"].as_str().unwrap();
    let refresh_token = signed_in["refreshToken"].as_str().unwrap();
    let me = Api::bearer(&app, token);
    let profile = ok(me.get(ME_V2).await, StatusCode::OK).await;
    assert_eq!(profile["tenantIds"], json!(["acme", "globex"]));

    // Removed from globex, which is not the tenant of her session.
    let api = Api::environment(&app).await;
    let removed = api
        .request(Method::DELETE, &format!("/identity/resources/users/v1/{id}"))
        .header("frontegg-tenant-id", "globex")
        .send()
        .await
        .unwrap();
    ok(removed, StatusCode::OK).await;
    error(me.get(ME_V2).await, StatusCode::UNAUTHORIZED, "SESSION_REVOKED").await;
    error(
        Api::anonymous(&app)
            .post(
                "/identity/resources/auth/v1/user/token/refresh",
                json!({"refreshToken": refresh_token}),
            )
            .await,
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
    )
    .await;

    let again = sign_in(&app, "ann@example.com", PASSWORD).await;
    let profile = ok(Api::bearer(&app, &again).get(ME_V2).await, StatusCode::OK).await;
    assert_eq!(profile["tenantIds"], json!(["acme"]));
}

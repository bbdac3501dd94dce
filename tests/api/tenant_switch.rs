//! A user's active tenant, over gRPC and REST: set by the environment, or switched by the
//! signed-in user as Frontegg's SDK does (`PUT users/v1/tenant`, then a refresh, whose token is
//! for the new tenant with its roles there). A tenant the user is not a member of is not found,
//! whether or not it exists.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::Code;

use sigil::transport::grpc::pb::{self, me_service_client::MeServiceClient};

use crate::{
    helpers::{Bearer, TestApp, assert_error, assert_invalid, spawn_app, tenant},
    http::{Api, error, ok},
    user_flags::{claims, member},
};

const PASSWORD: &str = "correct horse battery";
const SWITCH: &str = "/identity/resources/users/v1/tenant";
const REFRESH: &str = "/identity/resources/auth/v1/user/token/refresh";

/// Ann: the first member of acme (Admin there), and a later member of globex, whose first member
/// is Bob (so Ann is ReadOnly there). Her id.
async fn ann_in_two_tenants(app: &TestApp) -> String {
    let ann = member(app, "acme", "ann@acme.test").await;
    member(app, "globex", "bob@globex.test").await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("initech", "Initech")).await.unwrap();
    users
        .add_user_to_tenant(pb::AddUserToTenantRequest {
            user_id: ann.clone(),
            tenant_id: "globex".into(),
        })
        .await
        .unwrap();
    ann
}

/// Refreshes over REST with the refresh token in the body; the answer.
async fn refresh(app: &TestApp, refresh_token: &str) -> Value {
    ok(
        Api::anonymous(app)
            .post(REFRESH, json!({"refreshToken": refresh_token}))
            .await,
        StatusCode::CREATED,
    )
    .await
}

#[tokio::test]
async fn a_user_switches_tenant_and_its_next_refresh_is_for_the_new_tenant() {
    let app = spawn_app().await;
    ann_in_two_tenants(&app).await;
    let session = app.login("ann@acme.test", PASSWORD).await;
    let first = claims(&session.access_token);
    assert_eq!(
        (first["tenantId"].as_str(), &first["roles"]),
        (Some("acme"), &json!(["Admin"]))
    );

    let me = Api::bearer(&app, &session.access_token);
    let user = ok(
        me.put(SWITCH, json!({"tenantId": "globex"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(user["tenantId"], "globex");
    let roles: Vec<&str> = user["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["ReadOnly"]);

    let refreshed = refresh(&app, session.refresh_token.as_str()).await;
    let next = claims(refreshed["accessToken"].as_str().unwrap());
    assert_eq!(next["tenantId"], "globex");
    assert_eq!(next["roles"], json!(["ReadOnly"]));
    let permissions: Vec<&str> = next["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(permissions.contains(&"fe.secure.read.users"));
    assert!(!permissions.contains(&"fe.secure.write.roles"), "{permissions:?}");
    // The new token acts in the new tenant; the next sign-in starts there too.
    let now = Api::bearer(&app, refreshed["accessToken"].as_str().unwrap());
    let authorization = ok(
        now.get("/identity/resources/users/v1/me/authorization").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(authorization["roles"][0]["key"], "ReadOnly");
    let again = app.login("ann@acme.test", PASSWORD).await;
    assert_eq!(claims(&again.access_token)["tenantId"], "globex");

    // Over gRPC, back to acme: the same, for that session only.
    let mut grpc = MeServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&again.access_token));
    let user = grpc
        .switch_my_tenant(pb::SwitchMyTenantRequest {
            tenant_id: "acme".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(user.tenant_id, "acme");
    let back = refresh(&app, again.refresh_token.as_str()).await;
    assert_eq!(claims(back["accessToken"].as_str().unwrap())["tenantId"], "acme");
    let other = refresh(&app, refreshed["refreshToken"].as_str().unwrap()).await;
    assert_eq!(
        claims(other["accessToken"].as_str().unwrap())["tenantId"],
        "globex",
        "the other session stays where it was"
    );
}

#[tokio::test]
async fn a_tenant_the_user_is_not_a_member_of_is_not_found_whether_or_not_it_exists() {
    let app = spawn_app().await;
    let ann = ann_in_two_tenants(&app).await;
    let session = app.login("ann@acme.test", PASSWORD).await;
    let me = Api::bearer(&app, &session.access_token);
    let mut grpc =
        MeServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&session.access_token));
    let api = Api::environment(&app).await;
    let (_, mut users) = app.clients().await;
    for tenant_id in ["initech", "no-such-tenant"] {
        let response = me.put(SWITCH, json!({"tenantId": tenant_id})).await;
        error(response, StatusCode::NOT_FOUND, "MEMBERSHIP_NOT_FOUND").await;
        let status = grpc
            .switch_my_tenant(pb::SwitchMyTenantRequest {
                tenant_id: tenant_id.into(),
            })
            .await
            .unwrap_err();
        assert_error(&status, Code::NotFound, "MEMBERSHIP_NOT_FOUND");
        let response = api
            .put(
                &format!("/identity/resources/users/v1/{ann}/tenant"),
                json!({"tenantId": tenant_id}),
            )
            .await;
        error(response, StatusCode::NOT_FOUND, "MEMBERSHIP_NOT_FOUND").await;
        let status = users
            .set_user_active_tenant(pb::SetUserActiveTenantRequest {
                user_id: ann.clone(),
                tenant_id: tenant_id.into(),
            })
            .await
            .unwrap_err();
        assert_error(&status, Code::NotFound, "MEMBERSHIP_NOT_FOUND");
    }
    // Bad input.
    for body in [json!({}), json!({"tenantId": 7}), json!({"tenantId": ""})] {
        let response = me.put(SWITCH, body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let status = users
        .set_user_active_tenant(pb::SetUserActiveTenantRequest {
            user_id: ann.clone(),
            tenant_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "tenant_id");
    let response = api
        .put(
            "/identity/resources/users/v1/nobody/tenant",
            json!({"tenantId": "acme"}),
        )
        .await;
    error(response, StatusCode::NOT_FOUND, "USER_NOT_FOUND").await;
    // Nothing moved.
    let refreshed = refresh(&app, session.refresh_token.as_str()).await;
    assert_eq!(
        claims(refreshed["accessToken"].as_str().unwrap())["tenantId"],
        "acme"
    );
}

#[tokio::test]
async fn the_environment_sets_a_users_active_tenant_for_its_sessions_and_next_sign_in() {
    let app = spawn_app().await;
    let ann = ann_in_two_tenants(&app).await;
    let session = app.login("ann@acme.test", PASSWORD).await;
    let api = Api::environment(&app).await;
    let user = ok(
        api.put(
            &format!("/identity/resources/users/v1/{ann}/tenant"),
            json!({"tenantId": "globex", "validateTenantExist": true}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(user["tenantId"], "globex");
    let refreshed = refresh(&app, session.refresh_token.as_str()).await;
    assert_eq!(
        claims(refreshed["accessToken"].as_str().unwrap())["tenantId"],
        "globex"
    );
    let signed_in = app.login("ann@acme.test", PASSWORD).await;
    assert_eq!(claims(&signed_in.access_token)["tenantId"], "globex");
    let (_, mut users) = app.clients().await;
    let user = users
        .set_user_active_tenant(pb::SetUserActiveTenantRequest {
            user_id: ann.clone(),
            tenant_id: "acme".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(user.tenant_id, "acme");
    let signed_in = app.login("ann@acme.test", PASSWORD).await;
    assert_eq!(claims(&signed_in.access_token)["roles"], json!(["Admin"]));
}

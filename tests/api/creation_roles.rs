//! Roles given at a user's creation (`roleIds`), over gRPC and REST: they replace the default
//! roles, in the creation's transaction; a bad id is named and nothing is created.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::Code;

use sigil::transport::grpc::pb::{self, role_service_client::RoleServiceClient};

use crate::{
    helpers::{Bearer, TestApp, assert_error, assert_invalid, invitee, spawn_app, tenant},
    http::{Api, invalid, ok},
};

type Roles =
    RoleServiceClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>>;

async fn roles(app: &TestApp) -> Roles {
    RoleServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await))
}

/// Creates a role, of `tenant_id` when not empty; its id.
async fn role(app: &TestApp, tenant_id: &str, key: &str) -> String {
    roles(app)
        .await
        .create_roles(pb::CreateRolesRequest {
            tenant_id: tenant_id.into(),
            roles: vec![pb::NewRole {
                key: key.into(),
                name: key.into(),
                level: 3,
                ..Default::default()
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .roles
        .remove(0)
        .id
}

/// The keys of the roles `user_id` holds in `tenant_id`, sorted.
async fn held(app: &TestApp, tenant_id: &str, user_id: &str) -> Vec<String> {
    let users = roles(app)
        .await
        .list_users_roles(pb::ListUsersRolesRequest {
            tenant_id: tenant_id.into(),
            user_ids: vec![user_id.into()],
        })
        .await
        .unwrap()
        .into_inner()
        .users;
    let mut keys: Vec<String> = users.into_iter().flat_map(|u| u.roles).map(|r| r.key).collect();
    keys.sort();
    keys
}

fn keys(roles: &Value) -> Vec<String> {
    let mut keys: Vec<String> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn roles_given_at_creation_replace_the_default_ones_and_bad_ones_create_nothing() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    tenants.create_tenant(tenant("globex", "Globex")).await.unwrap();
    let editor = role(&app, "", "editor").await;
    let acme_only = role(&app, "acme", "acme-auditor").await;
    let globex_only = role(&app, "globex", "globex-auditor").await;

    // The first member would get Admin; with roles asked for, it gets those alone.
    let ann = users
        .create_user(pb::CreateUserRequest {
            role_ids: vec![editor.clone(), acme_only.clone(), editor.clone()],
            ..invitee("acme", "ann@acme.test")
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(held(&app, "acme", &ann.id).await, ["acme-auditor", "editor"]);
    // Without any, the defaults still apply.
    let bob = users
        .create_user(invitee("acme", "bob@acme.test"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(held(&app, "acme", &bob.id).await, ["ReadOnly"]);

    // Unknown ids and other tenants' roles are named, and nothing is created.
    for (role_ids, named) in [
        (vec![editor.clone(), "ghost-role".to_owned()], "ghost-role"),
        (vec![globex_only.clone()], globex_only.as_str()),
    ] {
        let status = users
            .create_user(pb::CreateUserRequest {
                role_ids,
                ..invitee("acme", "cat@acme.test")
            })
            .await
            .unwrap_err();
        assert_invalid(&status, "role_ids");
        assert!(status.message().contains(named), "{status:?}");
        let missing = users
            .get_user_by_email(pb::GetUserByEmailRequest {
                email: "cat@acme.test".into(),
            })
            .await
            .unwrap_err();
        assert_error(&missing, Code::NotFound, "USER_NOT_FOUND");
    }
    assert_eq!(app.count("users", "email = 'cat@acme.test'").await, 0);
    assert_eq!(app.count("user_tenants", "1 = 1").await, 2);

    // Over REST, both creation routes.
    let api = Api::environment(&app).await;
    let created = ok(
        api.request(reqwest::Method::POST, "/identity/resources/users/v1")
            .header("frontegg-tenant-id", "globex")
            .json(&json!({"email": "dan@globex.test", "roleIds": [globex_only, editor]}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(keys(&created["roles"]), ["editor", "globex-auditor"]);
    let created = ok(
        api.post(
            "/identity/resources/vendor-only/users/v1",
            json!({"tenantId": "acme", "email": "eve@acme.test", "roleIds": [acme_only]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(keys(&created["roles"]), ["acme-auditor"]);
    for (path, body) in [
        (
            "/identity/resources/vendor-only/users/v1",
            json!({"tenantId": "acme", "email": "fay@acme.test", "roleIds": ["nope"]}),
        ),
        (
            "/identity/resources/vendor-only/users/v1",
            json!({"tenantId": "globex", "email": "fay@acme.test", "roleIds": [acme_only]}),
        ),
    ] {
        invalid(api.post(path, body).await, "roleIds").await;
    }
    let response = api
        .request(reqwest::Method::POST, "/identity/resources/users/v2")
        .header("frontegg-tenant-id", "acme")
        .json(&json!({"email": "fay@acme.test", "roleIds": ["nope"]}))
        .send()
        .await
        .unwrap();
    invalid(response, "roleIds").await;
    assert_eq!(app.count("users", "email = 'fay@acme.test'").await, 0);
}

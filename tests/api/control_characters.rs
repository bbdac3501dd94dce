//! Ids holding NUL or other control characters, which no stored row can have: refused before any
//! query, the same on SQLite and PostgreSQL (which would refuse a NUL in a statement with 500).

use reqwest::StatusCode;
use tonic::Code;

use crate::{
    helpers::{spawn_app, tenant},
    http::{Api, error},
};
use sigil::transport::grpc::pb;

#[tokio::test]
async fn rest_paths_and_queries_with_control_characters_are_invalid() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    for path in [
        "/identity/resources/users/v1/%00",
        "/tenants/resources/tenants/v1/a%00b",
        "/tenants/resources/tenants/v1/a%0Ab",
        "/identity/resources/users/v3?_email=a%00b%40x.example",
        "/frontegg/identity/resources/users/v1/%7F",
    ] {
        error(api.get(path).await, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
    }
    // The check is on decoded text only: an encoded percent sign is not a control character.
    let listed = api.get("/identity/resources/users/v3?_email=%2500").await;
    assert_eq!(listed.status(), StatusCode::OK);
}

#[tokio::test]
async fn grpc_ids_with_control_characters_are_not_found() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    for id in ["\0", "a\0b", "acme\0", "\u{1}"] {
        let status = users
            .get_user(pb::GetUserRequest { user_id: id.into() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "GetUser {id:?}: {status:?}");
        let status = users
            .delete_user(pb::DeleteUserRequest { user_id: id.into() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "DeleteUser {id:?}: {status:?}");
        let status = tenants
            .get_tenant(pb::GetTenantRequest { tenant_id: id.into() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "GetTenant {id:?}: {status:?}");
        let status = tenants
            .delete_tenant(pb::DeleteTenantRequest { tenant_id: id.into() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "DeleteTenant {id:?}: {status:?}");
    }
}

#[tokio::test]
async fn a_sign_in_with_nul_in_the_email_is_refused_not_failed() {
    let app = spawn_app().await;
    let status = app
        .auth()
        .login(pb::LoginRequest {
            email: "a\0b@x.example".into(),
            password: "whatever it is".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(status.code(), Code::InvalidArgument | Code::Unauthenticated),
        "{status:?}"
    );
}

//! The flags an environment sets on users, over gRPC and REST: a super-user holds every
//! permission in each tenant it is a member of (in its tokens, its authorization and the policy
//! layer's checks), and an invisible user is left out of its tenants' member listings.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::Code;

use sigil::transport::grpc::pb::{self, permission_service_client::PermissionServiceClient};

use crate::{
    helpers::{Bearer, TestApp, assert_error, invitee, spawn_app, tenant},
    http::{Api, error, ok},
};

const PASSWORD: &str = "correct horse battery";

/// The claims of an access token, unverified (the tests only read them).
pub fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The permission keys an access token carries.
pub fn permissions_of(token: &str) -> Vec<String> {
    claims(token)["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Creates tenant `tenant_id` if needed and a member of it with a password; its id.
pub async fn member(app: &TestApp, tenant_id: &str, email: &str) -> String {
    let (mut tenants, mut users) = app.clients().await;
    match tenants.create_tenant(tenant(tenant_id, tenant_id)).await {
        Ok(_) => {}
        Err(status) if status.code() == Code::AlreadyExists => {}
        Err(status) => panic!("{status:?}"),
    }
    users
        .create_user(pb::CreateUserRequest {
            password: Some(PASSWORD.into()),
            ..invitee(tenant_id, email)
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap()
        .id
}

async fn new_permission(app: &TestApp, key: &str, assignment_type: pb::AssignmentType) {
    PermissionServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await))
        .create_permissions(pb::CreatePermissionsRequest {
            permissions: vec![pb::NewPermission {
                key: key.into(),
                name: key.into(),
                assignment_type: assignment_type.into(),
                ..Default::default()
            }],
        })
        .await
        .unwrap();
}

async fn refresh(app: &TestApp, refresh_token: &str) -> pb::AuthenticationResponse {
    app.auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: refresh_token.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap()
}

#[tokio::test]
async fn a_super_user_holds_every_permission_in_each_tenant_it_is_a_member_of() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@acme.test").await;
    let bob = member(&app, "acme", "bob@acme.test").await;
    new_permission(&app, "reports.read", pb::AssignmentType::Assignable).await;
    new_permission(&app, "reports.purge", pb::AssignmentType::Never).await;
    let session = app.login("bob@acme.test", PASSWORD).await;
    let before = permissions_of(&session.access_token);
    assert!(!before.contains(&"reports.read".to_owned()), "{before:?}");
    assert!(
        !before.contains(&"fe.secure.write.roles".to_owned()),
        "{before:?}"
    );
    // Bob, a ReadOnly member, may not create roles.
    let roles_path = "/identity/resources/roles/v1";
    let refused = Api::bearer(&app, &session.access_token)
        .post(roles_path, json!([{"key": "one", "name": "One"}]))
        .await;
    error(refused, StatusCode::FORBIDDEN, "MISSING_PERMISSION").await;

    let (_, mut users) = app.clients().await;
    let user = users
        .set_user_super_user(pb::SetUserSuperUserRequest {
            user_id: bob.clone(),
            super_user: true,
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(user.super_user && !user.invisible);

    // The next refresh carries every permission but the NEVER one; its roles are its own still.
    let refreshed = refresh(&app, &session.refresh_token).await;
    let granted = permissions_of(&refreshed.access_token);
    for key in ["reports.read", "fe.secure.write.roles", "fe.secure.delete.users"] {
        assert!(granted.contains(&key.to_owned()), "{key} in {granted:?}");
    }
    assert!(!granted.contains(&"reports.purge".to_owned()), "{granted:?}");
    assert_eq!(claims(&refreshed.access_token)["roles"], json!(["ReadOnly"]));
    // So does a new sign-in, the authorization route, and the policy layer.
    let signed_in = app.login("bob@acme.test", PASSWORD).await;
    assert_eq!(permissions_of(&signed_in.access_token), granted);
    let me = Api::bearer(&app, &signed_in.access_token);
    let authorization = ok(
        me.get("/identity/resources/users/v1/me/authorization").await,
        StatusCode::OK,
    )
    .await;
    let keys: Vec<&str> = authorization["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"reports.read") && !keys.contains(&"reports.purge"),
        "{keys:?}"
    );
    ok(
        me.post(roles_path, json!([{"key": "one", "name": "One"}])).await,
        StatusCode::CREATED,
    )
    .await;

    // In a tenant it joins it holds them too; in one it is not a member of, nothing.
    let mut tenants = app.clients().await.0;
    tenants.create_tenant(tenant("globex", "Globex")).await.unwrap();
    tenants.create_tenant(tenant("initech", "Initech")).await.unwrap();
    let access = |tenant_id: &str| {
        let tenant_id = tenant_id.to_owned();
        let bob = bob.clone();
        let app = &app;
        async move {
            pb::role_service_client::RoleServiceClient::with_interceptor(
                app.channel.clone(),
                Bearer::token(&app.env_token().await),
            )
            .list_users_roles(pb::ListUsersRolesRequest {
                tenant_id,
                user_ids: vec![bob],
            })
            .await
            .unwrap()
            .into_inner()
            .users
        }
    };
    assert!(access("initech").await.is_empty(), "not a member there");
    users
        .add_user_to_tenant(pb::AddUserToTenantRequest {
            user_id: bob.clone(),
            tenant_id: "globex".into(),
        })
        .await
        .unwrap();
    let api = Api::environment(&app).await;
    let in_globex = ok(
        api.request(
            reqwest::Method::GET,
            &format!("/identity/resources/users/v1/{bob}"),
        )
        .header("frontegg-tenant-id", "globex")
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    let keys: Vec<&str> = in_globex["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"reports.read"), "{keys:?}");
    assert_eq!(in_globex["superUser"], true);

    // A regular user again: the next token is back to its roles' permissions.
    users
        .set_user_super_user(pb::SetUserSuperUserRequest {
            user_id: bob.clone(),
            super_user: false,
        })
        .await
        .unwrap();
    let refreshed = refresh(&app, &refreshed.refresh_token).await;
    assert_eq!(permissions_of(&refreshed.access_token), before);
}

#[tokio::test]
async fn the_flags_are_set_over_rest_and_refused_for_bad_input() {
    let app = spawn_app().await;
    let ann = member(&app, "acme", "ann@acme.test").await;
    let api = Api::environment(&app).await;
    let path = format!("/identity/resources/users/v1/{ann}");
    let user = ok(
        api.put(&format!("{path}/superuser"), json!({"superUser": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (user["id"].as_str(), &user["superUser"]),
        (Some(ann.as_str()), &json!(true))
    );
    assert_eq!(user["invisible"], false);
    let user = ok(
        api.put(&format!("{path}/invisible"), json!({"invisible": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&user["superUser"], &user["invisible"]),
        (&json!(true), &json!(true))
    );
    // Read back by id, over both transports.
    let user = ok(
        api.get(&format!("/identity/resources/vendor-only/users/v1/{ann}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&user["superUser"], &user["invisible"]),
        (&json!(true), &json!(true))
    );
    let (_, mut users) = app.clients().await;
    let user = users
        .get_user(pb::GetUserRequest { user_id: ann.clone() })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(user.super_user && user.invisible);

    // Bad input and unknown users.
    for body in [json!({}), json!({"superUser": "yes"}), json!(null)] {
        let response = api.put(&format!("{path}/superuser"), body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let response = api
        .put(&format!("{path}/invisible"), json!({"invisible": 1}))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let missing = api
        .put(
            "/identity/resources/users/v1/nobody/superuser",
            json!({"superUser": true}),
        )
        .await;
    error(missing, StatusCode::NOT_FOUND, "USER_NOT_FOUND").await;
    let missing = api
        .put(
            "/identity/resources/users/v1/nobody/invisible",
            json!({"invisible": true}),
        )
        .await;
    error(missing, StatusCode::NOT_FOUND, "USER_NOT_FOUND").await;
    let status = users
        .set_user_invisible(pb::SetUserInvisibleRequest {
            user_id: "nobody".into(),
            invisible: true,
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
}

/// The emails of a REST listing's page.
fn emails(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_invisible_user_is_left_out_of_its_tenants_listings_but_found_by_id() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@acme.test").await;
    let bob = member(&app, "acme", "bob@acme.test").await;
    member(&app, "acme", "cat@acme.test").await;
    let (_, mut users) = app.clients().await;
    users
        .set_user_invisible(pb::SetUserInvisibleRequest {
            user_id: bob.clone(),
            invisible: true,
        })
        .await
        .unwrap();

    let api = Api::environment(&app).await;
    let listed = |path: &'static str, tenant: Option<&'static str>| {
        let api = &api;
        async move {
            let mut request = api.request(reqwest::Method::GET, path);
            if let Some(tenant) = tenant {
                request = request.header("frontegg-tenant-id", tenant);
            }
            ok(request.send().await.unwrap(), StatusCode::OK).await
        }
    };
    // Users made at one instant of the test clock come in the order of their ids: sorted by email.
    for path in [
        "/identity/resources/users/v3?_sortBy=email",
        "/identity/resources/users/v1?_sortBy=email",
    ] {
        let page = listed(path, Some("acme")).await;
        assert_eq!(emails(&page), ["ann@acme.test", "cat@acme.test"], "{path}");
        assert_eq!(page["_metadata"]["totalItems"], 2, "{path}");
    }
    let page = listed("/identity/resources/users/v3?_tenantId=acme&_limit=1", None).await;
    assert_eq!(emails(&page).len(), 1);
    assert_ne!(emails(&page), ["bob@acme.test"]);
    assert_eq!(page["_metadata"]["totalItems"], 2);
    let page = listed(
        "/identity/resources/users/v3?_tenantId=acme&_sortBy=email&_order=DESC",
        None,
    )
    .await;
    assert_eq!(emails(&page), ["cat@acme.test", "ann@acme.test"]);
    // The environment's own listing of every user still shows it.
    let page = listed("/identity/resources/users/v3", None).await;
    assert_eq!(page["_metadata"]["totalItems"], 3);
    let grpc = users
        .list_users(pb::ListUsersRequest {
            tenant_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(grpc.metadata.unwrap().total_items, 2);
    assert!(grpc.items.iter().all(|u| u.id != bob));
    // Found by id.
    let found = users
        .get_user(pb::GetUserRequest { user_id: bob.clone() })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(found.invisible);
    let found = ok(
        api.request(
            reqwest::Method::GET,
            &format!("/identity/resources/users/v1/{bob}"),
        )
        .header("frontegg-tenant-id", "acme")
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["invisible"], true);

    // Visible again, it is listed again.
    users
        .set_user_invisible(pb::SetUserInvisibleRequest {
            user_id: bob.clone(),
            invisible: false,
        })
        .await
        .unwrap();
    let page = listed("/identity/resources/users/v3", Some("acme")).await;
    assert_eq!(emails(&page).len(), 3);
}

//! The identity configuration (Core Settings) over gRPC and REST: every field stored and read back
//! as written, bad values refused with nothing changed, and the settings sigil honours today
//! (token lifetimes, roles and permissions in tokens, the sign-in strategy, unverified users, the
//! refresh cookie's SameSite).

use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::Code;

use sigil::transport::grpc::pb::{
    self, configuration_service_client::ConfigurationServiceClient, role_service_client::RoleServiceClient,
};

use crate::{
    helpers::{Bearer, TestApp, assert_error, assert_invalid, claims, spawn_app},
    http::{Api, error, invalid, ok},
};

const PATH: &str = "/identity/resources/configurations/v1";
const PASSWORD: &str = "correct horse battery";

type Intercepted = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>;

async fn configurations(app: &TestApp) -> ConfigurationServiceClient<Intercepted> {
    ConfigurationServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await))
}

/// Every settable field of the contract's `VendorConfigRequest`, none at its default.
fn every_field() -> Value {
    json!({
        "defaultTokenExpiration": 900,
        "defaultRefreshTokenExpiration": 7 * 24 * 3600,
        "cookieSameSite": "STRICT",
        "machineToMachineAuthStrategy": "AccessToken",
        "allowSignups": true,
        "apiTokensEnabled": true,
        "allowOverridePasswordComplexity": true,
        "allowOverridePasswordExpiration": true,
        "allowOverrideEnforcePasswordHistory": true,
        "jwtAlgorithm": "RS256",
        "allowNotVerifiedUsersLogin": false,
        "forcePermissions": true,
        "addSamlAttributesToJwt": true,
        "authStrategy": "MagicLink",
        "defaultPasswordlessTokenExpiration": 600,
        "forceSameDeviceOnAuth": true,
        "allowTenantInvitations": true,
        "rotateRefreshTokens": true,
        "skipTenantValidation": true,
        "addRolesToJwt": false,
        "addPermissionsToJwt": false,
        "allowCustomLoginTenantSwitch": true,
    })
}

#[tokio::test]
async fn every_field_is_stored_and_read_back_as_written_over_both_transports() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let before = ok(api.get(PATH).await, StatusCode::OK).await;
    assert_eq!(before["authStrategy"], "EmailAndPassword");
    assert_eq!(before["addRolesToJwt"], true);

    // The answer of a GET, changed and sent back, works: its read-only fields are ignored.
    let mut body = before.clone();
    for (field, value) in every_field().as_object().unwrap() {
        body[field] = value.clone();
    }
    let changed = ok(api.post(PATH, body).await, StatusCode::CREATED).await;
    let read = ok(api.get(PATH).await, StatusCode::OK).await;
    assert_eq!(changed, read);
    for (field, value) in every_field().as_object().unwrap() {
        assert_eq!(&read[field], value, "{field}");
    }
    assert_eq!(read["id"], before["id"]);
    assert_eq!(read["publicKey"], before["publicKey"]);
    assert_eq!(read["jwtSecret"], "");

    let basic = ok(api.get(&format!("{PATH}/basic")).await, StatusCode::OK).await;
    assert_eq!(
        basic,
        json!({"forcePermissions": true, "machineToMachineAuthStrategy": "AccessToken"})
    );

    // gRPC reads the same, and a change over gRPC touches only what it sets.
    let mut grpc = configurations(&app).await;
    let configuration = grpc
        .get_identity_configuration(pb::GetIdentityConfigurationRequest {})
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(configuration.auth_strategy, "MagicLink");
    assert_eq!(configuration.cookie_same_site, "STRICT");
    assert_eq!(configuration.default_token_expiration, 900);
    assert!(!configuration.add_roles_to_jwt);
    let configuration = grpc
        .update_identity_configuration(pb::UpdateIdentityConfigurationRequest {
            auth_strategy: Some("EmailAndPassword".into()),
            add_roles_to_jwt: Some(true),
            default_token_expiration: Some(1200),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(configuration.auth_strategy, "EmailAndPassword");
    assert_eq!(configuration.default_token_expiration, 1200);
    assert!(configuration.add_roles_to_jwt);
    assert!(!configuration.add_permissions_to_jwt, "untouched");
    let basic = grpc
        .get_basic_identity_configuration(pb::GetBasicIdentityConfigurationRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(basic.force_permissions);
    assert_eq!(basic.machine_to_machine_auth_strategy, "AccessToken");
    let read = ok(api.get(PATH).await, StatusCode::OK).await;
    assert_eq!(read["defaultTokenExpiration"], 1200);
    assert_eq!(read["allowSignups"], true);
}

#[tokio::test]
async fn bad_values_are_refused_naming_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let before = ok(api.get(PATH).await, StatusCode::OK).await;
    for (body, field) in [
        (
            json!({"allowSignups": true, "jwtAlgorithm": "HS256"}),
            "jwtAlgorithm",
        ),
        (
            json!({"allowSignups": true, "rotateRefreshTokens": false}),
            "rotateRefreshTokens",
        ),
        (
            json!({"allowSignups": true, "defaultRefreshTokenExpiration": 15_552_001}),
            "defaultRefreshTokenExpiration",
        ),
        (
            json!({"allowSignups": true, "defaultTokenExpiration": 7200, "defaultRefreshTokenExpiration": 3600}),
            "defaultRefreshTokenExpiration",
        ),
        (
            json!({"allowSignups": true, "defaultTokenExpiration": 0}),
            "defaultTokenExpiration",
        ),
        (
            json!({"allowSignups": true, "defaultPasswordlessTokenExpiration": -5}),
            "defaultPasswordlessTokenExpiration",
        ),
    ] {
        invalid(api.post(PATH, body).await, field).await;
    }
    // A value outside the contract's enumeration, or of the wrong type, is a bad body.
    for body in [
        json!({"allowSignups": true, "authStrategy": "CarrierPigeon"}),
        json!({"allowSignups": "yes"}),
        json!({"allowSignups": true, "cookieSameSite": "lax"}),
    ] {
        let response = api.post(PATH, body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(ok(api.get(PATH).await, StatusCode::OK).await, before);

    let mut grpc = configurations(&app).await;
    for (request, field) in [
        (
            pb::UpdateIdentityConfigurationRequest {
                auth_strategy: Some("CarrierPigeon".into()),
                ..Default::default()
            },
            "auth_strategy",
        ),
        (
            pb::UpdateIdentityConfigurationRequest {
                allow_signups: Some(true),
                jwt_algorithm: Some("HS256".into()),
                ..Default::default()
            },
            "jwt_algorithm",
        ),
    ] {
        let status = grpc.update_identity_configuration(request).await.unwrap_err();
        assert_invalid(&status, field);
    }
    assert_eq!(ok(api.get(PATH).await, StatusCode::OK).await, before);

    // Only the environment changes it; a user (even its tenant's admin) reads it.
    app.active_user("ada@example.com", PASSWORD).await;
    let ada = app.login("ada@example.com", PASSWORD).await.access_token;
    let as_ada = Api::bearer(&app, &ada);
    error(
        as_ada.post(PATH, json!({"allowSignups": true})).await,
        StatusCode::FORBIDDEN,
        "CALLER_NOT_ALLOWED",
    )
    .await;
    let read = ok(as_ada.get(PATH).await, StatusCode::OK).await;
    assert_eq!(read["id"], before["id"]);
}

#[tokio::test]
async fn token_lifetimes_apply_to_the_next_sign_in() {
    let app = spawn_app().await;
    app.active_user("ada@example.com", PASSWORD).await;
    let api = Api::environment(&app).await;
    ok(
        api.post(PATH, json!({"defaultTokenExpiration": 600})).await,
        StatusCode::CREATED,
    )
    .await;
    let signed_in = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(signed_in.expires_in, 600);
    let token = claims(&signed_in.access_token);
    assert_eq!(
        token["exp"].as_i64().unwrap() - token["iat"].as_i64().unwrap(),
        600
    );
}

#[tokio::test]
async fn without_roles_and_permissions_in_tokens_checks_read_them_from_the_store() {
    let app = spawn_app().await;
    let ada = app.active_user("ada@example.com", PASSWORD).await;
    let with_claims = app.login("ada@example.com", PASSWORD).await.access_token;
    assert!(claims(&with_claims)["permissions"].is_array());
    let api = Api::environment(&app).await;
    ok(
        api.post(
            PATH,
            json!({"addRolesToJwt": false, "addPermissionsToJwt": false}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let token = app.login("ada@example.com", PASSWORD).await.access_token;
    let payload = claims(&token);
    assert!(payload.get("roles").is_none(), "{payload}");
    assert!(payload.get("permissions").is_none(), "{payload}");
    // The first member of the tenant is its Admin: the store says so.
    let validated = app
        .tokens()
        .validate_token(pb::ValidateTokenRequest {
            access_token: token.clone(),
            any_of_roles: vec!["Admin".into()],
            any_of_permissions: vec!["fe.secure.read.roles".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(validated.roles, ["Admin"]);
    assert!(validated.permissions.iter().any(|p| p == "fe.secure.read.roles"));
    let as_ada = Api::bearer(&app, &token);
    ok(as_ada.get("/identity/resources/roles/v1").await, StatusCode::OK).await;

    // Without its roles, the same token is refused at once: nothing is read from it.
    let mut roles =
        RoleServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await));
    let held: Vec<String> = roles
        .list_users_roles(pb::ListUsersRolesRequest {
            tenant_id: "acme".into(),
            user_ids: vec![ada.id.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .users
        .into_iter()
        .flat_map(|u| u.roles.into_iter().map(|r| r.id))
        .collect();
    roles
        .unassign_user_roles(pb::UnassignUserRolesRequest {
            user_id: ada.id.clone(),
            tenant_id: "acme".into(),
            role_ids: held,
        })
        .await
        .unwrap();
    error(
        as_ada.get("/identity/resources/roles/v1").await,
        StatusCode::FORBIDDEN,
        "MISSING_PERMISSION",
    )
    .await;
    let status = app
        .tokens()
        .validate_token(pb::ValidateTokenRequest {
            access_token: token,
            any_of_permissions: vec!["fe.secure.read.roles".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "MISSING_PERMISSION");
}

#[tokio::test]
async fn password_sign_in_follows_the_strategy_and_the_verification_rule() {
    let app = spawn_app().await;
    let ada = app.active_user("ada@example.com", PASSWORD).await;
    let api = Api::environment(&app).await;
    let login = |app: &TestApp| {
        let mut auth = app.auth();
        async move {
            auth.login(pb::LoginRequest {
                email: "ada@example.com".into(),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
        }
    };

    ok(
        api.post(PATH, json!({"authStrategy": "MagicLink"})).await,
        StatusCode::CREATED,
    )
    .await;
    let status = login(&app).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "PASSWORD_SIGN_IN_DISABLED");
    ok(
        api.post(
            PATH,
            json!({"authStrategy": "EmailAndPassword", "allowNotVerifiedUsersLogin": false}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let status = login(&app).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "USER_NOT_VERIFIED");
    // A wrong password says nothing about the user's state.
    let status = app
        .auth()
        .login(pb::LoginRequest {
            email: "ada@example.com".into(),
            password: "wrong horse battery".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let (_, mut users) = app.clients().await;
    users
        .verify_user(pb::VerifyUserRequest { user_id: ada.id })
        .await
        .unwrap();
    login(&app).await.unwrap();
}

#[tokio::test]
async fn the_refresh_cookie_takes_the_configured_same_site() {
    let app = spawn_app().await;
    app.active_user("ada@example.com", PASSWORD).await;
    let api = Api::environment(&app).await;
    let cookie = || async {
        let response = Api::anonymous(&app)
            .post(
                "/identity/resources/auth/v1/user",
                json!({"email": "ada@example.com", "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let default = cookie().await;
    assert!(!default.contains("SameSite=Strict"), "{default}");
    ok(
        api.post(PATH, json!({"cookieSameSite": "STRICT"})).await,
        StatusCode::CREATED,
    )
    .await;
    let read = ok(api.get(PATH).await, StatusCode::OK).await;
    assert_eq!(read["cookieSameSite"], "STRICT");
    assert!(cookie().await.contains("SameSite=Strict"));
}

#[tokio::test]
async fn changes_at_once_to_different_fields_are_all_kept() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let fields = [
        "allowSignups",
        "apiTokensEnabled",
        "allowTenantInvitations",
        "forcePermissions",
        "forceSameDeviceOnAuth",
        "allowCustomLoginTenantSwitch",
    ];
    let changes = fields.map(|field| {
        api.request(reqwest::Method::POST, PATH)
            .json(&json!({ field: true }))
    });
    let mut running = tokio::task::JoinSet::new();
    for change in changes {
        running.spawn(change.send());
    }
    while let Some(response) = running.join_next().await {
        assert_eq!(response.unwrap().unwrap().status(), StatusCode::CREATED);
    }
    let read = ok(api.get(PATH).await, StatusCode::OK).await;
    for field in fields {
        assert_eq!(read[field], true, "{field}: {read}");
    }
}

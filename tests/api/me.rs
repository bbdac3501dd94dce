//! `MeService`: the signed-in user's own profile and tenants over gRPC, where the user and the
//! tenant come from its access token alone.

use tonic::Code;

use sigil::transport::grpc::pb::{self, me_service_client::MeServiceClient};

use crate::helpers::{Bearer, TestApp, assert_error, spawn_app, tenant};

const PASSWORD: &str = "correct horse battery";

type Me = MeServiceClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>>;

fn me(app: &TestApp, token: &str) -> Me {
    MeServiceClient::with_interceptor(app.channel.clone(), Bearer::token(token))
}

/// Ann, a member of acme (her tenant at sign-in) and globex, signed in: her id and access token.
async fn ann(app: &TestApp) -> (String, String) {
    let user = app.active_user("ann@example.com", PASSWORD).await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("globex", "Globex")).await.unwrap();
    users
        .add_user_to_tenant(pb::AddUserToTenantRequest {
            user_id: user.id.clone(),
            tenant_id: "globex".into(),
        })
        .await
        .unwrap();
    let token = app.login("ann@example.com", PASSWORD).await.access_token;
    (user.id, token)
}

#[tokio::test]
async fn a_signed_in_user_reads_and_changes_its_own_profile() {
    let app = spawn_app().await;
    let (id, token) = ann(&app).await;
    let mut client = me(&app, &token);

    let profile = client
        .get_me(pb::GetMeRequest {})
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(profile.id, id);
    assert_eq!(profile.email, "ann@example.com");
    assert_eq!(profile.tenant_id, "acme", "the tenant of the session");

    let changed = client
        .update_me(pb::UpdateMeRequest {
            name: Some("Ann Smith".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(changed.name, "Ann Smith");
    let (_, mut users) = app.clients().await;
    let stored = users
        .get_user(pb::GetUserRequest { user_id: id })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(stored.name, "Ann Smith");

    let status = client
        .update_me(pb::UpdateMeRequest {
            name: Some("x".repeat(256)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_signed_in_user_lists_its_tenants_and_the_one_of_its_session() {
    let app = spawn_app().await;
    let (_, token) = ann(&app).await;
    let listed = me(&app, &token)
        .list_my_tenants(pb::ListMyTenantsRequest {})
        .await
        .unwrap()
        .into_inner();
    let mut ids: Vec<_> = listed.tenants.iter().map(|t| t.tenant_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["acme", "globex"]);
    assert_eq!(listed.active_tenant_id, "acme");
}

#[tokio::test]
async fn only_a_users_own_valid_access_token_is_taken() {
    let app = spawn_app().await;
    let (id, token) = ann(&app).await;
    let env_token = app.env_token().await;
    for (bearer, code, reason) in [
        (Bearer::none(), Code::Unauthenticated, "MISSING_TOKEN"),
        (Bearer::token("x.y.z"), Code::Unauthenticated, "INVALID_TOKEN"),
        (
            Bearer::token(&env_token),
            Code::PermissionDenied,
            "CALLER_NOT_ALLOWED",
        ),
    ] {
        let mut client = MeServiceClient::with_interceptor(app.channel.clone(), bearer);
        let status = client.get_me(pb::GetMeRequest {}).await.unwrap_err();
        assert_error(&status, code, reason);
    }
    // A user header naming someone else asks for another user's data.
    let mut request = tonic::Request::new(pb::GetMeRequest {});
    request
        .metadata_mut()
        .insert("frontegg-user-id", "someone-else".parse().unwrap());
    let status = me(&app, &token).get_me(request).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "USER_MISMATCH");
    let mut request = tonic::Request::new(pb::GetMeRequest {});
    request
        .metadata_mut()
        .insert("frontegg-user-id", id.parse().unwrap());
    me(&app, &token).get_me(request).await.unwrap();
}

#[tokio::test]
async fn the_identity_configuration_reads_the_same_over_grpc_and_rest() {
    let app = spawn_app().await;
    let env_token = app.env_token().await;
    let grpc = pb::configuration_service_client::ConfigurationServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&env_token),
    )
    .get_identity_configuration(pb::GetIdentityConfigurationRequest {})
    .await
    .unwrap()
    .into_inner()
    .configuration
    .unwrap();
    let rest: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "http://{}/identity/resources/configurations/v1",
            app.http_addr
        ))
        .bearer_auth(&env_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["id"], grpc.id);
    assert_eq!(rest["publicKey"], grpc.public_key);
    assert_eq!(rest["defaultTokenExpiration"], grpc.default_token_expiration);
    assert_eq!(rest["cookieSameSite"], grpc.cookie_same_site);
    assert_eq!(rest["addRolesToJwt"], grpc.add_roles_to_jwt);
}

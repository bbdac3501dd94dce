//! Environment administration: the `EnvironmentAdminService` RPC, guarded by the deployment's
//! administrator credential, and `sigil environments`, which runs the same service functions on
//! the database of a server the test runs.

use std::{process::Output, time::Duration};

use serde_json::Value;
use sigil::{domain::secret::Secret, transport::grpc::pb};
use tonic::{Code, Status, metadata::MetadataValue, transport::Channel};

use crate::{
    helpers::{
        Bearer, CLIENT_ID, SECRET, TestApp, TestClock, TestDatabase, assert_error, assert_invalid, spawn_app,
        spawn_with, tenant, test_config,
    },
    process::run,
};

/// The administrator credential of the tests below.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789-abcdefghij";

pub type Admin = pb::environment_admin_service_client::EnvironmentAdminServiceClient<
    tonic::service::interceptor::InterceptedService<Channel, Bearer>,
>;

/// sigil with the administrator credential configured.
pub async fn spawn_administered_app() -> TestApp {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.admin_token = Some(Secret::new(ADMIN_TOKEN));
    spawn_with(database, config, TestClock::new()).await
}

pub fn admin_with(app: &TestApp, bearer: Bearer) -> Admin {
    pb::environment_admin_service_client::EnvironmentAdminServiceClient::with_interceptor(
        app.channel.clone(),
        bearer,
    )
}

pub fn admin(app: &TestApp) -> Admin {
    admin_with(app, Bearer::token(ADMIN_TOKEN))
}

/// Creates an environment named `name` serving `host`; returns it and its secret.
pub async fn create_environment(app: &TestApp, name: &str, host: &str) -> (pb::Environment, String) {
    let created = admin(app)
        .create_environment(pb::CreateEnvironmentRequest {
            name: name.into(),
            host: host.into(),
            client_id: String::new(),
        })
        .await
        .expect("create an environment")
        .into_inner();
    (created.environment.unwrap(), created.secret)
}

async fn authenticate(app: &TestApp, client_id: &str, secret: &str) -> Result<String, Status> {
    app.auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: client_id.into(),
            secret: secret.into(),
        })
        .await
        .map(|r| r.into_inner().token)
}

/// Calls every RPC of the service with `admin`, and returns each answer's status.
async fn every_rpc(mut admin: Admin) -> Vec<Status> {
    vec![
        admin
            .create_environment(pb::CreateEnvironmentRequest {
                name: "x".into(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        admin
            .list_environments(pb::ListEnvironmentsRequest {})
            .await
            .unwrap_err(),
        admin
            .get_environment(pb::GetEnvironmentRequest { id: "x".into() })
            .await
            .unwrap_err(),
        admin
            .update_environment(pb::UpdateEnvironmentRequest {
                id: "x".into(),
                name: Some("y".into()),
                host: None,
            })
            .await
            .unwrap_err(),
        admin
            .rotate_environment_secret(pb::RotateEnvironmentSecretRequest { id: "x".into() })
            .await
            .unwrap_err(),
        admin
            .delete_environment(pb::DeleteEnvironmentRequest { id: "x".into() })
            .await
            .unwrap_err(),
    ]
}

#[tokio::test]
async fn without_a_configured_admin_token_every_call_is_refused() {
    let app = spawn_app().await;
    for bearer in [Bearer::none(), Bearer::token(ADMIN_TOKEN), Bearer::token("")] {
        for status in every_rpc(admin_with(&app, bearer)).await {
            assert_error(&status, Code::PermissionDenied, "ADMIN_API_DISABLED");
        }
    }
    assert_eq!(app.count("environments", "1=1").await, 1);
}

#[tokio::test]
async fn calls_without_the_admin_token_or_with_another_are_unauthenticated() {
    let app = spawn_administered_app().await;
    for status in every_rpc(admin_with(&app, Bearer::none())).await {
        assert_error(&status, Code::Unauthenticated, "MISSING_TOKEN");
    }
    let environment_token = app.env_token().await;
    for bearer in [
        Bearer::token("test-admin-token-0123456789-abcdefghiJ"),
        Bearer::token(&environment_token),
        Bearer::raw(&format!("Basic {ADMIN_TOKEN}")),
    ] {
        let wrong = bearer.clone();
        for status in every_rpc(admin_with(&app, wrong)).await {
            assert!(matches!(status.code(), Code::Unauthenticated), "{status:?}");
        }
    }
    assert_eq!(app.count("environments", "1=1").await, 1);
}

#[tokio::test]
async fn a_created_environment_authenticates_with_its_new_credentials_and_is_listed() {
    let app = spawn_administered_app().await;
    let (created, secret) = create_environment(&app, "Staging", "staging.sigil.test").await;
    assert_eq!(created.name, "Staging");
    assert_eq!(created.host, "staging.sigil.test");
    assert!(!created.is_default);
    assert!(secret.len() >= 43, "a random secret");
    // Stored hashed, as the bootstrap secret is.
    assert_eq!(
        app.count(
            "environments",
            &format!("id = '{}' AND secret_hash LIKE '$argon2id$%'", created.id)
        )
        .await,
        1
    );
    assert_eq!(
        app.count("environments", &format!("secret_hash LIKE '%{secret}%'"))
            .await,
        0
    );
    assert_eq!(
        app.count("signing_keys", &format!("environment_id = '{}'", created.id))
            .await,
        1,
        "its own signing key"
    );

    let token = authenticate(&app, &created.client_id, &secret).await.unwrap();
    let mut tenants = app.tenants_with(Bearer::token(&token));
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let listed = tenants
        .list_tenants(pb::ListTenantsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.items.len(), 1);

    let all = admin(&app)
        .list_environments(pb::ListEnvironmentsRequest {})
        .await
        .unwrap()
        .into_inner()
        .environments;
    assert_eq!(all.len(), 2);
    assert!(all[0].is_default, "the bootstrapped one comes first: {all:?}");
    assert_eq!(all[0].client_id, CLIENT_ID);
    assert_eq!(all[1], created);
    let got = admin(&app)
        .get_environment(pb::GetEnvironmentRequest {
            id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .environment
        .unwrap();
    assert_eq!(got, created);

    let status = admin(&app)
        .get_environment(pb::GetEnvironmentRequest { id: "nope".into() })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "ENVIRONMENT_NOT_FOUND");
    let taken = |client_id: &str, host: &str| pb::CreateEnvironmentRequest {
        name: "Other".into(),
        host: host.into(),
        client_id: client_id.into(),
    };
    for request in [taken(CLIENT_ID, ""), taken("", "staging.sigil.test")] {
        let status = admin(&app).create_environment(request).await.unwrap_err();
        assert_error(&status, Code::AlreadyExists, "ENVIRONMENT_ALREADY_EXISTS");
    }
    let status = admin(&app)
        .create_environment(pb::CreateEnvironmentRequest::default())
        .await
        .unwrap_err();
    assert_invalid(&status, "name");
    let status = admin(&app)
        .create_environment(taken("", "https://bad/"))
        .await
        .unwrap_err();
    assert_invalid(&status, "host");
    assert_eq!(app.count("environments", "1=1").await, 2);
}

#[tokio::test]
async fn updating_renames_and_moves_the_host_but_the_default_keeps_its_place() {
    let app = spawn_administered_app().await;
    let (created, _) = create_environment(&app, "Staging", "staging.sigil.test").await;
    let updated = admin(&app)
        .update_environment(pb::UpdateEnvironmentRequest {
            id: created.id.clone(),
            name: Some("Preview".into()),
            host: Some("preview.sigil.test".into()),
        })
        .await
        .unwrap()
        .into_inner()
        .environment
        .unwrap();
    assert_eq!(updated.name, "Preview");
    assert_eq!(updated.host, "preview.sigil.test");
    assert_eq!(updated.client_id, created.client_id);

    let default = admin(&app)
        .list_environments(pb::ListEnvironmentsRequest {})
        .await
        .unwrap()
        .into_inner()
        .environments
        .remove(0);
    let renamed = admin(&app)
        .update_environment(pb::UpdateEnvironmentRequest {
            id: default.id.clone(),
            name: Some("Production".into()),
            host: None,
        })
        .await
        .unwrap()
        .into_inner()
        .environment
        .unwrap();
    assert_eq!(renamed.name, "Production");
    assert!(renamed.is_default);
    let status = admin(&app)
        .update_environment(pb::UpdateEnvironmentRequest {
            id: default.id.clone(),
            name: None,
            host: Some("prod.sigil.test".into()),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "ENVIRONMENT_IS_DEFAULT");
    let status = admin(&app)
        .update_environment(pb::UpdateEnvironmentRequest {
            id: "nope".into(),
            name: Some("x".into()),
            host: None,
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "ENVIRONMENT_NOT_FOUND");
    let status = admin(&app)
        .update_environment(pb::UpdateEnvironmentRequest {
            id: created.id.clone(),
            name: Some(String::new()),
            host: None,
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "name");
}

#[tokio::test]
async fn rotating_the_secret_refuses_the_old_one_and_the_tokens_it_obtained() {
    let app = spawn_administered_app().await;
    let (created, old_secret) = create_environment(&app, "Staging", "").await;
    let old_token = authenticate(&app, &created.client_id, &old_secret).await.unwrap();
    app.clock.advance(Duration::from_secs(1));

    let rotated = admin(&app)
        .rotate_environment_secret(pb::RotateEnvironmentSecretRequest {
            id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(rotated.secret, old_secret);
    let status = authenticate(&app, &created.client_id, &old_secret)
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    let status = app
        .tenants_with(Bearer::token(&old_token))
        .list_tenants(pb::ListTenantsRequest::default())
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");

    let new_token = authenticate(&app, &created.client_id, &rotated.secret)
        .await
        .unwrap();
    app.tenants_with(Bearer::token(&new_token))
        .list_tenants(pb::ListTenantsRequest::default())
        .await
        .expect("a token of the new secret works at once");
    // The other environment is untouched.
    app.clients()
        .await
        .0
        .list_tenants(pb::ListTenantsRequest::default())
        .await
        .unwrap();
    let status = admin(&app)
        .rotate_environment_secret(pb::RotateEnvironmentSecretRequest { id: "nope".into() })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "ENVIRONMENT_NOT_FOUND");
}

/// Sends `host` as the vendor host of a public call.
fn for_host<T>(message: T, host: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("frontegg-vendor-host", MetadataValue::try_from(host).unwrap());
    request
}

#[tokio::test]
async fn deleting_an_environment_ends_its_tokens_and_removes_its_data() {
    let app = spawn_administered_app().await;
    let host = "doomed.sigil.test";
    let (created, secret) = create_environment(&app, "Doomed", host).await;
    let token = authenticate(&app, &created.client_id, &secret).await.unwrap();
    let mut tenants = app.tenants_with(Bearer::token(&token));
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    app.users_with(Bearer::token(&token))
        .create_user(pb::CreateUserRequest {
            tenant_id: "acme".into(),
            email: "ann@example.com".into(),
            password: Some("correct horse battery".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let signed_in = app
        .auth()
        .login(for_host(
            pb::LoginRequest {
                email: "ann@example.com".into(),
                password: "correct horse battery".into(),
                ..Default::default()
            },
            host,
        ))
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();
    let validate = |access_token: String| {
        let mut tokens = app.tokens();
        async move {
            tokens
                .validate_token(for_host(
                    pb::ValidateTokenRequest {
                        access_token,
                        ..Default::default()
                    },
                    host,
                ))
                .await
        }
    };
    validate(signed_in.access_token.clone()).await.unwrap();
    // The bootstrapped environment's own user, to show it is untouched.
    app.active_user("bob@example.com", "correct horse battery").await;

    let status = admin(&app)
        .delete_environment(pb::DeleteEnvironmentRequest {
            id: created.id.clone(),
        })
        .await;
    status.unwrap();

    let status = tenants
        .list_tenants(pb::ListTenantsRequest::default())
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");
    let status = validate(signed_in.access_token.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = authenticate(&app, &created.client_id, &secret).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    let status = app
        .auth()
        .refresh_token(for_host(
            pb::RefreshTokenRequest {
                refresh_token: signed_in.refresh_token.clone(),
            },
            host,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let gone = format!("environment_id = '{}'", created.id);
    for table in ["tenants", "users", "signing_keys"] {
        assert_eq!(app.count(table, &gone).await, 0, "{table}");
    }
    assert_eq!(app.count("sessions", "1=1").await, 0);
    assert_eq!(app.count("users", "1=1").await, 1, "bob stays");
    app.login("bob@example.com", "correct horse battery").await;

    let status = admin(&app)
        .delete_environment(pb::DeleteEnvironmentRequest { id: created.id })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "ENVIRONMENT_NOT_FOUND");
    let default = admin(&app)
        .list_environments(pb::ListEnvironmentsRequest {})
        .await
        .unwrap()
        .into_inner()
        .environments
        .remove(0);
    let status = admin(&app)
        .delete_environment(pb::DeleteEnvironmentRequest { id: default.id })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "ENVIRONMENT_IS_DEFAULT");
    authenticate(&app, CLIENT_ID, SECRET).await.unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `sigil environments <args> --json` on the database of `app`.
async fn environments(app: &TestApp, args: &[&str]) -> Output {
    let mut argv = vec!["environments"];
    argv.extend_from_slice(args);
    argv.push("--json");
    run(
        &argv,
        &[
            ("SIGIL_DATABASE_URL", app.database.url.as_str()),
            ("SIGIL_LOG", "error"),
        ],
    )
    .await
}

#[track_caller]
fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&output.stdout)))
}

#[tokio::test]
async fn the_environments_command_administers_the_database_of_a_running_server() {
    let app = spawn_app().await;
    let created = json(
        &environments(
            &app,
            &["create", "--name", "Staging", "--host", "staging.sigil.test"],
        )
        .await,
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let client_id = created["clientId"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Staging");
    assert_eq!(created["host"], "staging.sigil.test");
    assert_eq!(created["isDefault"], false);

    // The running server serves the new environment at once, with the key the command made.
    let token = authenticate(&app, &client_id, &secret).await.unwrap();
    app.tenants_with(Bearer::token(&token))
        .create_tenant(tenant("acme", "Acme"))
        .await
        .unwrap();

    let listed = json(&environments(&app, &["list"]).await);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["isDefault"], true);
    assert_eq!(listed[0]["clientId"], CLIENT_ID);
    assert_eq!(listed[1]["id"], id.as_str());
    assert!(listed.iter().all(|e| e.get("secret").is_none()));

    let updated = json(&environments(&app, &["update", &id, "--name", "Preview", "--host", ""]).await);
    assert_eq!(updated["name"], "Preview");
    assert_eq!(updated["host"], Value::Null);
    let got = json(&environments(&app, &["get", &id]).await);
    assert_eq!(got["name"], "Preview");

    app.clock.advance(Duration::from_secs(1));
    let rotated = json(&environments(&app, &["rotate-secret", &id]).await);
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let status = authenticate(&app, &client_id, &secret).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    let token = authenticate(&app, &client_id, new_secret).await.unwrap();

    // The default environment cannot be deleted; an unknown one is not found.
    let default_id = listed[0]["id"].as_str().unwrap();
    let refused = environments(&app, &["delete", default_id]).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("default environment"),
        "{}",
        text(&refused.stderr)
    );
    let refused = environments(&app, &["get", "nope"]).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("not found"),
        "{}",
        text(&refused.stderr)
    );

    let deleted = json(&environments(&app, &["delete", &id]).await);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(app.count("tenants", &format!("environment_id = '{id}'")).await, 0);
    // A running server forgets it within the few seconds its cache of environments lives.
    app.clock.advance(Duration::from_secs(11));
    let status = app
        .tenants_with(Bearer::token(&token))
        .list_tenants(pb::ListTenantsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    authenticate(&app, CLIENT_ID, SECRET).await.unwrap();
}

//! Password sign-in, refresh-token rotation and logout.

use std::time::Duration;

use sigil::transport::grpc::pb;
use tonic::Code;

use crate::helpers::{TestApp, assert_error, assert_invalid, spawn_app, tenant};

const PASSWORD: &str = "correct horse battery";

async fn login(
    app: &TestApp,
    email: &str,
    password: &str,
) -> Result<pb::AuthenticationResponse, tonic::Status> {
    app.auth()
        .login(pb::LoginRequest {
            email: email.into(),
            password: password.into(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().authentication.unwrap())
}

async fn refresh(app: &TestApp, refresh_token: &str) -> Result<pb::AuthenticationResponse, tonic::Status> {
    app.auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: refresh_token.into(),
        })
        .await
        .map(|r| r.into_inner().authentication.unwrap())
}

#[tokio::test]
async fn a_user_signs_in_with_email_and_password() {
    let app = spawn_app().await;
    let user = app.active_user("ann@example.com", PASSWORD).await;
    let auth = login(&app, "Ann@Example.com", PASSWORD).await.unwrap();
    assert_eq!(auth.user_id, user.id);
    assert_eq!(auth.token_type, "bearer");
    assert_eq!(auth.expires_in, 3600);
    assert!(chrono::DateTime::parse_from_rfc3339(&auth.expires).is_ok());
    assert!(auth.mfa_devices.is_some());
    let claims = app.validate(&auth.access_token).await.unwrap();
    assert_eq!(claims.sub, user.id);
    assert_eq!(claims.r#type, "userToken");
    assert_eq!(claims.iss, "https://auth.sigil.test");
    assert_eq!(claims.exp - claims.iat, 3600);
    assert_eq!(claims.tenant_ids, ["acme"]);
    assert_eq!(
        app.count(
            "sessions",
            &format!("user_id = '{}' AND ip = '127.0.0.1'", user.id)
        )
        .await,
        1
    );
    assert_eq!(app.count("sessions", "user_agent LIKE '%tonic%'").await, 1);
    assert_eq!(app.count("users", "last_login IS NOT NULL").await, 1);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_fail_alike() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    app.invited_user("bob@example.com").await;
    let wrong_password = login(&app, "ann@example.com", "wrong password")
        .await
        .unwrap_err();
    let unknown = login(&app, "nobody@example.com", PASSWORD).await.unwrap_err();
    let no_password = login(&app, "bob@example.com", PASSWORD).await.unwrap_err();
    let empty = login(&app, "ann@example.com", "").await.unwrap_err();
    for status in [&wrong_password, &unknown, &no_password, &empty] {
        assert_error(status, Code::Unauthenticated, "INVALID_CREDENTIALS");
        assert_eq!(status.message(), wrong_password.message());
    }
    let status = login(&app, "not-an-email", PASSWORD).await.unwrap_err();
    assert_invalid(&status, "email");
    assert_eq!(app.count("sessions", "1=1").await, 0);
}

#[tokio::test]
async fn a_locked_user_is_refused_and_its_sessions_end() {
    let app = spawn_app().await;
    let user = app.active_user("ann@example.com", PASSWORD).await;
    let auth = login(&app, "ann@example.com", PASSWORD).await.unwrap();
    let (_, mut users) = app.clients().await;
    users
        .lock_user(pb::LockUserRequest {
            user_id: user.id.clone(),
        })
        .await
        .unwrap();

    let status = login(&app, "ann@example.com", PASSWORD).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "USER_LOCKED");
    let status = login(&app, "ann@example.com", "wrong password")
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    let status = app.validate(&auth.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = refresh(&app, &auth.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");

    users
        .unlock_user(pb::UnlockUserRequest { user_id: user.id })
        .await
        .unwrap();
    login(&app, "ann@example.com", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a_user_not_yet_activated_is_refused_once_the_password_is_right() {
    let app = spawn_app().await;
    let user = app.active_user("ann@example.com", PASSWORD).await;
    app.db_execute(&format!(
        "UPDATE users SET activated = false WHERE id = '{}'",
        user.id
    ))
    .await;
    let status = login(&app, "ann@example.com", PASSWORD).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "USER_NOT_ACTIVATED");
}

#[tokio::test]
async fn each_refresh_token_works_once_and_a_replay_revokes_the_session() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let first = login(&app, "ann@example.com", PASSWORD).await.unwrap();
    let second = refresh(&app, &first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    let third = refresh(&app, &second.refresh_token).await.unwrap();
    app.validate(&third.access_token).await.unwrap();

    // Someone replays the first token past the grace window: the whole session dies, the live
    // pair included.
    app.clock.advance(Duration::from_secs(6));
    let status = refresh(&app, &first.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "REFRESH_TOKEN_REUSED");
    let status = refresh(&app, &third.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = app.validate(&third.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");

    // Other sessions of the user are untouched.
    let other = login(&app, "ann@example.com", PASSWORD).await.unwrap();
    refresh(&app, &other.refresh_token).await.unwrap();

    let status = refresh(&app, "not-a-refresh-token").await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_yield_one_pair() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let auth = login(&app, "ann@example.com", PASSWORD).await.unwrap();
    let (a, b) = tokio::join!(
        refresh(&app, &auth.refresh_token),
        refresh(&app, &auth.refresh_token)
    );
    // One exchanges the token; the other, within the grace window, gets the same pair.
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.refresh_token, b.refresh_token);
    assert_eq!(a.access_token, b.access_token);
    assert_eq!(app.count("refresh_tokens", "used_at IS NULL").await, 1);
    refresh(&app, &a.refresh_token).await.unwrap();
}

#[tokio::test]
async fn tokens_expire_by_the_injected_clock() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let auth = login(&app, "ann@example.com", PASSWORD).await.unwrap();
    app.clock.advance(Duration::from_secs(3599));
    app.validate(&auth.access_token).await.unwrap();
    app.clock.advance(Duration::from_secs(2));
    let status = app.validate(&auth.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "TOKEN_EXPIRED");
    // The refresh token lives 30 days from its issue.
    let renewed = refresh(&app, &auth.refresh_token).await.unwrap();
    app.clock.advance(Duration::from_secs(30 * 24 * 3600 + 1));
    let status = refresh(&app, &renewed.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");
}

#[tokio::test]
async fn logout_ends_the_session_by_refresh_or_access_token() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let by_refresh = login(&app, "ann@example.com", PASSWORD).await.unwrap();
    let by_access = login(&app, "ann@example.com", PASSWORD).await.unwrap();

    app.auth()
        .logout(pb::LogoutRequest {
            refresh_token: by_refresh.refresh_token.clone(),
        })
        .await
        .unwrap();
    let status = refresh(&app, &by_refresh.refresh_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    let status = app.validate(&by_refresh.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    app.validate(&by_access.access_token)
        .await
        .expect("the other session lives");

    let mut request = tonic::Request::new(pb::LogoutRequest::default());
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", by_access.access_token).parse().unwrap(),
    );
    app.auth().logout(request).await.unwrap();
    let status = app.validate(&by_access.access_token).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");

    let status = app.auth().logout(pb::LogoutRequest::default()).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "MISSING_TOKEN");
    let status = app
        .auth()
        .logout(pb::LogoutRequest {
            refresh_token: "unknown".into(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");
}

#[tokio::test]
async fn removing_a_user_from_its_tenant_or_deleting_it_ends_its_sessions() {
    let app = spawn_app().await;
    let ann = app.active_user("ann@example.com", PASSWORD).await;
    let bob = app.active_user("bob@example.com", PASSWORD).await;
    let ann_auth = login(&app, "ann@example.com", PASSWORD).await.unwrap();
    let bob_auth = login(&app, "bob@example.com", PASSWORD).await.unwrap();
    let (_, mut users) = app.clients().await;
    users
        .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
            user_id: ann.id,
            tenant_id: "acme".into(),
        })
        .await
        .unwrap();
    users
        .delete_user(pb::DeleteUserRequest { user_id: bob.id })
        .await
        .unwrap();
    for access_token in [&ann_auth.access_token, &bob_auth.access_token] {
        let status = app.validate(access_token).await.unwrap_err();
        assert_error(&status, Code::Unauthenticated, "SESSION_REVOKED");
    }
}

#[tokio::test]
async fn the_token_lists_every_tenant_and_a_user_of_none_is_refused_without_a_write() {
    let app = spawn_app().await;
    let ann = app.active_user("ann@example.com", PASSWORD).await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("beta", "Beta")).await.unwrap();
    users
        .add_user_to_tenant(pb::AddUserToTenantRequest {
            user_id: ann.id.clone(),
            tenant_id: "beta".into(),
        })
        .await
        .unwrap();
    let auth = login(&app, "ann@example.com", PASSWORD).await.unwrap();
    let claims = app.validate(&auth.access_token).await.unwrap();
    assert_eq!(claims.tenant_ids, ["acme", "beta"]);
    assert_eq!(claims.tenant_id, "acme");

    for tenant_id in ["acme", "beta"] {
        users
            .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
                user_id: ann.id.clone(),
                tenant_id: tenant_id.into(),
            })
            .await
            .unwrap();
    }
    app.db_execute("UPDATE users SET last_login = NULL").await;
    let status = login(&app, "ann@example.com", PASSWORD).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "USER_HAS_NO_TENANT");
    assert_eq!(app.count("users", "last_login IS NOT NULL").await, 0);
    assert_eq!(app.count("sessions", "revoked_at IS NULL").await, 0);
}

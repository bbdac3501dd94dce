//! Activation of invited users.

use std::time::Duration;

use sigil::{service::mailer::Message, transport::grpc::pb};
use tonic::Code;

use crate::helpers::{Bearer, TestApp, assert_error, assert_invalid, assert_invalid_because, spawn_app};

const PASSWORD: &str = "correct horse battery";
const TOKEN: &str = "INVALID_ACTIVATION_TOKEN";

fn activate(user_id: &str, token: &str, password: Option<&str>) -> pb::ActivateUserRequest {
    pb::ActivateUserRequest {
        user_id: user_id.into(),
        token: token.into(),
        password: password.map(str::to_owned),
        ..Default::default()
    }
}

fn with_code(user_id: &str, token: &str, code: &str) -> pb::ActivateUserWithCodeRequest {
    pb::ActivateUserWithCodeRequest {
        user_id: user_id.into(),
        token: token.into(),
        password: Some(PASSWORD.into()),
        code: code.into(),
        ..Default::default()
    }
}

async fn strategy(app: &TestApp, user_id: &str, token: &str) -> Result<bool, tonic::Status> {
    app.activation()
        .get_activation_strategy(pb::GetActivationStrategyRequest {
            user_id: user_id.into(),
            token: token.into(),
        })
        .await
        .map(|r| r.into_inner().should_set_password)
}

#[tokio::test]
async fn an_invited_user_activates_with_a_password_and_is_signed_in() {
    let app = spawn_app().await;
    let (user, issued) = app.invited_user("ann@example.com").await;
    assert!(
        strategy(&app, &user.id, &issued.token).await.unwrap(),
        "no password yet"
    );
    assert_eq!(issued.code.len(), 6);
    assert!(issued.code.chars().all(|c| c.is_ascii_digit()));

    let auth = app
        .activation()
        .activate_user(pb::ActivateUserRequest {
            last_terms_check: "2026-11-20T10:00:00Z".into(),
            ..activate(&user.id, &issued.token, Some(PASSWORD))
        })
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();
    assert_eq!(auth.token_type, "bearer");
    assert_eq!(auth.user_id, user.id);
    assert_eq!(auth.user_email, "ann@example.com");
    assert!(auth.email_verified);
    assert!(!auth.mfa_required);
    assert_eq!(auth.expires_in, 3600);
    assert!(!auth.refresh_token.is_empty());
    let claims = app.validate(&auth.access_token).await.unwrap();
    assert_eq!(claims.sub, user.id);
    assert_eq!(claims.tenant_id, "acme");

    let (_, mut users) = app.clients().await;
    let activated = users
        .get_user(pb::GetUserRequest {
            user_id: user.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(activated.activated_for_tenant);
    assert!(activated.verified);
    assert!(activated.last_login.is_some());
    assert_eq!(app.count("users", "terms_accepted_at IS NOT NULL").await, 1);
    app.login("ann@example.com", PASSWORD).await;
}

#[tokio::test]
async fn activation_checks_the_password_against_the_policy() {
    let app = spawn_app().await;
    let (user, issued) = app.invited_user("ann@example.com").await;
    let status = app
        .activation()
        .activate_user(activate(&user.id, &issued.token, None))
        .await
        .unwrap_err();
    assert_invalid(&status, "password");
    for bad in ["short", &"x".repeat(129)] {
        let status = app
            .activation()
            .activate_user(activate(&user.id, &issued.token, Some(bad)))
            .await
            .unwrap_err();
        assert_invalid(&status, "password");
    }
    let status = app
        .activation()
        .activate_user(pb::ActivateUserRequest {
            last_terms_check: "yesterday".into(),
            ..activate(&user.id, &issued.token, Some(PASSWORD))
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "last_terms_check");
    // None of the refusals used the token up.
    app.activation()
        .activate_user(activate(&user.id, &issued.token, Some(PASSWORD)))
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_users_and_wrong_expired_or_used_tokens_fail_alike() {
    let app = spawn_app().await;
    let (user, first) = app.invited_user("ann@example.com").await;
    let (_, mut users) = app.clients().await;
    let second = users
        .generate_activation_token(pb::GenerateActivationTokenRequest {
            user_id: user.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();

    let mut refusals = vec![
        // A wrong token.
        app.activation()
            .activate_user(activate(&user.id, "not-the-token", Some(PASSWORD)))
            .await
            .unwrap_err(),
        // An unknown user.
        app.activation()
            .activate_user(activate("no-such-user", &second.token, Some(PASSWORD)))
            .await
            .unwrap_err(),
        // A token replaced by a newer one.
        app.activation()
            .activate_user(activate(&user.id, &first.token, Some(PASSWORD)))
            .await
            .unwrap_err(),
        strategy(&app, &user.id, &first.token).await.unwrap_err(),
        strategy(&app, "no-such-user", &second.token).await.unwrap_err(),
    ];
    // An expired token: past the default lifetime of 24 hours.
    app.clock.advance(Duration::from_secs(24 * 3600 + 1));
    refusals.push(
        app.activation()
            .activate_user(activate(&user.id, &second.token, Some(PASSWORD)))
            .await
            .unwrap_err(),
    );
    for status in &refusals {
        assert_invalid_because(status, "token", TOKEN);
        assert_eq!(status.message(), refusals[0].message());
    }
}

#[tokio::test]
async fn an_activated_user_gets_a_clear_error() {
    let app = spawn_app().await;
    let (user, issued) = app.invited_user("ann@example.com").await;
    app.activation()
        .activate_user(activate(&user.id, &issued.token, Some(PASSWORD)))
        .await
        .unwrap();
    let status = app
        .activation()
        .activate_user(activate(&user.id, &issued.token, Some(PASSWORD)))
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "USER_ALREADY_ACTIVATED");
    let status = strategy(&app, &user.id, &issued.token).await.unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "USER_ALREADY_ACTIVATED");
}

#[tokio::test]
async fn without_a_token_of_the_user_nothing_tells_that_it_is_activated() {
    let app = spawn_app().await;
    let (user, issued) = app.invited_user("ann@example.com").await;
    let (_, other) = app.invited_user("bob@example.com").await;
    app.activation()
        .activate_user(activate(&user.id, &issued.token, Some(PASSWORD)))
        .await
        .unwrap();
    // A made-up token, and a genuine token of another user: the same answer as for a user that
    // does not exist.
    for token in ["made-up", other.token.as_str()] {
        let status = app
            .activation()
            .activate_user(activate(&user.id, token, Some(PASSWORD)))
            .await
            .unwrap_err();
        assert_invalid_because(&status, "token", TOKEN);
        let status = strategy(&app, &user.id, token).await.unwrap_err();
        assert_invalid_because(&status, "token", TOKEN);
    }
}

#[tokio::test]
async fn the_activation_token_lifetime_is_an_environment_setting() {
    let app = spawn_app().await;
    app.db_execute(r#"UPDATE environments SET settings = '{"activationTokenTtlSecs": 60}'"#)
        .await;
    let (user, issued) = app.invited_user("ann@example.com").await;
    app.clock.advance(Duration::from_secs(59));
    assert!(strategy(&app, &user.id, &issued.token).await.is_ok());
    app.clock.advance(Duration::from_secs(2));
    let status = strategy(&app, &user.id, &issued.token).await.unwrap_err();
    assert_invalid_because(&status, "token", TOKEN);
}

#[tokio::test]
async fn two_concurrent_activations_with_one_token_succeed_exactly_once() {
    let app = spawn_app().await;
    for round in 0..5 {
        let (user, issued) = app.invited_user(&format!("racer{round}@example.com")).await;
        let mut first = app.activation();
        let mut second = app.activation();
        let (a, b) = tokio::join!(
            first.activate_user(activate(&user.id, &issued.token, Some("first password"))),
            second.activate_user(activate(&user.id, &issued.token, Some("second password"))),
        );
        let outcomes = [a.is_ok(), b.is_ok()];
        assert_eq!(
            outcomes.iter().filter(|ok| **ok).count(),
            1,
            "round {round}: {outcomes:?}"
        );
        let loser = a.err().or(b.err()).unwrap();
        assert!(
            matches!(loser.code(), Code::InvalidArgument | Code::FailedPrecondition),
            "the loser is refused cleanly: {loser:?}"
        );
        assert_eq!(
            app.count("sessions", &format!("user_id = '{}'", user.id)).await,
            1,
            "one session, for the winner"
        );
    }
}

#[tokio::test]
async fn activation_with_the_code_works_and_wrong_codes_burn_the_token() {
    let app = spawn_app().await;
    let (user, issued) = app.invited_user("ann@example.com").await;
    let wrong = if issued.code == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..4 {
        let status = app
            .activation()
            .activate_user_with_code(with_code(&user.id, &issued.token, wrong))
            .await
            .unwrap_err();
        assert_invalid_because(&status, "code", "INVALID_ACTIVATION_CODE");
    }
    // The fifth wrong code uses the token up: even the right code no longer works.
    app.activation()
        .activate_user_with_code(with_code(&user.id, &issued.token, wrong))
        .await
        .unwrap_err();
    let status = app
        .activation()
        .activate_user_with_code(with_code(&user.id, &issued.token, &issued.code))
        .await
        .unwrap_err();
    assert_invalid_because(&status, "token", TOKEN);
    assert_eq!(
        app.count("user_tokens", "failed_attempts = 5 AND consumed_at IS NOT NULL")
            .await,
        1
    );

    let (_, mut users) = app.clients().await;
    let fresh = users
        .generate_activation_token(pb::GenerateActivationTokenRequest {
            user_id: user.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let auth = app
        .activation()
        .activate_user_with_code(with_code(&user.id, &fresh.token, &fresh.code))
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();
    assert_eq!(auth.user_id, user.id);
    assert_eq!(
        app.count("user_tokens", &format!("code_hash = '{}'", fresh.code))
            .await,
        0,
        "codes are hashed"
    );
}

#[tokio::test]
async fn resetting_the_token_sends_a_new_one_and_invalidates_the_old() {
    let app = spawn_app().await;
    let (user, old) = app.invited_user("ann@example.com").await;
    let token = app.env_token().await;
    let reset = |email: &str| pb::ResetActivationTokenRequest {
        email: email.into(),
        email_metadata: None,
    };
    let status = app
        .activation()
        .reset_activation_token(reset("ann@example.com"))
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "MISSING_TOKEN");

    let mut activation = app.activation_with(Bearer::token(&token));
    activation
        .reset_activation_token(reset("ANN@example.com"))
        .await
        .unwrap();
    activation
        .reset_activation_token(reset("nobody@example.com"))
        .await
        .unwrap();
    let status = activation
        .reset_activation_token(reset("not an email"))
        .await
        .unwrap_err();
    assert_invalid(&status, "email");

    let sent = app.mailer.sent();
    assert_eq!(sent.len(), 1, "only the real user is mailed");
    let Message::Activation {
        user_id,
        to,
        link,
        code,
        ..
    } = &sent[0];
    assert_eq!(user_id, &user.id);
    assert_eq!(to, "ann@example.com");
    let link = url::Url::parse(link.expose()).unwrap();
    let new_token = link
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_ne!(new_token, old.token);

    let status = strategy(&app, &user.id, &old.token).await.unwrap_err();
    assert_invalid_because(&status, "token", TOKEN);
    app.activation()
        .activate_user_with_code(with_code(&user.id, &new_token, code.expose()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_locked_user_cannot_activate_and_its_token_survives_for_after_the_unlock() {
    let app = spawn_app().await;
    let (user, issued) = app.invited_user("ann@example.com").await;
    let (_, mut users) = app.clients().await;
    users
        .lock_user(pb::LockUserRequest {
            user_id: user.id.clone(),
        })
        .await
        .unwrap();
    let status = app
        .activation()
        .activate_user(activate(&user.id, &issued.token, Some(PASSWORD)))
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "USER_LOCKED");
    // Nothing of the activation was kept.
    assert_eq!(
        app.count("users", "activated = TRUE OR last_login IS NOT NULL")
            .await,
        0
    );
    assert_eq!(app.count("sessions", "1 = 1").await, 0);

    users
        .unlock_user(pb::UnlockUserRequest {
            user_id: user.id.clone(),
        })
        .await
        .unwrap();
    let auth = app
        .activation()
        .activate_user(activate(&user.id, &issued.token, Some(PASSWORD)))
        .await
        .unwrap()
        .into_inner();
    assert!(!auth.authentication.unwrap().access_token.is_empty());
    assert_eq!(app.count("users", "last_login IS NOT NULL").await, 1);
}

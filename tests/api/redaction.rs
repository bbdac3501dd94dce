//! Secrets never reach `Debug` output: the proto marks every field that carries one as
//! `(identity.v1.sensitive)`, and the generated messages print `[redacted]` in its place.

use prost_reflect::{DescriptorPool, Value};
use sigil::transport::grpc::pb;

/// What a secret looks like in the messages below: any output containing it leaked one.
const MARK: &str = "s3cr3t-MARK";

/// Field names that hold secrets wherever they appear.
fn looks_secret(name: &str) -> bool {
    const WORDS: &[&str] = &["password", "secret", "token", "code", "link"];
    name.split('_').any(|word| WORDS.contains(&word))
}

/// Fields whose names look secret but are not: what a token is, whether a password is needed,
/// a third party's one-use proof that means nothing to anyone else.
const NOT_SECRET: &[&str] = &[
    "identity.v1.AuthenticationResponse.token_type",
    "identity.v1.AuthenticationResponse.password_expires_in",
    "identity.v1.AuthenticationResponse.is_breached_password",
    "identity.v1.GetActivationStrategyResponse.should_set_password",
    "identity.v1.LoginRequest.recaptcha_token",
    "identity.v1.ActivateUserRequest.recaptcha_token",
    "identity.v1.ActivateUserWithCodeRequest.recaptcha_token",
    "identity.v1.User.has_password",
    // Paging cursors: where a listing goes on, which the caller may already read.
    "identity.v1.ListUsersRequest.page_token",
    "identity.v1.ListUsersResponse.next_page_token",
    "identity.v1.SearchUsersResponse.next_page_token",
    // Lifetimes and flags of the identity configuration, not tokens.
    "identity.v1.IdentityConfiguration.default_token_expiration",
    "identity.v1.UpdateIdentityConfigurationRequest.default_token_expiration",
    "identity.v1.UpdateIdentityConfigurationRequest.default_refresh_token_expiration",
    "identity.v1.UpdateIdentityConfigurationRequest.allow_override_password_complexity",
    "identity.v1.UpdateIdentityConfigurationRequest.allow_override_password_expiration",
    "identity.v1.UpdateIdentityConfigurationRequest.allow_override_enforce_password_history",
    "identity.v1.UpdateIdentityConfigurationRequest.default_passwordless_token_expiration",
    "identity.v1.IdentityConfiguration.default_refresh_token_expiration",
    "identity.v1.IdentityConfiguration.default_passwordless_token_expiration",
    "identity.v1.IdentityConfiguration.allow_override_password_complexity",
    "identity.v1.IdentityConfiguration.allow_override_password_expiration",
    "identity.v1.IdentityConfiguration.allow_override_enforce_password_history",
];

#[test]
fn every_field_that_looks_secret_is_marked_sensitive() {
    let pool = DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    let sensitive = pool.get_extension_by_name("identity.v1.sensitive").unwrap();
    let mut unmarked = Vec::new();
    for message in pool.all_messages() {
        if message.package_name() != "identity.v1" {
            continue;
        }
        for field in message.fields() {
            let marked = matches!(
                field.options().get_extension(&sensitive).as_ref(),
                Value::Bool(true)
            );
            if looks_secret(field.name()) && !marked && !NOT_SECRET.contains(&field.full_name()) {
                unmarked.push(field.full_name().to_owned());
            }
        }
    }
    assert!(
        unmarked.is_empty(),
        "mark these (identity.v1.sensitive) or list them as not secret: {unmarked:?}"
    );
}

#[test]
fn messages_carrying_secrets_print_them_redacted() {
    let mark = || MARK.to_owned();
    let printed = [
        format!(
            "{:?}",
            pb::AuthenticateVendorRequest {
                client_id: "client".into(),
                secret: mark(),
            }
        ),
        format!(
            "{:?}",
            pb::AuthenticateVendorResponse {
                token: mark(),
                expires_in: 1
            }
        ),
        format!(
            "{:?}",
            pb::LoginRequest {
                email: "ann@example.com".into(),
                password: mark(),
                recaptcha_token: String::new(),
            }
        ),
        format!(
            "{:?}",
            pb::AuthenticationResponse {
                access_token: mark(),
                refresh_token: mark(),
                mfa_token: mark(),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            pb::LoginResponse {
                authentication: Some(pb::AuthenticationResponse {
                    refresh_token: mark(),
                    ..Default::default()
                }),
            }
        ),
        format!(
            "{:?}",
            pb::RefreshTokenRequest {
                refresh_token: mark()
            }
        ),
        format!(
            "{:?}",
            pb::LogoutRequest {
                refresh_token: mark()
            }
        ),
        format!(
            "{:?}",
            pb::ValidateTokenRequest {
                access_token: mark(),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            pb::ActivateUserRequest {
                token: mark(),
                password: Some(mark()),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            pb::ActivateUserWithCodeRequest {
                token: mark(),
                password: Some(mark()),
                code: mark(),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            pb::GetActivationStrategyRequest {
                user_id: "u".into(),
                token: mark(),
            }
        ),
        format!(
            "{:?}",
            pb::CreateUserRequest {
                password: Some(mark()),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            pb::GenerateActivationTokenResponse {
                token: mark(),
                link: mark(),
                code: mark(),
                ..Default::default()
            }
        ),
    ];
    for output in &printed {
        assert!(!output.contains(MARK), "a secret leaked: {output}");
        assert!(output.contains("[redacted]"), "{output}");
    }
    // Fields that are not secret still print.
    assert!(printed[0].contains("client"), "{}", printed[0]);
}

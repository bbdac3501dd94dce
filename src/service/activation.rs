//! Activation of invited users: single-use tokens with a short code, and the sign-in that follows.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use super::{Deps, mailer::Message, sign_in::SignIn};
use crate::{
    domain::{
        Error,
        email::Email,
        error::Result,
        password::Password,
        scope::Scope,
        secret::{self, Secret},
        session::{Authentication, ClientInfo},
        user::PROVIDER_LOCAL,
    },
    store::{
        self,
        tokens::{self, NewToken, TokenKind, UserTokenRow},
        users::{self, UserRow},
    },
};

/// Wrong codes a token survives; the next one uses it up.
pub const MAX_CODE_ATTEMPTS: i32 = 5;
/// Digits in an activation code.
const CODE_DIGITS: u32 = 6;

/// A freshly issued activation token, its code and link.
#[derive(Debug, Clone)]
pub struct ActivationToken {
    /// The user it activates.
    pub user_id: String,
    /// The token, shown once.
    pub token: Secret,
    /// The short code that activates together with the token.
    pub code: Secret,
    /// The link that carries the token.
    pub link: Secret,
}

/// An activation request, unchecked.
#[derive(Debug, Clone, Default)]
pub struct Activate {
    /// The user's id.
    pub user_id: String,
    /// The activation token.
    pub token: Secret,
    /// The password to set, when the user needs one.
    pub password: Option<Secret>,
    /// The code sent with the token, for activation with a code.
    pub code: Option<Secret>,
    /// When the user accepted the terms, RFC 3339; empty when not given.
    pub last_terms_check: String,
}

fn invalid_token() -> Error {
    Error::InvalidToken {
        reason: "INVALID_ACTIVATION_TOKEN",
        field: "token",
    }
}

fn already_activated() -> Error {
    Error::FailedPrecondition {
        reason: "USER_ALREADY_ACTIVATED",
        message: "the user is already activated".into(),
    }
}

/// A uniformly random code of [`CODE_DIGITS`] digits.
fn random_code() -> Result<String> {
    let range = 10u32.pow(CODE_DIGITS);
    // Reject the top of the u32 range that would bias the remainder.
    let limit = u32::MAX - u32::MAX % range;
    loop {
        let mut bytes = [0u8; 4];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::internal(anyhow::anyhow!("no randomness")))?;
        let value = u32::from_le_bytes(bytes);
        if value < limit {
            return Ok(format!("{:0width$}", value % range, width = CODE_DIGITS as usize));
        }
    }
}

/// The stored digest of a code, bound to its token so a leaked table cannot be brute-forced for
/// codes without the tokens.
fn code_digest(token: &str, code: &str) -> String {
    secret::digest(&format!("{token}:{code}"))
}

/// Activation use cases.
#[derive(Clone)]
pub struct Activation {
    deps: Deps,
    sign_in: SignIn,
}

impl Activation {
    pub(super) fn new(deps: Deps, sign_in: SignIn) -> Self {
        Self { deps, sign_in }
    }

    /// Issues a token and code for a user who is not activated, revoking the user's earlier
    /// ones. Only digests are stored. Runs in the caller's transaction.
    pub(crate) async fn issue(
        deps: &Deps,
        db: &impl ConnectionTrait,
        scope: &Scope,
        user: &UserRow,
        now: DateTime<Utc>,
    ) -> Result<ActivationToken> {
        if user.activated {
            return Err(already_activated());
        }
        let token = secret::random_token();
        let code = random_code()?;
        tokens::replace(
            db,
            scope,
            NewToken {
                user_id: &user.id,
                kind: TokenKind::Activation,
                token_hash: secret::digest(&token),
                code_hash: Some(code_digest(&token, &code)),
                expires_at: now + Duration::seconds(scope.environment().settings.activation_token_ttl_secs),
            },
            now,
        )
        .await?;
        let mut link = deps
            .settings
            .app_url
            .join("oauth/account/activate")
            .map_err(Error::internal)?;
        link.query_pairs_mut()
            .append_pair("userId", &user.id)
            .append_pair("token", &token);
        Ok(ActivationToken {
            user_id: user.id.clone(),
            token: Secret::new(token),
            code: Secret::new(code),
            link: Secret::new(String::from(link)),
        })
    }

    /// The user and live token an activation names; an unknown user and a wrong, expired or used
    /// token are the same error. The token is checked first: only the holder of a token issued
    /// to the user (used or not) learns that the user is already activated.
    async fn check(&self, scope: &Scope, user_id: &str, token: &str) -> Result<(UserRow, UserTokenRow)> {
        let now = self.deps.now();
        let digest = secret::digest(token);
        let row = tokens::find_issued(&self.deps.db, scope, user_id, TokenKind::Activation, &digest)
            .await?
            .ok_or_else(invalid_token)?;
        let user = users::find_row(&self.deps.db, scope, user_id)
            .await?
            .ok_or_else(invalid_token)?;
        if user.activated {
            return Err(already_activated());
        }
        if !tokens::is_live(&row, now) {
            return Err(invalid_token());
        }
        Ok((user, row))
    }

    /// Whether activating needs a password: the user has none and does not use single sign-on.
    pub async fn should_set_password(&self, scope: &Scope, user_id: &str, token: &str) -> Result<bool> {
        let (user, _) = self.check(scope, user_id, token).await?;
        Ok(needs_password(&user))
    }

    /// Activates a user and signs it in. The token is used up atomically: of two concurrent
    /// activations with one token, exactly one succeeds.
    pub async fn activate(
        &self,
        scope: &Scope,
        request: Activate,
        client: ClientInfo,
    ) -> Result<Authentication> {
        let terms_accepted_at = match request.last_terms_check.as_str() {
            "" => None,
            raw => Some(
                DateTime::parse_from_rfc3339(raw)
                    .map_err(|_| Error::invalid("last_terms_check", "must be an RFC 3339 time"))?
                    .with_timezone(&Utc),
            ),
        };
        let (user, token) = self
            .check(scope, &request.user_id, request.token.expose())
            .await?;
        if let Some(code) = &request.code {
            let expected = token.code_hash.as_deref().unwrap_or_default();
            if !secret::constant_time_eq(&code_digest(request.token.expose(), code.expose()), expected) {
                tokens::count_wrong_code(&self.deps.db, &token.id, MAX_CODE_ATTEMPTS, self.deps.now())
                    .await?;
                return Err(Error::InvalidToken {
                    reason: "INVALID_ACTIVATION_CODE",
                    field: "code",
                });
            }
        }
        let password_hash = if needs_password(&user) {
            let raw = request
                .password
                .as_ref()
                .map(Secret::expose)
                .ok_or_else(|| Error::invalid("password", "is required to activate this user"))?;
            let password =
                Password::parse_new("password", raw, &scope.environment().settings.password_policy)?;
            Some(self.deps.hasher.hash(password).await?)
        } else {
            None
        };
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        if !tokens::consume(&txn, &token.id, now).await? {
            return Err(invalid_token());
        }
        users::activate(&txn, scope, &user.id, password_hash, terms_accepted_at, now).await?;
        let authentication = self
            .sign_in
            .open_session(Some(&txn), scope, &user.id, client, now)
            .await?;
        txn.commit().await?;
        Ok(authentication)
    }

    /// Issues a new token and code for the not yet activated user with this email and sends them,
    /// invalidating earlier ones. Does nothing, and says nothing different, when the email matches
    /// no such user.
    pub async fn reset(&self, scope: &Scope, email: &str, metadata: serde_json::Value) -> Result<()> {
        let email = Email::parse("email", email)?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let Some(user) = users::find_row_by_email(&txn, scope, email.as_str()).await? else {
            return Ok(());
        };
        if user.activated {
            return Ok(());
        }
        let issued = Self::issue(&self.deps, &txn, scope, &user, now).await?;
        txn.commit().await?;
        self.deps
            .mailer
            .send(Message::Activation {
                environment_id: scope.environment_id().to_owned(),
                user_id: user.id,
                to: user.email,
                link: issued.link,
                code: issued.code,
                metadata,
            })
            .await
    }
}

fn needs_password(user: &UserRow) -> bool {
    user.password_hash.is_none() && user.provider == PROVIDER_LOCAL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_requests_and_tokens_print_their_secrets_redacted() {
        let request = Activate {
            user_id: "u".into(),
            token: Secret::new("token-MARK"),
            password: Some(Secret::new("password-MARK")),
            code: Some(Secret::new("code-MARK")),
            last_terms_check: String::new(),
        };
        let issued = ActivationToken {
            user_id: "u".into(),
            token: Secret::new("token-MARK"),
            code: Secret::new("code-MARK"),
            link: Secret::new("https://app/activate?token=token-MARK"),
        };
        let create = crate::domain::user::CreateUser {
            password: Some(Secret::new("password-MARK")),
            ..Default::default()
        };
        for printed in [
            format!("{request:?}"),
            format!("{issued:?}"),
            format!("{create:?}"),
        ] {
            assert!(!printed.contains("MARK"), "{printed}");
        }
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let code = random_code().unwrap();
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn code_digests_depend_on_the_token() {
        assert_ne!(code_digest("token-a", "123456"), code_digest("token-b", "123456"));
        assert_eq!(code_digest("token-a", "123456"), code_digest("token-a", "123456"));
    }
}

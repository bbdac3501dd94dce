//! Sign-in: password login, refresh-token rotation with reuse detection, and logout.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseTransaction, DbBackend};

use std::sync::Arc;

use super::{Deps, limits::SignInLimits, tokens::Tokens};
use crate::telemetry::metrics::TokenKind;
use crate::{
    domain::{
        Error,
        email::Email,
        error::{AuthFailure, Result},
        password::{self, Password},
        scope::Scope,
        secret::{self, Secret},
        session::{Authentication, ClientInfo},
    },
    store::{
        self,
        sessions::{self, NextToken, Opening, Rotated, Sessions},
        users::{self, UserRow},
    },
};

/// Longest password checked at all; longer ones cannot be right and are refused without hashing.
const MAX_PASSWORD_BYTES: usize = 4096;

/// Sign-in use cases.
#[derive(Clone)]
pub struct SignIn {
    deps: Deps,
    tokens: Tokens,
    limits: Arc<SignInLimits>,
}

impl SignIn {
    pub(super) fn new(deps: Deps, tokens: Tokens) -> Self {
        let limits = Arc::new(SignInLimits::new(
            deps.settings.sign_in_limit_per_account,
            deps.settings.sign_in_limit_per_address,
            deps.clock.clone(),
        ));
        Self { deps, tokens, limits }
    }

    /// Signs a user in with email and password. An unknown email, a user without a password and
    /// a wrong password fail alike and take the same time (a hash is always checked). Attempts
    /// are limited per account and per client address before any hashing, alike whether or not
    /// the account exists.
    pub async fn login(
        &self,
        scope: &Scope,
        email: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<Authentication> {
        let client = client.behind(&self.deps.settings.trusted_proxies);
        let result = self.check_login(scope, email, password, client).await;
        let outcome = match &result {
            Ok(_) => "success".into(),
            Err(error) => error.reason(),
        };
        self.deps.metrics.sign_in(&outcome);
        result
    }

    async fn check_login(
        &self,
        scope: &Scope,
        email: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<Authentication> {
        let invalid = || Error::Unauthenticated(AuthFailure::InvalidCredentials);
        let email = Email::parse("email", email)?;
        self.limits
            .attempt(scope.environment_id(), email.as_str(), client.address())?;
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(invalid());
        }
        let row = users::find_row_by_email(&self.deps.db, scope, email.as_str()).await?;
        let hash = row
            .as_ref()
            .and_then(|r| r.password_hash.clone())
            .unwrap_or_else(|| password::dummy_hash().to_owned());
        let matches = self.deps.hasher.verify(Password::new(password), hash).await?;
        let row = match row {
            Some(row) if matches && row.password_hash.is_some() => row,
            _ => return Err(invalid()),
        };
        // The password was right: now the user's state may be told.
        if let Some(refusal) = refusal(&row) {
            return Err(refusal);
        }
        self.open_session(None, scope, &row.id, client, self.deps.now())
            .await
    }

    /// Signs `user_id` in: records the login, starts a session in the user's current tenant and
    /// issues its first tokens, in `txn` if given (which the caller commits), else on its own. The
    /// user's state is checked again as it is written: a lock that landed while a password was
    /// being checked must not be outlived by the session opened here.
    pub(crate) async fn open_session(
        &self,
        txn: Option<&DatabaseTransaction>,
        scope: &Scope,
        user_id: &str,
        client: ClientInfo,
        now: DateTime<Utc>,
    ) -> Result<Authentication> {
        let client = client.behind(&self.deps.settings.trusted_proxies);
        let session_id = uuid::Uuid::new_v4().to_string();
        let refresh_token = secret::random_token();
        let opening = Opening {
            scope,
            user_id,
            session_id: &session_id,
            user_agent: client.user_agent,
            ip: client.ip,
            now,
            expires_at: now + Duration::seconds(scope.environment().settings.refresh_token_ttl_secs),
            refresh_token_hash: secret::digest(&refresh_token),
        };
        let opened = match txn {
            Some(txn) => sessions::open(txn, opening).await?,
            None => sessions::open_alone(&self.deps.db, opening).await?,
        };
        let Some(user) = opened else {
            // Nothing was written; tell why from the user as it is now.
            let row = match txn {
                Some(txn) => users::find_row(txn, scope, user_id).await?,
                None => users::find_row(&self.deps.db, scope, user_id).await?,
            };
            return Err(row
                .as_ref()
                .and_then(refusal)
                .unwrap_or(Error::Unauthenticated(AuthFailure::InvalidCredentials)));
        };
        let tenant_id = user.active_tenant_id.as_deref().unwrap_or_default();
        let (access_token, expires_at) =
            self.tokens
                .issue(scope.environment(), &user, &session_id, tenant_id, now)?;
        self.deps.metrics.token_issued(TokenKind::Refresh);
        Ok(Authentication {
            access_token: Secret::new(access_token),
            refresh_token: Secret::new(refresh_token),
            expires_in: (expires_at - now).num_seconds(),
            expires_at,
            user_id: user.id.clone(),
            user_email: user.email.clone(),
            email_verified: user.verified,
        })
    }

    /// Exchanges a refresh token for new tokens. Each refresh token works once: presenting a used
    /// one again revokes its whole session, since one of the two presenters is not its owner.
    pub async fn refresh(&self, scope: &Scope, refresh_token: &str) -> Result<Authentication> {
        let now = self.deps.now();
        let token_hash = secret::digest(refresh_token);
        let next_token = secret::random_token();
        let next = NextToken {
            token_hash: secret::digest(&next_token),
            expires_at: now + Duration::seconds(scope.environment().settings.refresh_token_ttl_secs),
        };
        let rotated = if self.deps.db.get_database_backend() == DbBackend::Postgres {
            sessions::rotate_on_postgres(&self.deps.db, scope, &token_hash, &next, now).await?
        } else {
            self.rotate(scope, &token_hash, &next, now).await?
        };
        let Some(rotated) = rotated else {
            return Err(self.refused_refresh(scope, &token_hash, now).await);
        };
        let tenant_id = rotated.tenant_id.unwrap_or_default();
        let (access_token, expires_at) = self.tokens.issue(
            scope.environment(),
            &rotated.user,
            &rotated.session_id,
            &tenant_id,
            now,
        )?;
        self.deps.metrics.token_issued(TokenKind::Refresh);
        Ok(Authentication {
            access_token: Secret::new(access_token),
            refresh_token: Secret::new(next_token),
            expires_in: (expires_at - now).num_seconds(),
            expires_at,
            user_id: rotated.user.id.clone(),
            user_email: rotated.user.email.clone(),
            email_verified: rotated.user.verified,
        })
    }

    /// The portable form of [`sessions::rotate_on_postgres`]: the same checks and writes, in one
    /// transaction of several statements.
    async fn rotate(
        &self,
        scope: &Scope,
        token_hash: &str,
        next: &NextToken,
        now: DateTime<Utc>,
    ) -> Result<Option<Rotated>> {
        let txn = store::begin(&self.deps.db).await?;
        let Some(token) = sessions::use_refresh_token(&txn, token_hash, now).await? else {
            return Ok(None);
        };
        let Some((session, user)) = sessions::with_user(&txn, scope, &token.session_id).await? else {
            return Ok(None);
        };
        let live = session.revoked_at.is_none()
            && session.expires_at > now
            && token.expires_at > now
            && !user.locked;
        if !live {
            // Dropping the transaction rolls the token's use back.
            return Ok(None);
        }
        let user = users::complete(&txn, user).await?;
        sessions::touch(&txn, &session.id, now, next.expires_at).await?;
        sessions::insert_refresh_token(&txn, &session.id, next.token_hash.clone(), now, next.expires_at)
            .await?;
        txn.commit().await?;
        Ok(Some(Rotated {
            session_id: session.id,
            tenant_id: session.tenant_id,
            user,
        }))
    }

    /// Why a refresh token was refused. A used token of a live session is a replay: the session
    /// is revoked.
    async fn refused_refresh(&self, scope: &Scope, token_hash: &str, now: DateTime<Utc>) -> Error {
        let outcome = async {
            let invalid = Error::Unauthenticated(AuthFailure::InvalidToken);
            let txn = store::begin(&self.deps.db).await?;
            let Some((token, session)) = sessions::find_refresh_token(&txn, scope, token_hash).await? else {
                return Ok(invalid);
            };
            if session.revoked_at.is_some() {
                return Ok(Error::Unauthenticated(AuthFailure::SessionRevoked));
            }
            if token.used_at.is_none() {
                // Unused: the token or its session expired, or the user is locked.
                let locked = users::find_row(&txn, scope, &session.user_id)
                    .await?
                    .is_some_and(|u| u.locked);
                return Ok(if locked {
                    Error::PermissionDenied {
                        reason: "USER_LOCKED",
                        message: "the user is locked",
                    }
                } else {
                    invalid
                });
            }
            self.deps
                .revoke_sessions(&txn, scope, Sessions::Id(&session.id), now)
                .await?;
            txn.commit().await?;
            self.deps.revocations_changed().await;
            tracing::warn!(session_id = %session.id, "a refresh token was replayed; the session is revoked");
            Ok::<_, Error>(Error::Unauthenticated(AuthFailure::TokenReused))
        };
        outcome.await.unwrap_or_else(|error| error)
    }

    /// Ends the session of a refresh token. Ending an ended session is not an error.
    pub async fn logout(&self, scope: &Scope, refresh_token: &str) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        let Some((_, session)) =
            sessions::find_refresh_token(&txn, scope, &secret::digest(refresh_token)).await?
        else {
            return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
        };
        self.end_session(txn, scope, &session.id).await
    }

    /// Ends the session of a valid access token.
    pub async fn logout_access_token(&self, scope: &Scope, access_token: &str) -> Result<()> {
        let claims = self.tokens.validate(scope.environment_id(), access_token).await?;
        let txn = store::begin(&self.deps.db).await?;
        self.end_session(txn, scope, &claims.sid).await
    }

    async fn end_session(&self, txn: sea_orm::DatabaseTransaction, scope: &Scope, id: &str) -> Result<()> {
        let now = self.deps.now();
        self.deps
            .revoke_sessions(&txn, scope, Sessions::Id(id), now)
            .await?;
        txn.commit().await?;
        self.deps.revocations_changed().await;
        Ok(())
    }
}

/// Why a user whose credentials are right may not sign in, if it may not.
fn refusal(row: &UserRow) -> Option<Error> {
    let (reason, message) = if row.locked {
        ("USER_LOCKED", "the user is locked")
    } else if !row.activated {
        ("USER_NOT_ACTIVATED", "the user has not activated the account")
    } else if row.active_tenant_id.is_none() {
        ("USER_HAS_NO_TENANT", "the user belongs to no tenant")
    } else {
        return None;
    };
    Some(Error::PermissionDenied { reason, message })
}

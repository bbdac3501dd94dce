//! Sign-in: password login, refresh-token rotation with reuse detection, and logout.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseTransaction, DbBackend};

use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use super::{Deps, limits::SignInLimits, tokens::Tokens};
use crate::telemetry::metrics::TokenKind;
use crate::{
    domain::{
        Error,
        configuration::AuthStrategy,
        email::Email,
        error::{AuthFailure, Result},
        password::{self, Password},
        role::Access,
        scope::Scope,
        secret::{self, Secret},
        session::{Authentication, ClientInfo},
    },
    store::{
        self, roles,
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
        let identity = &scope.environment().identity;
        // Said before any check of the user: it is the environment's choice, the same for all.
        if identity.auth_strategy != AuthStrategy::EmailAndPassword {
            return Err(Error::PermissionDenied {
                reason: "PASSWORD_SIGN_IN_DISABLED",
                message: "the environment does not sign users in with a password",
            });
        }
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
        if !row.verified && !identity.allow_not_verified_users_login {
            return Err(Error::PermissionDenied {
                reason: "USER_NOT_VERIFIED",
                message: "the user's email is not verified",
            });
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
        let group_roles = scope.environment().groups.roles_inherited();
        let opening = Opening {
            scope,
            user_id,
            session_id: &session_id,
            user_agent: client.user_agent,
            ip: client.ip,
            now,
            expires_at: now + Duration::seconds(scope.environment().settings.refresh_token_ttl_secs),
            refresh_token_hash: secret::digest(&refresh_token),
            group_roles,
        };
        let opened = match txn {
            Some(txn) => sessions::open(txn, opening).await?,
            None => sessions::open_alone(&self.deps.db, opening).await?,
        };
        let Some((user, access)) = opened else {
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
                .issue(scope.environment(), &user, &access, &session_id, tenant_id, now)?;
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

    /// Exchanges a refresh token for new tokens. Each refresh token is exchanged once; presented
    /// again within the grace window (a second tab, a retry after a lost response), it gets the
    /// same new pair; later, it revokes its whole session, since one of the two presenters is not
    /// its owner. A session ends at its absolute lifetime, however often it is refreshed.
    pub async fn refresh(&self, scope: &Scope, refresh_token: &str) -> Result<Authentication> {
        let now = self.deps.now();
        let token_hash = secret::digest(refresh_token);
        let next_token = secret::random_token();
        let next = NextToken {
            token_hash: secret::digest(&next_token),
            sealed: seal_successor(refresh_token, &next_token)?,
            expires_at: now + Duration::seconds(scope.environment().settings.refresh_token_ttl_secs),
            opened_after: self.opened_after(now),
        };
        let rotated = if self.deps.db.get_database_backend() == DbBackend::Postgres {
            let group_roles = scope.environment().groups.roles_inherited();
            sessions::rotate_on_postgres(&self.deps.db, scope, &token_hash, &next, now, group_roles).await?
        } else {
            self.rotate(scope, &token_hash, &next, now).await?
        };
        match rotated {
            Some(rotated) => self.rotated(scope, rotated, next_token, now, now),
            None => self.refused_refresh(scope, refresh_token, &token_hash, now).await,
        }
    }

    /// Sessions opened at or before this instant have reached their absolute lifetime at `now`.
    /// Never before 1970, so that a lifetime of centuries stays within every database's range.
    fn opened_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        Duration::from_std(self.deps.settings.session_max_lifetime)
            .ok()
            .and_then(|lifetime| now.checked_sub_signed(lifetime))
            .unwrap_or(DateTime::UNIX_EPOCH)
            .max(DateTime::UNIX_EPOCH)
    }

    /// The answer to a rotation into `next_token` done at `rotated_at`: its access token has an
    /// id derived from the new refresh token and is issued at the rotation, so answering the same
    /// rotation again gives the same token.
    fn rotated(
        &self,
        scope: &Scope,
        rotated: Rotated,
        next_token: String,
        rotated_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Authentication> {
        let tenant_id = rotated.tenant_id.unwrap_or_default();
        let (access_token, expires_at) = self.tokens.issue_as(
            scope.environment(),
            &rotated.user,
            &rotated.access,
            &rotated.session_id,
            &tenant_id,
            rotated_at,
            access_token_id(&next_token),
        )?;
        self.deps.metrics.token_issued(TokenKind::Refresh);
        Ok(Authentication {
            access_token: Secret::new(access_token),
            refresh_token: Secret::new(next_token),
            expires_in: (expires_at - now).num_seconds().max(0),
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
        let Some(token) = sessions::use_refresh_token(&txn, token_hash, &next.sealed, now).await? else {
            return Ok(None);
        };
        let Some((session, user)) = sessions::with_user(&txn, scope, &token.session_id).await? else {
            return Ok(None);
        };
        let live = session.revoked_at.is_none()
            && session.expires_at > now
            && session.created_at > next.opened_after
            && token.expires_at > now
            && !user.locked;
        if !live {
            // Dropping the transaction rolls the token's use back.
            return Ok(None);
        }
        let user = users::complete(&txn, user).await?;
        // Read afresh at each refresh, so a change of roles reaches the next access token.
        let access = match &session.tenant_id {
            Some(tenant_id) => {
                let group_roles = scope.environment().groups.roles_inherited();
                roles::access(&txn, scope, &user.id, tenant_id, group_roles).await?
            }
            None => Access::default(),
        };
        let ends_at = session
            .created_at
            .checked_add_signed(now - next.opened_after)
            .unwrap_or(next.expires_at);
        let expires_at = next.expires_at.min(ends_at);
        sessions::touch(&txn, &session.id, now, expires_at).await?;
        sessions::insert_refresh_token(&txn, &session.id, next.token_hash.clone(), now, expires_at).await?;
        txn.commit().await?;
        Ok(Some(Rotated {
            session_id: session.id,
            tenant_id: session.tenant_id,
            user,
            access,
        }))
    }

    /// A refresh token that could not be exchanged: the same pair again if it was exchanged
    /// within the grace window; else why it was refused. A used token of a live session past the
    /// window is a replay: the session is revoked.
    async fn refused_refresh(
        &self,
        scope: &Scope,
        refresh_token: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Authentication> {
        let db = &self.deps.db;
        let invalid = Error::Unauthenticated(AuthFailure::InvalidToken);
        let Some((token, session)) = sessions::find_refresh_token(db, scope, token_hash).await? else {
            return Err(invalid);
        };
        if session.revoked_at.is_some() {
            return Err(Error::Unauthenticated(AuthFailure::SessionRevoked));
        }
        let locked = || async {
            let row = users::find_row(db, scope, &session.user_id).await?;
            Ok::<_, Error>(row.is_some_and(|u| u.locked))
        };
        let user_locked = Error::PermissionDenied {
            reason: "USER_LOCKED",
            message: "the user is locked",
        };
        let Some(used_at) = token.used_at else {
            // Unused: the token or its session expired, or the user is locked.
            if locked().await? {
                return Err(user_locked);
            }
            if session.created_at <= self.opened_after(now) {
                return Err(Error::Unauthenticated(AuthFailure::SessionExpired));
            }
            return Err(invalid);
        };
        let grace = Duration::from_std(self.deps.settings.refresh_grace).unwrap_or(Duration::MAX);
        if now - used_at <= grace {
            if session.expires_at <= now || session.created_at <= self.opened_after(now) {
                return Err(Error::Unauthenticated(AuthFailure::SessionExpired));
            }
            if let Some(successor) = token
                .successor
                .as_deref()
                .and_then(|sealed| open_successor(refresh_token, sealed))
            {
                return match sessions::with_user(db, scope, &session.id).await? {
                    Some((_, user)) if user.locked => Err(user_locked),
                    Some((session, user)) => {
                        let user = users::complete(db, user).await?;
                        let access = match &session.tenant_id {
                            Some(tenant_id) => {
                                let group_roles = scope.environment().groups.roles_inherited();
                                roles::access(db, scope, &user.id, tenant_id, group_roles).await?
                            }
                            None => Access::default(),
                        };
                        let rotated = Rotated {
                            session_id: session.id,
                            tenant_id: session.tenant_id,
                            user,
                            access,
                        };
                        self.rotated(scope, rotated, successor, used_at, now)
                    }
                    None => Err(invalid),
                };
            }
        }
        let txn = store::begin(db).await?;
        self.deps
            .revoke_sessions(&txn, scope, Sessions::Id(&session.id), now)
            .await?;
        txn.commit().await?;
        self.deps.revocations_changed().await;
        tracing::warn!(session_id = %session.id, "a refresh token was replayed; the session is revoked");
        Err(Error::Unauthenticated(AuthFailure::TokenReused))
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

/// The key that seals the successor of a refresh token: derived from the token itself, which the
/// database does not keep (only its SHA-256, from which this cannot be derived). Each token is
/// exchanged once, so each key seals one message.
fn successor_key(presented: &str) -> Result<LessSafeKey> {
    let key = Sha256::new()
        .chain_update(b"sigil refresh-token successor\0")
        .chain_update(presented.as_bytes())
        .finalize();
    let key = UnboundKey::new(&AES_256_GCM, &key)
        .map_err(|_| Error::internal(anyhow::anyhow!("cannot make a sealing key")))?;
    Ok(LessSafeKey::new(key))
}

/// `successor` sealed for whoever holds `presented`.
fn seal_successor(presented: &str, successor: &str) -> Result<String> {
    let mut sealed = successor.as_bytes().to_vec();
    successor_key(presented)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key([0; NONCE_LEN]),
            Aad::empty(),
            &mut sealed,
        )
        .map_err(|_| Error::internal(anyhow::anyhow!("sealing a refresh token failed")))?;
    Ok(URL_SAFE_NO_PAD.encode(sealed))
}

/// What [`seal_successor`] sealed, opened with the token presented; `None` if it does not open.
fn open_successor(presented: &str, sealed: &str) -> Option<String> {
    let mut bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let opened = successor_key(presented)
        .ok()?
        .open_in_place(
            Nonce::assume_unique_for_key([0; NONCE_LEN]),
            Aad::empty(),
            &mut bytes,
        )
        .ok()?;
    String::from_utf8(opened.to_vec()).ok()
}

/// The `jti` of the access token issued beside refresh token `token`.
fn access_token_id(token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"sigil access-token id\0")
        .chain_update(token.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successor_opens_only_with_the_token_it_was_sealed_for() {
        let sealed = seal_successor("old-token", "new-token").unwrap();
        assert!(!sealed.contains("new-token"));
        assert_eq!(open_successor("old-token", &sealed).as_deref(), Some("new-token"));
        assert_eq!(open_successor("other-token", &sealed), None);
        assert_eq!(open_successor("old-token", "garbage"), None);
    }

    #[test]
    fn access_token_ids_are_fixed_by_the_refresh_token() {
        assert_eq!(access_token_id("a"), access_token_id("a"));
        assert_ne!(access_token_id("a"), access_token_id("b"));
        assert!(uuid::Uuid::parse_str(&access_token_id("a")).is_ok());
    }
}

//! Access tokens: what they carry, how they are issued, and how other services validate them.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    Deps,
    keys::{Audience, Jwk, Registered},
};
use crate::domain::{
    Error,
    environment::Environment,
    error::{AuthFailure, Result},
    role::Access,
    scope::Scope,
    user::User,
};
use crate::telemetry::metrics::TokenKind;

/// The `type` claim of user access tokens.
pub const USER_TOKEN: &str = "userToken";

/// The claims of an access token, named as Frontegg's SDKs read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: sigil's public URL.
    pub iss: String,
    /// Audience: the environment's id.
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// The session's id.
    pub sid: String,
    /// This token's own id.
    pub jti: String,
    /// Always [`USER_TOKEN`].
    #[serde(rename = "type")]
    pub token_type: String,
    /// The user's email.
    pub email: String,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// The user's display name.
    pub name: String,
    /// The tenant the session is in.
    #[serde(rename = "tenantId")]
    pub tenant_id: String,
    /// Every tenant of the user.
    #[serde(rename = "tenantIds")]
    pub tenant_ids: Vec<String>,
    /// Role keys in the tenant; left out when the environment's `addRolesToJwt` is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Permission keys in the tenant; left out when the environment's `addPermissionsToJwt` is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// The user's metadata object.
    pub metadata: serde_json::Value,
    /// The user's profile picture; null when it has none (Frontegg's tokens always carry it).
    #[serde(rename = "profilePictureUrl", default)]
    pub profile_picture_url: Option<String>,
    /// The application signed in to. Frontegg's SDKs require it (its FastAPI integration refuses
    /// a token without it); sigil has one application per environment, named by the
    /// environment's id.
    #[serde(rename = "applicationId")]
    pub application_id: String,
}

impl Registered for AccessClaims {
    fn exp(&self) -> i64 {
        self.exp
    }

    fn iss(&self) -> &str {
        &self.iss
    }

    fn aud(&self) -> &str {
        &self.aud
    }
}

/// Most verified tokens remembered; past this the memory is emptied and refills.
const CACHE_CAPACITY: usize = 8192;

/// Access tokens already verified, by the SHA-256 of the whole token. A service mesh validates
/// the same token on every request of a session, and its signature needs checking only once:
/// expiry and revocation are still checked on every call.
#[derive(Default)]
struct Verified {
    tokens: RwLock<HashMap<[u8; 32], Arc<Checked>>>,
}

/// The environment whose key signed a token, and the token's claims.
type Checked = (String, AccessClaims);

impl Verified {
    fn get(&self, key: &[u8; 32]) -> Option<Arc<Checked>> {
        self.tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn insert(&self, key: [u8; 32], environment_id: String, claims: AccessClaims) {
        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= CACHE_CAPACITY {
            tokens.clear();
        }
        tokens.insert(key, Arc::new((environment_id, claims)));
    }
}

/// Issues and validates access tokens.
#[derive(Clone)]
pub struct Tokens {
    deps: Deps,
    verified: Arc<Verified>,
}

impl Tokens {
    pub(super) fn new(deps: Deps) -> Self {
        Self {
            deps,
            verified: Arc::default(),
        }
    }

    /// Signs an access token for `user`, with `access` (its roles and permissions in the tenant),
    /// in session `sid` and tenant `tenant_id`.
    pub fn issue(
        &self,
        environment: &Environment,
        user: &User,
        access: &Access,
        sid: &str,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>)> {
        let jti = uuid::Uuid::new_v4().to_string();
        self.issue_as(environment, user, access, sid, tenant_id, now, jti)
    }

    /// Signs an access token as [`Tokens::issue`] does, with the given id, issued at `now`: the
    /// same arguments (and signing key) give the same token, as RS256 signatures are
    /// deterministic.
    #[allow(clippy::too_many_arguments)]
    pub fn issue_as(
        &self,
        environment: &Environment,
        user: &User,
        access: &Access,
        sid: &str,
        tenant_id: &str,
        now: DateTime<Utc>,
        jti: String,
    ) -> Result<(String, DateTime<Utc>)> {
        let expires_at = now + Duration::seconds(environment.settings.access_token_ttl_secs);
        let metadata = user
            .profile
            .metadata
            .as_deref()
            .and_then(|raw| serde_json::from_str(raw).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        let claims = AccessClaims {
            iss: self.deps.keys.issuer().to_owned(),
            aud: environment.id.clone(),
            sub: user.id.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            sid: sid.to_owned(),
            jti,
            token_type: USER_TOKEN.to_owned(),
            email: user.email.clone(),
            email_verified: user.verified,
            name: user.profile.name.clone().unwrap_or_default(),
            tenant_id: tenant_id.to_owned(),
            tenant_ids: user.tenants.iter().map(|m| m.tenant_id.clone()).collect(),
            roles: environment
                .identity
                .add_roles_to_jwt
                .then(|| access.roles.clone()),
            permissions: environment
                .identity
                .add_permissions_to_jwt
                .then(|| access.permissions.clone()),
            metadata,
            profile_picture_url: user.profile.profile_picture_url.clone(),
            application_id: environment.id.clone(),
        };
        let token = self.deps.keys.sign(&environment.id, &claims)?;
        self.deps.metrics.token_issued(TokenKind::Access);
        Ok((token, expires_at))
    }

    /// The claims of a valid access token of `environment_id`: genuine signature, this issuer,
    /// addressed to the environment, unexpired, and of a session not revoked. Answers from memory;
    /// UNAVAILABLE when the revocations in memory are older than the staleness bound.
    pub async fn validate(&self, environment_id: &str, token: &str) -> Result<AccessClaims> {
        let checked = self.signed(token).await?;
        let (signed_by, claims) = &*checked;
        if signed_by != environment_id {
            return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
        }
        self.live(claims)?;
        Ok(claims.clone())
    }

    /// The role and permission keys the holder of a token with `claims` has in its tenant: the
    /// token's own, or, for a list the token leaves out (the environment's `addRolesToJwt` or
    /// `addPermissionsToJwt` off), as they are now in the store.
    pub async fn access_of(&self, scope: &Scope, claims: &AccessClaims) -> Result<Access> {
        if let (Some(roles), Some(permissions)) = (&claims.roles, &claims.permissions) {
            return Ok(Access {
                roles: roles.clone(),
                permissions: permissions.clone(),
            });
        }
        let stored = if claims.tenant_id.is_empty() {
            Access::default()
        } else {
            let db = &self.deps.db;
            let group_roles = scope.environment().groups.roles_inherited();
            crate::store::roles::access(db, scope, &claims.sub, &claims.tenant_id, group_roles).await?
        };
        Ok(Access {
            roles: claims.roles.clone().unwrap_or(stored.roles),
            permissions: claims.permissions.clone().unwrap_or(stored.permissions),
        })
    }

    /// The environment whose key signed a valid access token, and the token's claims: the checks
    /// of [`Tokens::validate`], for a caller that does not know the environment beforehand.
    pub async fn validate_signed(&self, token: &str) -> Result<(String, AccessClaims)> {
        let checked = self.signed(token).await?;
        self.live(&checked.1)?;
        Ok((*checked).clone())
    }

    /// A user token with a genuine signature, from memory when it was verified before.
    async fn signed(&self, token: &str) -> Result<Arc<Checked>> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let verified = match self.verified.get(&key) {
            Some(hit) => hit,
            None => {
                let verified = self
                    .deps
                    .keys
                    .verify::<AccessClaims>(token, Audience::SigningEnvironment)
                    .await
                    .map_err(Error::Unauthenticated)?;
                if verified.claims.token_type != USER_TOKEN {
                    return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
                }
                self.verified
                    .insert(key, verified.environment_id.clone(), verified.claims.clone());
                Arc::new((verified.environment_id, verified.claims))
            }
        };
        Ok(verified)
    }

    /// Refuses the claims of an expired token or of a revoked session.
    fn live(&self, claims: &AccessClaims) -> Result<()> {
        if claims.exp <= self.deps.clock.now().timestamp() {
            return Err(Error::Unauthenticated(AuthFailure::ExpiredToken));
        }
        // Fail closed: a set of revocations not read for too long may miss this session's.
        self.deps.revocations.ensure_fresh()?;
        if self.deps.revocations.is_revoked(&claims.sid) {
            return Err(Error::Unauthenticated(AuthFailure::SessionRevoked));
        }
        Ok(())
    }

    /// The PEM of the key that signs the environment's access tokens now.
    pub fn signing_key_pem(&self, environment_id: &str) -> Result<String> {
        self.deps.keys.signing_key_pem(environment_id).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("environment {environment_id} has no signing key"))
        })
    }

    /// The public keys of the environment, the signing key first.
    pub fn jwks(&self, environment_id: &str) -> Vec<Jwk> {
        self.deps.keys.jwks(environment_id)
    }
}

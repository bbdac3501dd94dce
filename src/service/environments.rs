//! Environment credentials: bootstrap at start, authentication, and environment tokens.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use super::{
    Deps,
    keys::{Audience, Registered},
};
use crate::telemetry::metrics::TokenKind;
use crate::{
    domain::{
        Error,
        environment::{Environment, EnvironmentSettings},
        error::{AuthFailure, Result},
        password::{self, Password},
        scope::Scope,
        secret::{self, Secret},
    },
    store,
};

/// Audience of environment tokens, so no other kind of token is accepted in their place.
const AUDIENCE: &str = "sigil:environment";

/// Credentials generated on a first start without configured ones.
#[derive(Debug, Clone)]
pub struct GeneratedCredentials {
    /// The new client id.
    pub client_id: String,
    /// The new secret; shown once, stored only as a hash.
    pub secret: Secret,
}

/// A signed environment token.
#[derive(Debug, Clone)]
pub struct EnvironmentToken {
    /// The token.
    pub token: Secret,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// Claims of an environment token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EnvironmentClaims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    exp: i64,
    jti: String,
    #[serde(rename = "type")]
    token_type: String,
}

impl Registered for EnvironmentClaims {
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

const TOKEN_TYPE: &str = "environment";

/// How long the environments read from the database serve public requests before a re-read.
const CACHE_TTL: Duration = Duration::from_secs(10);

struct Cached {
    loaded: Instant,
    all: Arc<Vec<Environment>>,
}

/// Environment credentials and tokens.
#[derive(Clone)]
pub struct Environments {
    deps: Deps,
    cache: Arc<RwLock<Option<Cached>>>,
}

impl Environments {
    pub(super) fn new(deps: Deps) -> Self {
        Self {
            deps,
            cache: Arc::default(),
        }
    }

    /// Every environment, from a cache refreshed every few seconds, so that public requests
    /// (token validation above all) need no database round trip.
    async fn all(&self) -> Result<Arc<Vec<Environment>>> {
        {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            if let Some(cached) = cache.as_ref().filter(|c| c.loaded.elapsed() < CACHE_TTL) {
                return Ok(cached.all.clone());
            }
        }
        let all = Arc::new(store::environments::list(&self.deps.db).await?);
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
            loaded: Instant::now(),
            all: all.clone(),
        });
        Ok(all)
    }

    /// Makes the default environment exist with the configured credentials: creates it, or
    /// updates its client id and secret when they changed, and gives every environment a current
    /// signing key. Without configured credentials a first start generates them and returns them
    /// so they can be shown once; later starts keep what is stored. Replicas starting together
    /// take turns on a lock, so only the first creates the environment (or generates credentials)
    /// and the others find it.
    pub async fn bootstrap(
        &self,
        configured: Option<(String, Secret)>,
    ) -> Result<Option<GeneratedCredentials>> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        store::serialize(&txn, store::Lock::Bootstrap).await?;
        let existing = store::environments::find_default(&txn).await?;
        let generated = match (existing, configured) {
            (Some(env), Some((client_id, secret))) => {
                let same_secret = self
                    .deps
                    .hasher
                    .verify(Password::new(secret.expose()), env.secret_hash.clone())
                    .await?;
                if env.client_id != client_id || !same_secret {
                    let hash = self.deps.hasher.hash(Password::new(secret.expose())).await?;
                    store::environments::set_credentials(&txn, &env.id, &client_id, &hash, now).await?;
                    tracing::info!(environment_id = %env.id, "updated the environment's credentials");
                }
                None
            }
            (Some(_), None) => None,
            (None, configured) => {
                let (client_id, secret, generated) = match configured {
                    Some((client_id, secret)) => (client_id, secret, false),
                    None => (
                        uuid::Uuid::new_v4().to_string(),
                        Secret::new(secret::random_token()),
                        true,
                    ),
                };
                let env = Environment {
                    id: uuid::Uuid::new_v4().to_string(),
                    client_id: client_id.clone(),
                    secret_hash: self.deps.hasher.hash(Password::new(secret.expose())).await?,
                    host: None,
                    settings: EnvironmentSettings::default(),
                };
                store::environments::insert(&txn, &env, now).await?;
                tracing::info!(environment_id = %env.id, "created the environment");
                generated.then_some(GeneratedCredentials { client_id, secret })
            }
        };
        txn.commit().await?;
        for env in store::environments::list(&self.deps.db).await? {
            self.deps.keys.ensure_current(&env).await?;
        }
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(generated)
    }

    /// Exchanges client credentials for an environment token. A wrong client id and a wrong
    /// secret fail alike, in the same time.
    pub async fn authenticate(&self, client_id: &str, secret: &str) -> Result<EnvironmentToken> {
        let unauthenticated = Error::Unauthenticated(AuthFailure::InvalidCredentials);
        let env = store::environments::find_by_client_id(&self.deps.db, client_id).await?;
        // Without an environment, check against a dummy hash so the miss costs a full verification.
        let hash = env
            .as_ref()
            .map_or_else(|| password::dummy_hash().to_owned(), |e| e.secret_hash.clone());
        let matches = self.deps.hasher.verify(Password::new(secret), hash).await?;
        let env = match env {
            Some(env) if matches => env,
            _ => return Err(unauthenticated),
        };
        let now = self.deps.now();
        let ttl = self.deps.settings.environment_token_ttl.as_secs() as i64;
        let claims = EnvironmentClaims {
            iss: self.deps.keys.issuer().to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: env.id.clone(),
            iat: now.timestamp(),
            exp: now.timestamp() + ttl,
            jti: uuid::Uuid::new_v4().to_string(),
            token_type: TOKEN_TYPE.to_owned(),
        };
        let token = self.deps.keys.sign(&env.id, &claims)?;
        self.deps.metrics.token_issued(TokenKind::Environment);
        Ok(EnvironmentToken {
            token: Secret::new(token),
            expires_in: ttl,
        })
    }

    /// The environment `id`, from the cache.
    pub async fn get(&self, id: &str) -> Result<Environment> {
        self.all()
            .await?
            .iter()
            .find(|e| e.id == id)
            .cloned()
            .ok_or(Error::NotFound(crate::domain::Resource::Environment))
    }

    /// The scope of a public request: the environment whose vendor host is `host`, else the
    /// default environment.
    pub async fn resolve(&self, host: Option<&str>) -> Result<Scope> {
        let all = self.all().await?;
        let by_host = host
            .filter(|h| !h.is_empty())
            .and_then(|host| all.iter().find(|e| e.host.as_deref() == Some(host)));
        by_host
            .or_else(|| all.iter().find(|e| e.host.is_none()))
            .cloned()
            .map(Scope::authenticated)
            .ok_or(Error::NotFound(crate::domain::Resource::Environment))
    }

    /// The scope of an environment token: the environment it was issued to, if the token is
    /// genuine and current and the environment still exists.
    pub async fn verify_token(&self, token: &str) -> Result<Scope> {
        let verified = self
            .deps
            .keys
            .verify::<EnvironmentClaims>(token, Audience::Fixed(AUDIENCE))
            .await
            .map_err(Error::Unauthenticated)?;
        if verified.claims.token_type != TOKEN_TYPE || verified.claims.sub != verified.environment_id {
            return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
        }
        match self.get(&verified.environment_id).await {
            Ok(environment) => Ok(Scope::authenticated(environment)),
            Err(Error::NotFound(_)) => Err(Error::Unauthenticated(AuthFailure::InvalidToken)),
            Err(error) => Err(error),
        }
    }
}

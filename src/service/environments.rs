//! Environments: bootstrap at start, authentication and environment tokens, and their
//! administration (create, list, rename, rotate the secret, delete), which the administration
//! RPC and `sigil environments` share.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Deps, Tokens,
    keys::{Audience, Registered},
    tokens::AccessClaims,
};
use crate::telemetry::metrics::TokenKind;
use crate::{
    domain::{
        Error,
        environment::{CreateEnvironment, Environment, EnvironmentSettings, UpdateEnvironment},
        error::{AuthFailure, Resource, Result},
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

/// An environment as its administrators see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AdministeredEnvironment {
    /// The environment.
    pub environment: Environment,
    /// Whether it serves the public requests that name no vendor host. It is the one
    /// `SIGIL_BOOTSTRAP_CLIENT_ID` and `SIGIL_BOOTSTRAP_SECRET` set at start, and can neither be
    /// deleted nor given a host.
    pub is_default: bool,
}

/// Reason of the refusal to delete the default environment, or to change which one it is.
pub const ENVIRONMENT_IS_DEFAULT: &str = "ENVIRONMENT_IS_DEFAULT";

fn default_is_fixed() -> Error {
    Error::FailedPrecondition {
        reason: ENVIRONMENT_IS_DEFAULT,
        message: "the default environment serves requests that name no vendor host: it cannot be \
                  deleted or given a host, and no other environment can take its place"
            .into(),
    }
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

pub const TOKEN_TYPE: &str = "environment";

/// How long the environments read from the database serve public requests before a re-read.
const CACHE_TTL: Duration = Duration::from_secs(10);

/// How long a replica whose database cannot be read keeps serving the environments it read last,
/// trying a re-read at most once a second meanwhile and waiting for it at most a quarter of a
/// second: token validation and environment tokens go on through a database outage, and requests
/// do not each wait for the database to fail first.
const OUTAGE_SERVE: Duration = Duration::from_secs(60);
const OUTAGE_RETRY: Duration = Duration::from_secs(1);
const OUTAGE_WAIT: Duration = Duration::from_millis(250);

struct Cached {
    /// When it was read, by the injected clock (so tests can age it).
    loaded: DateTime<Utc>,
    all: Arc<Vec<Arc<Environment>>>,
    /// When the last re-read failed for want of the database, if it did.
    failed: Option<DateTime<Utc>>,
}

impl Cached {
    fn age(&self, now: DateTime<Utc>) -> Option<Duration> {
        (now - self.loaded).to_std().ok()
    }
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
    async fn all(&self) -> Result<Arc<Vec<Arc<Environment>>>> {
        let now = self.deps.clock.now();
        let stale = 'cached: {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            let Some(cached) = cache.as_ref() else {
                break 'cached None;
            };
            let age = cached.age(now);
            if age.is_some_and(|age| age < CACHE_TTL) {
                return Ok(cached.all.clone());
            }
            let retry_later = cached
                .failed
                .and_then(|failed| (now - failed).to_std().ok())
                .is_some_and(|since| since < OUTAGE_RETRY);
            let usable = age.is_some_and(|age| age < OUTAGE_SERVE);
            if usable && retry_later {
                return Ok(cached.all.clone());
            }
            usable.then(|| cached.all.clone())
        };
        let Some(stale) = stale else {
            return self.reload().await;
        };
        // A re-read takes milliseconds; one still waiting for a connection after this long is
        // given up, so a request pays little more than its own wait for the database.
        let reason = match tokio::time::timeout(OUTAGE_WAIT, self.reload()).await {
            Ok(Err(Error::Unavailable(reason))) => reason,
            Err(_) => "no connection came in time",
            Ok(reloaded) => return reloaded,
        };
        tracing::warn!(
            reason,
            "the database cannot be read; serving the environments read last"
        );
        if let Some(cached) = self.cache.write().unwrap_or_else(|e| e.into_inner()).as_mut() {
            cached.failed = Some(now);
        }
        Ok(stale)
    }

    /// Reads every environment again. An environment created elsewhere (another replica, `sigil
    /// environments create`) gets the signing key made for it loaded here.
    async fn reload(&self) -> Result<Arc<Vec<Arc<Environment>>>> {
        let all: Arc<Vec<_>> = Arc::new(
            store::environments::list(&self.deps.db)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect(),
        );
        for environment in all.iter() {
            if !self.deps.keys.has_signer(&environment.id)
                && let Err(error) = self.deps.keys.ensure_current(environment).await
            {
                // Its tokens cannot be signed here yet; everything else still works.
                tracing::warn!(environment_id = %environment.id, error = %error, "loading an environment's signing key failed");
            }
        }
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
            loaded: self.deps.clock.now(),
            all: all.clone(),
            failed: None,
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
                    name: "default".into(),
                    client_id: client_id.clone(),
                    secret_hash: self.deps.hasher.hash(Password::new(secret.expose())).await?,
                    host: None,
                    settings: EnvironmentSettings::default(),
                    created_at: now,
                    updated_at: now,
                    secret_changed_at: None,
                    identity: Default::default(),
                    groups: Default::default(),
                };
                store::environments::insert(&txn, &env).await?;
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
        // An environment created a moment ago by another process: load the key made for it.
        if !self.deps.keys.has_signer(&env.id) {
            self.deps.keys.ensure_current(&env).await?;
        }
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

    /// The environment `id`, from the cache; one not found there is looked for again in the
    /// database, in case it was created a moment ago.
    pub async fn get(&self, id: &str) -> Result<Arc<Environment>> {
        let find = |all: &[Arc<Environment>]| all.iter().find(|e| e.id == id).cloned();
        if let Some(found) = find(&self.all().await?) {
            return Ok(found);
        }
        find(&self.reload().await?).ok_or(Error::NotFound(Resource::Environment))
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
            // A token obtained with a secret since replaced is refused.
            Ok(environment)
                if environment
                    .secret_changed_at
                    .is_some_and(|changed| verified.claims.iat < changed.timestamp()) =>
            {
                Err(Error::Unauthenticated(AuthFailure::InvalidToken))
            }
            Ok(environment) => Ok(Scope::authenticated(environment)),
            Err(Error::NotFound(_)) => Err(Error::Unauthenticated(AuthFailure::InvalidToken)),
            Err(error) => Err(error),
        }
    }
}

impl Environments {
    /// The scope of work the environment asked for earlier and that runs later without a
    /// request (a queued task): the environment, as its token would give it; NOT_FOUND once it
    /// is deleted.
    pub async fn background(&self, id: &str) -> Result<Scope> {
        Ok(Scope::authenticated(self.get(id).await?))
    }

    /// The scope of a user's access token: the environment whose key signed it, narrowed to the
    /// tenant of its session, with the token's claims; UNAUTHENTICATED for a token
    /// [`Tokens::validate_signed`] refuses or whose environment is gone.
    pub async fn verify_user_token(&self, tokens: &Tokens, token: &str) -> Result<(Scope, AccessClaims)> {
        let (environment_id, claims) = tokens.validate_signed(token).await?;
        match self.get(&environment_id).await {
            Ok(environment) => {
                let scope = Scope::authenticated(environment)
                    .in_tenant(claims.tenant_id.clone())
                    .as_user(claims.sub.clone());
                Ok((scope, claims))
            }
            Err(Error::NotFound(_)) => Err(Error::Unauthenticated(AuthFailure::InvalidToken)),
            Err(error) => Err(error),
        }
    }
}

/// Administration, shared by the administration RPC and `sigil environments`. The caller has
/// checked the administrator credential.
impl Environments {
    pub(super) fn forget_cached(&self) {
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    async fn administered(&self, environment: Environment) -> Result<AdministeredEnvironment> {
        let default = store::environments::find_default(&self.deps.db).await?;
        Ok(AdministeredEnvironment {
            is_default: default.is_some_and(|d| d.id == environment.id),
            environment,
        })
    }

    /// Creates an environment with a new secret and its own signing key. The secret is returned
    /// only now; only its hash is stored.
    pub async fn create(&self, request: CreateEnvironment) -> Result<(AdministeredEnvironment, Secret)> {
        let request = request.parse()?;
        let now = self.deps.now();
        let secret = Secret::new(secret::random_token());
        let environment = Environment {
            id: uuid::Uuid::new_v4().to_string(),
            name: request.name,
            client_id: request
                .client_id
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            secret_hash: self.deps.hasher.hash(Password::new(secret.expose())).await?,
            host: request.host,
            settings: EnvironmentSettings::default(),
            created_at: now,
            updated_at: now,
            secret_changed_at: None,
            identity: Default::default(),
            groups: Default::default(),
        };
        let txn = store::begin(&self.deps.db).await?;
        store::environments::insert(&txn, &environment).await?;
        txn.commit().await?;
        self.deps.keys.ensure_current(&environment).await?;
        self.forget_cached();
        tracing::info!(environment_id = %environment.id, "created an environment");
        Ok((self.administered(environment).await?, secret))
    }

    /// Every environment, oldest first, read from the database.
    pub async fn list(&self) -> Result<Vec<AdministeredEnvironment>> {
        let all = store::environments::list(&self.deps.db).await?;
        let default = all.iter().find(|e| e.host.is_none()).map(|e| e.id.clone());
        Ok(all
            .into_iter()
            .map(|environment| AdministeredEnvironment {
                is_default: default.as_deref() == Some(environment.id.as_str()),
                environment,
            })
            .collect())
    }

    /// The environment `id`, read from the database.
    pub async fn describe(&self, id: &str) -> Result<AdministeredEnvironment> {
        let environment = store::environments::find(&self.deps.db, id)
            .await?
            .ok_or(Error::NotFound(Resource::Environment))?;
        self.administered(environment).await
    }

    /// Renames an environment, or sets or removes its vendor host. Refused when it would change
    /// which environment is the default.
    pub async fn update(&self, id: &str, request: UpdateEnvironment) -> Result<AdministeredEnvironment> {
        let changes = request.parse()?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        store::serialize(&txn, store::Lock::Bootstrap).await?;
        let before = store::environments::find_default(&txn).await?.map(|e| e.id);
        if !store::environments::update(&txn, id, &changes, now).await? {
            return Err(Error::NotFound(Resource::Environment));
        }
        let after = store::environments::find_default(&txn).await?.map(|e| e.id);
        if before != after {
            return Err(default_is_fixed());
        }
        txn.commit().await?;
        self.forget_cached();
        tracing::info!(environment_id = %id, "updated an environment");
        self.describe(id).await
    }

    /// Gives an environment a new secret, returned only now. The old secret stops working at
    /// once, and so do the environment tokens obtained with it (on other replicas within the
    /// few seconds their cache of environments lives).
    pub async fn rotate_secret(&self, id: &str) -> Result<(AdministeredEnvironment, Secret)> {
        let secret = Secret::new(secret::random_token());
        let hash = self.deps.hasher.hash(Password::new(secret.expose())).await?;
        // Tokens carry their issue time in whole seconds: the change is recorded to the second,
        // so a token issued just after it is not mistaken for one issued before.
        let now = self.deps.now().trunc_subsecs(0);
        if !store::environments::set_secret(&self.deps.db, id, &hash, now).await? {
            return Err(Error::NotFound(Resource::Environment));
        }
        self.forget_cached();
        tracing::info!(environment_id = %id, "rotated an environment's secret");
        Ok((self.describe(id).await?, secret))
    }

    /// Deletes an environment with everything in it: signing keys, tenants, users, memberships,
    /// sessions and tokens. Its tokens stop validating at once here, and on other replicas
    /// within the few seconds their cache of environments lives. The default environment cannot
    /// be deleted.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        store::serialize(&txn, store::Lock::Bootstrap).await?;
        let default = store::environments::find_default(&txn).await?;
        if default.is_some_and(|d| d.id == id) {
            return Err(default_is_fixed());
        }
        if !store::environments::delete(&txn, id).await? {
            return Err(Error::NotFound(Resource::Environment));
        }
        txn.commit().await?;
        self.forget_cached();
        self.deps.keys.reload().await?;
        tracing::info!(environment_id = %id, "deleted an environment");
        Ok(())
    }
}

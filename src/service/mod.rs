//! Use cases. Each public method is one unit of work: it checks its input, runs in at most one
//! transaction, and returns domain types or a domain error.

pub mod activation;
pub mod bulk_roles;
pub mod cleanup;
pub mod configurations;
pub mod environments;
pub mod groups;
pub mod hasher;
pub mod keys;
pub mod limits;
pub mod mailer;
pub mod permissions;
pub mod policies;
pub mod revocations;
pub mod roles;
pub mod sign_in;
pub mod team;
pub mod tenants;
#[cfg(test)]
pub(crate) mod testing;
pub mod tokens;
pub mod users;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use url::Url;

use crate::{
    domain::{Clock, error::Result, scope::Scope},
    store::sessions::{self, Sessions},
    telemetry::metrics::Metrics,
};
pub use activation::Activation;
pub use bulk_roles::BulkRoles;
pub use configurations::Configurations;
pub use environments::Environments;
pub use groups::Groups;
pub use hasher::PasswordHasher;
pub use keys::KeyRing;
pub use mailer::Mailer;
pub use permissions::Permissions;
pub use policies::Policies;
pub use revocations::Revocations;
pub use roles::Roles;
pub use sign_in::SignIn;
pub use team::Team;
pub use tenants::Tenants;
pub use tokens::Tokens;
pub use users::Users;

/// Service-wide settings that come from configuration.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Issuer (`iss`) of every token sigil signs: its public base URL.
    pub issuer: String,
    /// Base URL of the application that links (activation, ...) lead to.
    pub app_url: Url,
    /// Lifetime of an environment token.
    pub environment_token_ttl: Duration,
    /// How long a signing key signs before a new one takes over by itself; `None`: only when
    /// rotated by hand.
    pub key_rotation: Option<Duration>,
    /// Sign-in attempts allowed per account.
    pub sign_in_limit_per_account: limits::RateLimit,
    /// Sign-in attempts allowed per client address.
    pub sign_in_limit_per_address: limits::RateLimit,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: crate::domain::session::TrustedProxies,
    /// How long after a refresh token's exchange presenting it again gets the same new pair.
    pub refresh_grace: Duration,
    /// How long a session lasts at most, however often it is refreshed.
    pub session_max_lifetime: Duration,
    /// Whether the refresh cookie is marked `Secure` (and so `SameSite=None`).
    pub cookie_secure: bool,
    /// Most tenants a bulk update of a user's roles updates within the request; more are queued
    /// as a task.
    pub bulk_roles_sync_limit: usize,
}

/// What every service needs. Cheap to clone.
#[derive(Clone)]
pub struct Deps {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Signing keys.
    pub keys: Arc<KeyRing>,
    /// Password hashing off the async runtime.
    pub hasher: PasswordHasher,
    /// Revoked sessions, known in memory.
    pub revocations: Arc<Revocations>,
    /// Outgoing messages.
    pub mailer: Arc<dyn Mailer>,
    /// Configuration.
    pub settings: Arc<ServiceSettings>,
    /// Counters of sign-ins and issued tokens.
    pub metrics: Arc<Metrics>,
}

impl Deps {
    /// The current time, to the microsecond: what every supported database stores, so a value
    /// returned from a write equals the value read back later.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// Revokes sessions inside the caller's transaction; they are remembered as revoked for as
    /// long as an access token of theirs could be valid. Call [`Deps::revocations_changed`] after
    /// the commit.
    pub async fn revoke_sessions(
        &self,
        db: &impl ConnectionTrait,
        scope: &Scope,
        which: Sessions<'_>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let ttl = scope.environment().settings.access_token_ttl_secs;
        let forget_after = now + chrono::Duration::seconds(ttl);
        sessions::revoke(db, scope, which, now, forget_after).await
    }

    /// Brings this replica's revocations up to date after it revoked sessions; other replicas
    /// learn through their own sync.
    pub async fn revocations_changed(&self) {
        if let Err(error) = self.revocations.sync().await {
            tracing::warn!(error = %error, "reading revocations failed");
        }
    }
}

/// Every use case, over one set of dependencies.
#[derive(Clone)]
pub struct Services {
    /// Environment credentials and tokens.
    pub environments: Environments,
    /// Tenants.
    pub tenants: Tenants,
    /// Users.
    pub users: Users,
    /// Sign-in and sessions.
    pub sign_in: SignIn,
    /// Activation of invited users.
    pub activation: Activation,
    /// Access tokens and keys.
    pub tokens: Tokens,
    /// The environment's identity configuration.
    pub configurations: Configurations,
    /// Roles, and the roles of users in tenants.
    pub roles: Roles,
    /// Permissions and their categories.
    pub permissions: Permissions,
    /// Policy documents of environments and tenants.
    pub policies: Policies,
    /// A tenant's team, as its own members manage it.
    pub team: Team,
    /// User groups.
    pub groups: Groups,
    /// Bulk updates of a user's roles across its tenants.
    pub bulk_roles: BulkRoles,
}

impl Services {
    /// Builds the services.
    pub fn new(deps: Deps) -> Self {
        let tokens = Tokens::new(deps.clone());
        let sign_in = SignIn::new(deps.clone(), tokens.clone());
        let environments = Environments::new(deps.clone());
        let policies = Policies::new(deps.clone(), environments.clone());
        let bulk_roles = BulkRoles::new(deps.clone(), environments.clone());
        Self {
            configurations: Configurations::new(deps.clone(), environments.clone()),
            environments,
            tenants: Tenants::new(deps.clone()),
            users: Users::new(deps.clone()),
            team: Team::new(deps.clone(), Roles::new(deps.clone())),
            roles: Roles::new(deps.clone()),
            permissions: Permissions::new(deps.clone()),
            groups: Groups::new(deps.clone(), policies.clone()),
            policies,
            bulk_roles,
            activation: Activation::new(deps, sign_in.clone()),
            sign_in,
            tokens,
        }
    }
}

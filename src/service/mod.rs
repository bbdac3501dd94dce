//! Use cases. Each public method is one unit of work: it checks its input, runs in at most one
//! transaction, and returns domain types or a domain error.

pub mod environments;
pub mod hasher;
pub mod keys;
pub mod tenants;
pub mod users;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::DatabaseConnection;
use url::Url;

use crate::domain::{Clock, Error, Resource, environment::Environment, error::Result};
pub use environments::Environments;
pub use hasher::PasswordHasher;
pub use keys::KeyRing;
pub use tenants::Tenants;
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
    /// How long a signing key signs before a new one takes over.
    pub key_rotation: Duration,
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
    /// Configuration.
    pub settings: Arc<ServiceSettings>,
}

impl Deps {
    /// The current time, to the microsecond: what every supported database stores, so a value
    /// returned from a write equals the value read back later.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// The environment `id` (the caller's, from its verified token).
    pub async fn environment(&self, id: &str) -> Result<Environment> {
        crate::store::environments::find(&self.db, id)
            .await?
            .ok_or(Error::NotFound(Resource::Environment))
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
}

impl Services {
    /// Builds the services.
    pub fn new(deps: Deps) -> Self {
        Self {
            environments: Environments::new(deps.clone()),
            tenants: Tenants::new(deps.clone()),
            users: Users::new(deps),
        }
    }
}

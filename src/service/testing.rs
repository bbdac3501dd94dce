//! For unit tests of the services: every service over a database of its own (see
//! `store::testing`), with the default environment bootstrapped.

use std::sync::Arc;

use super::{Deps, PasswordHasher, Revocations, Services, keys::MasterKeys, mailer::NoMailer};
use crate::{
    config::Config,
    domain::{SystemClock, scope::Scope, secret::Secret},
    service::KeyRing,
    store::{self, testing::TestDb},
    telemetry::metrics::Metrics,
};

/// The services, the default environment's scope, and the database.
pub struct Harness {
    /// Every service.
    pub services: Services,
    /// The default environment.
    pub scope: Scope,
    /// The database they use.
    pub test_db: TestDb,
}

/// Services over a fresh database whose default environment exists.
pub async fn harness() -> Harness {
    let test_db = store::testing::database(4).await;
    let db = test_db.db.clone();
    let mut config = Config::defaults();
    // Tests sign in more often than a person would.
    config.sign_in_limit_per_account = super::limits::RateLimit::Off;
    config.sign_in_limit_per_address = super::limits::RateLimit::Off;
    let clock = Arc::new(SystemClock);
    let metrics = Metrics::shared();
    let keys = KeyRing::load(
        db.clone(),
        clock.clone(),
        config.key_settings(),
        MasterKeys::parse(None, None).unwrap(),
    )
    .await
    .unwrap();
    let deps = Deps {
        db: db.clone(),
        clock: clock.clone(),
        keys: Arc::new(keys),
        hasher: PasswordHasher::new(2, 16, metrics.clone()),
        revocations: Arc::new(Revocations::new(
            db.clone(),
            clock,
            metrics.clone(),
            config.revocation_max_staleness,
        )),
        mailer: Arc::new(NoMailer),
        settings: Arc::new(config.service_settings()),
        metrics,
    };
    let services = Services::new(deps);
    services
        .environments
        .bootstrap(Some(("client".into(), Secret::new("a test secret"))))
        .await
        .unwrap();
    let env = store::environments::find_default(&db).await.unwrap().unwrap();
    Harness {
        services,
        scope: Scope::for_tests(env),
        test_db,
    }
}

//! The environment's identity configuration.

use super::{Deps, Environments};
use crate::{
    domain::{
        Error,
        configuration::{
            CookieSameSite, IdentityConfiguration, IdentitySettings, UpdateIdentityConfiguration,
        },
        environment::EnvironmentSettings,
        error::Result,
        policy::patched,
        scope::Scope,
    },
    store::{self, policies},
};

/// Identity configuration use cases.
#[derive(Clone)]
pub struct Configurations {
    deps: Deps,
    environments: Environments,
}

impl Configurations {
    pub(super) fn new(deps: Deps, environments: Environments) -> Self {
        Self { deps, environments }
    }

    /// The identity configuration of the scope's environment, with the PEM of its signing key.
    pub async fn identity(&self, scope: &Scope) -> Result<IdentityConfiguration> {
        let settings = policies::effective::<IdentitySettings>(&self.deps.db, scope, None).await?;
        self.answer(scope, &scope.environment().settings, settings)
    }

    /// The identity settings of the scope's environment (what sign-in and token issue honour).
    pub async fn settings(&self, scope: &Scope) -> Result<IdentitySettings> {
        policies::effective(&self.deps.db, scope, None).await
    }

    /// Changes the fields of the identity configuration that `update` sets, all or none, and
    /// returns the configuration after it. Token lifetimes apply to tokens issued from then on
    /// (on other replicas within the few seconds their cache of environments lives).
    pub async fn update(
        &self,
        scope: &Scope,
        update: UpdateIdentityConfiguration,
    ) -> Result<IdentityConfiguration> {
        let patch = update.settings_patch()?;
        let now = self.deps.now();
        let environment_id = scope.environment_id();
        let txn = store::begin(&self.deps.db).await?;
        let mut environment = store::environments::lock_settings(&txn, environment_id).await?;
        let (access, refresh) = update.lifetimes(
            environment.access_token_ttl_secs,
            environment.refresh_token_ttl_secs,
        )?;
        let stored = policies::lock::<IdentitySettings>(&txn, scope, None, now).await?;
        let (fields, settings) = patched::<IdentitySettings>(&[], &stored, &patch)?;
        policies::put::<IdentitySettings>(&txn, scope, None, &fields, now).await?;
        let lifetimes_changed = (access, refresh)
            != (
                environment.access_token_ttl_secs,
                environment.refresh_token_ttl_secs,
            );
        if lifetimes_changed {
            environment.access_token_ttl_secs = access;
            environment.refresh_token_ttl_secs = refresh;
            store::environments::set_settings(&txn, environment_id, &environment, now).await?;
        }
        txn.commit().await?;
        // Token issue reads the settings and lifetimes from the cache of environments.
        self.environments.forget_cached();
        tracing::info!(environment_id, "updated the identity configuration");
        self.answer(scope, &environment, settings)
    }

    /// The configuration made of the environment's `lifetimes` and `settings`.
    fn answer(
        &self,
        scope: &Scope,
        lifetimes: &EnvironmentSettings,
        settings: IdentitySettings,
    ) -> Result<IdentityConfiguration> {
        let environment_id = scope.environment_id();
        let public_key = self.deps.keys.signing_key_pem(environment_id).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("environment {environment_id} has no signing key"))
        })?;
        Ok(IdentityConfiguration {
            id: environment_id.to_owned(),
            default_token_expiration: lifetimes.access_token_ttl_secs,
            default_refresh_token_expiration: lifetimes.refresh_token_ttl_secs,
            public_key,
            cookie_same_site: self.cookie_same_site(&settings),
            // A refresh token works once: the previous one is refused (and its reuse ends the session).
            refresh_tokens_rotation_limit: 0,
            settings,
        })
    }

    /// The SameSite attribute of the refresh cookie under `settings`: as configured, or by the
    /// deployment's `Secure` marking (a cross-site app can only send a `SameSite=None` cookie,
    /// which browsers accept only when `Secure`).
    pub fn cookie_same_site(&self, settings: &IdentitySettings) -> CookieSameSite {
        settings
            .cookie_same_site
            .unwrap_or(if self.deps.settings.cookie_secure {
                CookieSameSite::None
            } else {
                CookieSameSite::Lax
            })
    }
}

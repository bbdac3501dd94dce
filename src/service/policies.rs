//! Policy documents (`domain::policy`): one generic read and update for every kind.

use serde_json::{Map, Value};

use super::{Deps, Environments};
use crate::{
    domain::{
        Error,
        error::Result,
        policy::{PolicyDocument, overlay, patched},
        scope::Scope,
    },
    store::{self, policies, tenants},
};

/// Policy use cases.
#[derive(Clone)]
pub struct Policies {
    deps: Deps,
    environments: Environments,
}

impl Policies {
    pub(super) fn new(deps: Deps, environments: Environments) -> Self {
        Self { deps, environments }
    }

    /// The value of `T` in force in the scope's environment, or in tenant `tenant_id` (its
    /// document over the environment's) when one is given and `T` has tenant documents. NOT_FOUND
    /// for a tenant that does not exist.
    pub async fn get<T: PolicyDocument>(&self, scope: &Scope, tenant_id: Option<&str>) -> Result<T> {
        let db = &self.deps.db;
        let tenant_ref = match tenant_id.filter(|_| T::TENANT_OVERRIDE) {
            Some(tenant_id) => Some(tenants::get(db, scope, tenant_id).await?.id),
            None => None,
        };
        policies::effective(db, scope, tenant_ref.as_deref()).await
    }

    /// Applies `patch` (a JSON merge patch of `T`'s fields: a field set to `null` follows the
    /// level below again) to the environment's document, or to tenant `tenant_id`'s, and returns
    /// the value now in force there. Nothing is stored unless the result is valid.
    /// INVALID_ARGUMENT for a tenant document of a kind that has none.
    pub async fn update<T: PolicyDocument>(
        &self,
        scope: &Scope,
        tenant_id: Option<&str>,
        patch: Map<String, Value>,
    ) -> Result<T> {
        if tenant_id.is_some() && !T::TENANT_OVERRIDE {
            return Err(Error::invalid(
                "frontegg-tenant-id",
                "this policy is the environment's; a tenant has no policy of its own",
            ));
        }
        let txn = store::begin(&self.deps.db).await?;
        let now = self.deps.now();
        let tenant_ref = match tenant_id {
            Some(tenant_id) => Some(tenants::get(&txn, scope, tenant_id).await?.id),
            None => None,
        };
        let below = match tenant_ref {
            Some(_) => vec![policies::layers::<T>(&txn, scope, None).await?.0],
            None => Vec::new(),
        };
        let stored = policies::lock::<T>(&txn, scope, tenant_ref.as_deref(), now).await?;
        let below: Vec<&Map<String, Value>> = below.iter().collect();
        let (fields, value) = patched::<T>(&below, &stored, &patch)?;
        policies::put::<T>(&txn, scope, tenant_ref.as_deref(), &fields, now).await?;
        txn.commit().await?;
        if tenant_ref.is_none() {
            // Environments carry some of their documents (read with them, cached).
            self.environments.forget_cached();
        }
        Ok(value)
    }

    /// The value of `T` with nothing stored: its built-in default.
    pub fn default_of<T: PolicyDocument>() -> Result<T> {
        overlay(&[])
    }
}

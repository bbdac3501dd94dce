//! Tenant management.

use super::Deps;
use crate::{
    domain::{
        Error,
        error::Result,
        metadata,
        page::{MAX_LIMIT, Page, PageRequest},
        scope::Scope,
        tenant::{CreateTenant, Tenant, TenantFilter, UpdateTenant},
        user::User,
    },
    store::{self, groups, policies, roles, sessions::Sessions, tenants, users},
};

/// Tenant use cases.
#[derive(Clone)]
pub struct Tenants {
    deps: Deps,
}

impl Tenants {
    pub(super) fn new(deps: Deps) -> Self {
        Self { deps }
    }

    /// Creates a tenant, or revives a deleted one with the same id.
    pub async fn create(&self, scope: &Scope, request: CreateTenant) -> Result<Tenant> {
        let new = request.parse()?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        if let Some(parent) = &new.parent_tenant_id
            && tenants::find(&txn, scope, parent).await?.is_none()
        {
            return Err(Error::invalid("parent_tenant_id", "names no existing tenant"));
        }
        let tenant_id = new
            .tenant_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let existing = tenants::find_row(&txn, scope, &tenant_id).await?;
        let deleted = match existing {
            Some(row) if row.deleted_at.is_none() => {
                return Err(Error::AlreadyExists {
                    resource: crate::domain::Resource::Tenant,
                    field: "tenant_id",
                });
            }
            other => other,
        };
        let tenant = tenants::insert_or_revive(&txn, scope, new, tenant_id, deleted, now).await?;
        txn.commit().await?;
        Ok(tenant)
    }

    /// The tenant `tenant_id`.
    pub async fn get(&self, scope: &Scope, tenant_id: &str) -> Result<Tenant> {
        tenants::get(&self.deps.db, scope, tenant_id).await
    }

    /// A page of tenants.
    pub async fn list(&self, scope: &Scope, filter: TenantFilter, page: PageRequest) -> Result<Page<Tenant>> {
        tenants::list(&self.deps.db, scope, &filter, page).await
    }

    /// Every tenant `user` belongs to, oldest first, read a page of memberships at a time.
    pub async fn of_user(&self, scope: &Scope, user: &User) -> Result<Vec<Tenant>> {
        let tenant_ids: Vec<String> = user.tenants.iter().map(|m| m.tenant_id.clone()).collect();
        let mut found = Vec::with_capacity(tenant_ids.len());
        for chunk in tenant_ids.chunks(MAX_LIMIT as usize) {
            let filter = TenantFilter {
                tenant_ids: chunk.to_vec(),
                ..Default::default()
            };
            let page = PageRequest {
                limit: MAX_LIMIT,
                offset: 0,
            };
            found.extend(tenants::list(&self.deps.db, scope, &filter, page).await?.items);
        }
        Ok(found)
    }

    /// Every tenant of the environment, by tenant id (the unpaged listing Frontegg's clients read).
    pub async fn all(&self, scope: &Scope) -> Result<Vec<Tenant>> {
        tenants::all(&self.deps.db, scope).await
    }

    /// Changes the fields that `update` sets.
    pub async fn update(&self, scope: &Scope, tenant_id: &str, update: UpdateTenant) -> Result<Tenant> {
        let txn = store::begin(&self.deps.db).await?;
        let mut tenant = tenants::lock(&txn, scope, tenant_id).await?;
        update.apply_to(&mut tenant)?;
        tenant.updated_at = self.deps.now();
        tenants::save(&txn, scope, &tenant).await?;
        txn.commit().await?;
        Ok(tenant)
    }

    /// Deletes a tenant: its sessions and every session of its members are revoked, its memberships end, users left with no tenant are deleted, members whose
    /// current tenant it was move to their oldest remaining one, and sub-tenants move to its parent.
    pub async fn delete(&self, scope: &Scope, tenant_id: &str) -> Result<()> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = tenants::lock(&txn, scope, tenant_id).await?;
        // The members' tokens list the tenant in `tenantIds` whatever tenant their session is in,
        // and a tenant created later with the same id must not be claimed by them.
        self.deps
            .revoke_sessions(&txn, scope, Sessions::OfMembersOf(&tenant.id), now)
            .await?;
        self.deps
            .revoke_sessions(&txn, scope, Sessions::InTenant(&tenant.tenant_id), now)
            .await?;
        // Its own roles go; its memberships' roles go with the memberships.
        roles::delete_of_tenant(&txn, scope, &tenant.id).await?;
        groups::delete_of_tenant(&txn, scope, &tenant.id).await?;
        policies::delete_of_tenant(&txn, scope, &tenant.id).await?;
        users::delete_sole_members(&txn, scope, &tenant).await?;
        users::remove_all_memberships(&txn, scope, &tenant).await?;
        users::repoint_active_tenants(&txn, scope, &tenant.tenant_id, None, now).await?;
        tenants::mark_deleted(&txn, scope, &tenant, now).await?;
        txn.commit().await?;
        self.deps.revocations_changed().await;
        Ok(())
    }

    /// Merges serialized JSON into the tenant's metadata: an object's keys into an object, any
    /// other value in place of what was there.
    pub async fn add_metadata(&self, scope: &Scope, tenant_id: &str, raw: &str) -> Result<Tenant> {
        let additions = metadata::parse_value("metadata", raw)?;
        self.change_metadata(scope, tenant_id, |metadata| metadata::merge(metadata, additions))
            .await
    }

    /// Removes one key from the tenant's metadata.
    pub async fn delete_metadata(&self, scope: &Scope, tenant_id: &str, key: &str) -> Result<Tenant> {
        if key.is_empty() {
            return Err(Error::invalid("key", "must not be empty"));
        }
        self.change_metadata(scope, tenant_id, |metadata| {
            if let serde_json::Value::Object(map) = metadata {
                map.remove(key);
            }
        })
        .await
    }

    async fn change_metadata(
        &self,
        scope: &Scope,
        tenant_id: &str,
        change: impl FnOnce(&mut serde_json::Value),
    ) -> Result<Tenant> {
        let txn = store::begin(&self.deps.db).await?;
        let mut tenant = tenants::lock(&txn, scope, tenant_id).await?;
        change(&mut tenant.metadata);
        let size = tenant.metadata.to_string().len();
        if size > metadata::MAX_BYTES {
            return Err(Error::invalid(
                "metadata",
                format!("the merged metadata would exceed {} bytes", metadata::MAX_BYTES),
            ));
        }
        tenant.updated_at = self.deps.now();
        tenants::save(&txn, scope, &tenant).await?;
        txn.commit().await?;
        Ok(tenant)
    }
}

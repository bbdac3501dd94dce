//! User management.

use super::{
    Deps,
    activation::{Activation, ActivationToken},
};
use crate::{
    domain::{
        Error, Resource,
        email::Email,
        error::Result,
        field,
        page::{Page, PageRequest},
        scope::Scope,
        user::{CreateUser, Membership, PROVIDER_LOCAL, UpdateUser, User, UserFilter},
    },
    store::{
        self,
        entity::user::Column,
        sessions::{self, Sessions},
        tenants,
        users::{self, UserRow},
    },
};

/// User use cases.
#[derive(Clone)]
pub struct Users {
    deps: Deps,
}

impl Users {
    pub(super) fn new(deps: Deps) -> Self {
        Self { deps }
    }

    /// Creates a user in a tenant. With a password the user is activated; without one it is
    /// invited and waits for activation. It gets the roles asked for, all of the environment or
    /// of that tenant (else INVALID_ARGUMENT naming the others, and nothing is created), or the
    /// tenant's default roles when none are asked for.
    pub async fn create(&self, scope: &Scope, request: CreateUser) -> Result<User> {
        let new = request.parse(&scope.environment().settings.password_policy)?;
        // Hash before the transaction: it is slow and needs no lock.
        let password_hash = match new.password {
            Some(password) => Some(self.deps.hasher.hash(password).await?),
            None => None,
        };
        let now = self.deps.now();
        let id = uuid::Uuid::new_v4().to_string();
        let txn = store::begin(&self.deps.db).await?;
        // Share-locked, so that a deletion of the tenant cannot commit around the new member.
        let tenant = tenants::lock_shared(&txn, scope, &new.tenant_id).await?;
        // Roles asked for replace the default ones; checked (and share-locked) before anything
        // is written, so a bad id creates nothing.
        let roles = if new.role_ids.is_empty() {
            None
        } else {
            super::roles::holdable(&txn, scope, &tenant, &new.role_ids).await?;
            Some(new.role_ids.as_slice())
        };
        let activated = password_hash.is_some();
        let row = users::insert(
            &txn,
            scope,
            UserRow {
                id: id.clone(),
                environment_id: scope.environment_id().to_owned(),
                email: new.email.into_string(),
                name: new.profile.name,
                profile_picture_url: new.profile.profile_picture_url,
                phone_number: new.profile.phone_number,
                provider: PROVIDER_LOCAL.to_owned(),
                metadata: new.profile.metadata,
                vendor_metadata: new.profile.vendor_metadata,
                external_id: new.profile.external_id,
                password_hash,
                verified: false,
                activated,
                locked: false,
                mfa_bypass: new.profile.mfa_bypass,
                active_tenant_id: Some(tenant.tenant_id.clone()),
                created_at: now,
                updated_at: now,
                last_login: None,
                terms_accepted_at: None,
                super_user: false,
                invisible: false,
                // Set by the store from the name.
                name_folded: String::new(),
            },
        )
        .await?;
        users::add_membership(&txn, scope, &id, &tenant, roles, now).await?;
        txn.commit().await?;
        // What was written, without reading it back: two round trips fewer per creation.
        let membership = Membership {
            tenant_id: tenant.tenant_id,
            created_at: now,
        };
        Ok(users::to_domain(row, vec![membership]))
    }

    /// User `user_id` with its tenants.
    pub async fn get(&self, scope: &Scope, user_id: &str) -> Result<User> {
        users::get(&self.deps.db, scope, user_id).await
    }

    /// The user with this email, compared without regard to case.
    pub async fn get_by_email(&self, scope: &Scope, email: &str) -> Result<User> {
        let email = Email::parse("email", email)?;
        users::find_by_email(&self.deps.db, scope, email.as_str())
            .await?
            .ok_or(Error::NotFound(Resource::User))
    }

    /// A page of users. A tenant filter naming no tenant matches nobody.
    pub async fn list(&self, scope: &Scope, filter: UserFilter, page: PageRequest) -> Result<Page<User>> {
        let tenant_row_id = match &filter.tenant_id {
            Some(tenant_id) => match tenants::find(&self.deps.db, scope, tenant_id).await? {
                Some(tenant) => Some(tenant.id),
                None => return Ok(Page::new(Vec::new(), 0, page)),
            },
            None => None,
        };
        users::list(&self.deps.db, scope, &filter, tenant_row_id.as_deref(), page).await
    }

    /// Changes the fields that `update` sets.
    pub async fn update(&self, scope: &Scope, user_id: &str, update: UpdateUser) -> Result<User> {
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, scope, user_id).await?;
        let mut profile = users::get(&txn, scope, user_id).await?.profile;
        update.apply_to(&mut profile)?;
        users::save_profile(&txn, scope, user_id, profile, self.deps.now()).await?;
        let user = users::get(&txn, scope, user_id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Deletes a user from every tenant, with its tokens; its sessions are revoked.
    pub async fn delete(&self, scope: &Scope, user_id: &str) -> Result<()> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, scope, user_id).await?;
        self.deps
            .revoke_sessions(&txn, scope, Sessions::OfUser(user_id), now)
            .await?;
        users::delete(&txn, scope, user_id).await?;
        txn.commit().await?;
        self.deps.revocations_changed().await;
        Ok(())
    }

    /// Makes the user a member of one more tenant; it becomes the current tenant if the user had none.
    pub async fn add_to_tenant(&self, scope: &Scope, user_id: &str, tenant_id: &str) -> Result<User> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let row = users::lock_row(&txn, scope, user_id).await?;
        // Share-locked, so that a deletion of the tenant cannot commit around the new membership.
        let tenant = tenants::lock_shared(&txn, scope, tenant_id).await?;
        users::add_membership(&txn, scope, user_id, &tenant, None, now).await?;
        if row.active_tenant_id.is_none() {
            users::set_active_tenant(&txn, scope, user_id, Some(&tenant.tenant_id), now).await?;
        }
        let user = users::get(&txn, scope, user_id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Ends the user's membership of a tenant and revokes all of its sessions, since each of
    /// their tokens claims the tenant.
    pub async fn remove_from_tenant(&self, scope: &Scope, user_id: &str, tenant_id: &str) -> Result<User> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, scope, user_id).await?;
        let tenant = tenants::get(&txn, scope, tenant_id).await?;
        if !users::remove_membership(&txn, scope, user_id, &tenant).await? {
            return Err(Error::NotFound(Resource::Membership));
        }
        users::repoint_active_tenants(&txn, scope, &tenant.tenant_id, Some(user_id), now).await?;
        // Every token of the user lists the tenant in `tenantIds`, whatever tenant its session is
        // in: all of the user's sessions end, and a new sign-in issues tokens without it.
        self.deps
            .revoke_sessions(&txn, scope, Sessions::OfUser(user_id), now)
            .await?;
        let user = users::get(&txn, scope, user_id).await?;
        txn.commit().await?;
        self.deps.revocations_changed().await;
        Ok(user)
    }

    /// Makes tenant `tenant_id` the user's active tenant, and moves its live sessions there (only
    /// session `session_id`, when given: a user switching in one tab): their next refresh issues
    /// tokens for that tenant. NOT_FOUND (of the membership) when the user is not a member,
    /// whether or not the tenant exists.
    pub async fn set_active_tenant(
        &self,
        scope: &Scope,
        user_id: &str,
        tenant_id: &str,
        session_id: Option<&str>,
    ) -> Result<User> {
        let tenant_id = field::identifier("tenant_id", tenant_id)?;
        let not_member = || Error::NotFound(Resource::Membership);
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, scope, user_id).await?;
        // Share-locked, so that the tenant cannot be deleted around the move.
        let tenant = match tenants::lock_shared(&txn, scope, &tenant_id).await {
            Err(Error::NotFound(_)) => return Err(not_member()),
            found => found?,
        };
        if !store::roles::is_member(&txn, user_id, &tenant.id).await? {
            return Err(not_member());
        }
        users::set_active_tenant(&txn, scope, user_id, Some(&tenant.tenant_id), now).await?;
        sessions::move_to_tenant(&txn, scope, user_id, session_id, &tenant.tenant_id).await?;
        let user = users::get(&txn, scope, user_id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Locks the user out and revokes its sessions.
    pub async fn lock(&self, scope: &Scope, user_id: &str) -> Result<()> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, scope, user_id).await?;
        users::set_flag(&txn, scope, user_id, Column::Locked, true, now).await?;
        self.deps
            .revoke_sessions(&txn, scope, Sessions::OfUser(user_id), now)
            .await?;
        txn.commit().await?;
        self.deps.revocations_changed().await;
        Ok(())
    }

    /// Lifts a lock.
    pub async fn unlock(&self, scope: &Scope, user_id: &str) -> Result<()> {
        self.set_flag(scope, user_id, Column::Locked, false).await
    }

    /// Marks the user's email verified.
    pub async fn verify(&self, scope: &Scope, user_id: &str) -> Result<()> {
        self.set_flag(scope, user_id, Column::Verified, true).await
    }

    /// Makes the user a super-user, or a regular user again: a super-user holds every permission
    /// (but the `NEVER` ones) in each tenant it is a member of, from its next access token on.
    pub async fn set_super_user(&self, scope: &Scope, user_id: &str, super_user: bool) -> Result<User> {
        self.set_flag(scope, user_id, Column::SuperUser, super_user)
            .await?;
        self.get(scope, user_id).await
    }

    /// Hides the user from its tenants' member listings, or shows it again; it is still found
    /// by id, and signs in as before.
    pub async fn set_invisible(&self, scope: &Scope, user_id: &str, invisible: bool) -> Result<User> {
        self.set_flag(scope, user_id, Column::Invisible, invisible)
            .await?;
        self.get(scope, user_id).await
    }

    async fn set_flag(&self, scope: &Scope, user_id: &str, flag: Column, value: bool) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, scope, user_id).await?;
        users::set_flag(&txn, scope, user_id, flag, value, self.deps.now()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Issues a single-use activation token and code for a user who is not yet activated,
    /// revoking the user's earlier ones. Only digests are stored.
    pub async fn generate_activation_token(&self, scope: &Scope, user_id: &str) -> Result<ActivationToken> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let row = users::lock_row(&txn, scope, user_id).await?;
        let issued = Activation::issue(&self.deps, &txn, scope, &row, now).await?;
        txn.commit().await?;
        Ok(issued)
    }
}

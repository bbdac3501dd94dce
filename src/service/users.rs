//! User management.

use chrono::Duration;

use super::Deps;
use crate::{
    domain::{
        Error, Resource,
        email::Email,
        error::Result,
        page::{Page, PageRequest},
        secret,
        user::{CreateUser, PROVIDER_LOCAL, UpdateUser, User, UserFilter},
    },
    store::{
        self,
        entity::user::Column,
        tenants,
        tokens::{self, NewToken, TokenKind},
        users::{self, UserRow},
    },
};

/// A freshly issued activation token.
#[derive(Debug, Clone)]
pub struct ActivationToken {
    /// The user it activates.
    pub user_id: String,
    /// The token, shown once.
    pub token: String,
    /// The link that carries it.
    pub link: String,
}

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
    /// invited and waits for activation.
    pub async fn create(&self, environment_id: &str, request: CreateUser) -> Result<User> {
        let environment = self.deps.environment(environment_id).await?;
        let new = request.parse(&environment.settings.password_policy)?;
        // Hash before the transaction: it is slow and needs no lock.
        let password_hash = match new.password {
            Some(password) => Some(self.deps.hasher.hash(password).await?),
            None => None,
        };
        let now = self.deps.now();
        let id = uuid::Uuid::new_v4().to_string();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = tenants::get(&txn, environment_id, &new.tenant_id).await?;
        let activated = password_hash.is_some();
        users::insert(
            &txn,
            UserRow {
                id: id.clone(),
                environment_id: environment_id.to_owned(),
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
            },
        )
        .await?;
        users::add_membership(&txn, &id, &tenant.id, now).await?;
        let user = users::get(&txn, environment_id, &id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// User `user_id` with its tenants.
    pub async fn get(&self, environment_id: &str, user_id: &str) -> Result<User> {
        users::get(&self.deps.db, environment_id, user_id).await
    }

    /// The user with this email, compared without regard to case.
    pub async fn get_by_email(&self, environment_id: &str, email: &str) -> Result<User> {
        let email = Email::parse("email", email)?;
        users::find_by_email(&self.deps.db, environment_id, email.as_str())
            .await?
            .ok_or(Error::NotFound(Resource::User))
    }

    /// A page of users. A tenant filter naming no tenant matches nobody.
    pub async fn list(
        &self,
        environment_id: &str,
        filter: UserFilter,
        page: PageRequest,
    ) -> Result<Page<User>> {
        let tenant_row_id = match &filter.tenant_id {
            Some(tenant_id) => match tenants::find(&self.deps.db, environment_id, tenant_id).await? {
                Some(tenant) => Some(tenant.id),
                None => return Ok(Page::new(Vec::new(), 0, page)),
            },
            None => None,
        };
        users::list(
            &self.deps.db,
            environment_id,
            &filter,
            tenant_row_id.as_deref(),
            page,
        )
        .await
    }

    /// Changes the fields that `update` sets.
    pub async fn update(&self, environment_id: &str, user_id: &str, update: UpdateUser) -> Result<User> {
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, environment_id, user_id).await?;
        let mut profile = users::get(&txn, environment_id, user_id).await?.profile;
        update.apply_to(&mut profile)?;
        users::save_profile(&txn, user_id, profile, self.deps.now()).await?;
        let user = users::get(&txn, environment_id, user_id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Deletes a user from every tenant, with its tokens.
    pub async fn delete(&self, environment_id: &str, user_id: &str) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, environment_id, user_id).await?;
        users::delete(&txn, user_id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Makes the user a member of one more tenant; it becomes the current tenant if the user had none.
    pub async fn add_to_tenant(&self, environment_id: &str, user_id: &str, tenant_id: &str) -> Result<User> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let row = users::lock_row(&txn, environment_id, user_id).await?;
        let tenant = tenants::get(&txn, environment_id, tenant_id).await?;
        users::add_membership(&txn, user_id, &tenant.id, now).await?;
        if row.active_tenant_id.is_none() {
            users::set_active_tenant(&txn, user_id, Some(&tenant.tenant_id), now).await?;
        }
        let user = users::get(&txn, environment_id, user_id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Ends the user's membership of a tenant.
    pub async fn remove_from_tenant(
        &self,
        environment_id: &str,
        user_id: &str,
        tenant_id: &str,
    ) -> Result<User> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, environment_id, user_id).await?;
        let tenant = tenants::get(&txn, environment_id, tenant_id).await?;
        if !users::remove_membership(&txn, user_id, &tenant.id).await? {
            return Err(Error::NotFound(Resource::Membership));
        }
        users::repoint_active_tenants(&txn, environment_id, &tenant.tenant_id, Some(user_id), now).await?;
        let user = users::get(&txn, environment_id, user_id).await?;
        txn.commit().await?;
        Ok(user)
    }

    /// Locks the user out.
    pub async fn lock(&self, environment_id: &str, user_id: &str) -> Result<()> {
        self.set_flag(environment_id, user_id, Column::Locked, true).await
    }

    /// Lifts a lock.
    pub async fn unlock(&self, environment_id: &str, user_id: &str) -> Result<()> {
        self.set_flag(environment_id, user_id, Column::Locked, false)
            .await
    }

    /// Marks the user's email verified.
    pub async fn verify(&self, environment_id: &str, user_id: &str) -> Result<()> {
        self.set_flag(environment_id, user_id, Column::Verified, true)
            .await
    }

    async fn set_flag(&self, environment_id: &str, user_id: &str, flag: Column, value: bool) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        users::lock_row(&txn, environment_id, user_id).await?;
        users::set_flag(&txn, user_id, flag, value, self.deps.now()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Issues a single-use activation token for a user who is not yet activated, revoking the
    /// user's earlier ones. Only its digest is stored.
    pub async fn generate_activation_token(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> Result<ActivationToken> {
        let environment = self.deps.environment(environment_id).await?;
        let now = self.deps.now();
        let token = secret::random_token();
        let txn = store::begin(&self.deps.db).await?;
        let row = users::lock_row(&txn, environment_id, user_id).await?;
        if row.activated {
            return Err(Error::FailedPrecondition {
                reason: "USER_ALREADY_ACTIVATED",
                message: "the user is already activated".into(),
            });
        }
        tokens::replace(
            &txn,
            NewToken {
                user_id,
                kind: TokenKind::Activation,
                token_hash: secret::digest(&token),
                code_hash: None,
                expires_at: now + Duration::seconds(environment.settings.activation_token_ttl_secs),
            },
            now,
        )
        .await?;
        txn.commit().await?;
        let mut link = self
            .deps
            .settings
            .app_url
            .join("oauth/account/activate")
            .map_err(Error::internal)?;
        link.query_pairs_mut()
            .append_pair("userId", user_id)
            .append_pair("token", &token);
        Ok(ActivationToken {
            user_id: user_id.to_owned(),
            token,
            link: link.into(),
        })
    }
}

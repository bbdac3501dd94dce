//! `identity.v1.UserService`.

use tonic::{Request, Response, Status};

use super::{
    auth::environment,
    convert::{order, page_metadata, text, timestamp},
    pb::{self, user_service_server::UserService},
};
use crate::{
    domain::{
        Error,
        page::{self, PageRequest},
        secret::Secret,
        user::{CreateUser, Phrases, UpdateUser, User, UserCursor, UserFilter, UserSort},
    },
    service::{BulkRoles, Users},
};

/// The filter and page of a user listing, checked.
fn listing(r: pb::ListUsersRequest, phrases: Phrases) -> Result<(UserFilter, PageRequest), Error> {
    let page = PageRequest::parse(r.limit.into(), r.offset.into())?;
    let sort = match pb::UserSortBy::try_from(r.sort_by) {
        Ok(pb::UserSortBy::Unspecified | pb::UserSortBy::CreatedAt) => UserSort::CreatedAt,
        Ok(pb::UserSortBy::Name) => UserSort::Name,
        Ok(pb::UserSortBy::Email) => UserSort::Email,
        Ok(pb::UserSortBy::Id) => UserSort::Id,
        Ok(pb::UserSortBy::Verified) => UserSort::Verified,
        Ok(pb::UserSortBy::IsLocked) => UserSort::Locked,
        Err(_) => return Err(Error::invalid("sort_by", "is not a known sort field")),
    };
    let filter = UserFilter {
        tenant_id: Some(r.tenant_id).filter(|t| !t.is_empty()),
        email: Some(r.email).filter(|e| !e.is_empty()),
        ids: page::bounded_list("ids", r.ids)?,
        phrases,
        sort,
        order: order(r.order)?,
        after: UserCursor::parse("page_token", &r.page_token, sort)?,
    };
    Ok((filter, page))
}

/// gRPC face of user management.
pub struct UserApi {
    users: Users,
    bulk_roles: BulkRoles,
}

impl UserApi {
    /// Serves `users`, and the bulk updates of their roles by `bulk_roles`.
    pub fn new(users: Users, bulk_roles: BulkRoles) -> Self {
        Self { users, bulk_roles }
    }
}

pub(super) fn to_pb(user: User) -> pb::User {
    let p = user.profile;
    pb::User {
        sub: user.id.clone(),
        id: user.id,
        email: user.email,
        name: text(p.name),
        profile_picture_url: text(p.profile_picture_url),
        verified: user.verified,
        // No second factor can be enrolled yet.
        mfa_enrolled: false,
        mfa_bypass: p.mfa_bypass,
        phone_number: text(p.phone_number),
        provider: user.provider,
        tenant_id: text(user.active_tenant_id),
        tenant_ids: user.tenants.iter().map(|m| m.tenant_id.clone()).collect(),
        activated_for_tenant: user.activated,
        is_locked: user.locked,
        tenants: user
            .tenants
            .into_iter()
            .map(|m| pb::UserTenant {
                tenant_id: m.tenant_id,
                created_at: Some(timestamp(m.created_at)),
            })
            .collect(),
        metadata: text(p.metadata),
        vendor_metadata: text(p.vendor_metadata),
        external_id: text(p.external_id),
        created_at: Some(timestamp(user.created_at)),
        last_login: user.last_login.map(timestamp),
        super_user: user.super_user,
        invisible: user.invisible,
    }
}

#[tonic::async_trait]
impl UserService for UserApi {
    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let create = CreateUser {
            tenant_id: r.tenant_id,
            email: r.email,
            name: r.name,
            profile_picture_url: r.profile_picture_url,
            password: r.password.map(Secret::new),
            phone_number: r.phone_number,
            metadata: r.metadata,
            vendor_metadata: r.vendor_metadata,
            external_id: r.external_id,
            mfa_bypass: r.mfa_bypass,
            role_ids: r.role_ids,
        };
        let user = self.users.create(&env, create).await?;
        Ok(Response::new(pb::CreateUserResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::GetUserResponse>, Status> {
        let env = environment(&request)?;
        let user = self.users.get(&env, &request.into_inner().user_id).await?;
        Ok(Response::new(pb::GetUserResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn get_user_by_email(
        &self,
        request: Request<pb::GetUserByEmailRequest>,
    ) -> Result<Response<pb::GetUserByEmailResponse>, Status> {
        let env = environment(&request)?;
        let user = self.users.get_by_email(&env, &request.into_inner().email).await?;
        Ok(Response::new(pb::GetUserByEmailResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let env = environment(&request)?;
        let (filter, page) = listing(request.into_inner(), Phrases::default())?;
        let listed = self.users.list(&env, filter, page).await?;
        Ok(Response::new(pb::ListUsersResponse {
            metadata: Some(page_metadata(&listed)),
            next_page_token: listed.next_cursor.unwrap_or_default(),
            items: listed.items.into_iter().map(to_pb).collect(),
        }))
    }

    async fn search_users(
        &self,
        request: Request<pb::SearchUsersRequest>,
    ) -> Result<Response<pb::SearchUsersResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let phrases = Phrases::parse(r.contains, r.excludes, r.optional).map_err(Error::from)?;
        let (filter, page) = listing(r.listing.unwrap_or_default(), phrases)?;
        let listed = self.users.list(&env, filter, page).await?;
        Ok(Response::new(pb::SearchUsersResponse {
            metadata: Some(page_metadata(&listed)),
            next_page_token: listed.next_cursor.unwrap_or_default(),
            items: listed.items.into_iter().map(to_pb).collect(),
        }))
    }

    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let update = UpdateUser {
            name: r.name,
            profile_picture_url: r.profile_picture_url,
            phone_number: r.phone_number,
            metadata: r.metadata,
            vendor_metadata: r.vendor_metadata,
            external_id: r.external_id,
            mfa_bypass: r.mfa_bypass,
        };
        let user = self.users.update(&env, &r.user_id, update).await?;
        Ok(Response::new(pb::UpdateUserResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn delete_user(
        &self,
        request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<pb::DeleteUserResponse>, Status> {
        let env = environment(&request)?;
        self.users.delete(&env, &request.into_inner().user_id).await?;
        Ok(Response::new(pb::DeleteUserResponse {}))
    }

    async fn add_user_to_tenant(
        &self,
        request: Request<pb::AddUserToTenantRequest>,
    ) -> Result<Response<pb::AddUserToTenantResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let user = self.users.add_to_tenant(&env, &r.user_id, &r.tenant_id).await?;
        Ok(Response::new(pb::AddUserToTenantResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn remove_user_from_tenant(
        &self,
        request: Request<pb::RemoveUserFromTenantRequest>,
    ) -> Result<Response<pb::RemoveUserFromTenantResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let user = self
            .users
            .remove_from_tenant(&env, &r.user_id, &r.tenant_id)
            .await?;
        Ok(Response::new(pb::RemoveUserFromTenantResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn lock_user(
        &self,
        request: Request<pb::LockUserRequest>,
    ) -> Result<Response<pb::LockUserResponse>, Status> {
        let env = environment(&request)?;
        self.users.lock(&env, &request.into_inner().user_id).await?;
        Ok(Response::new(pb::LockUserResponse {}))
    }

    async fn unlock_user(
        &self,
        request: Request<pb::UnlockUserRequest>,
    ) -> Result<Response<pb::UnlockUserResponse>, Status> {
        let env = environment(&request)?;
        self.users.unlock(&env, &request.into_inner().user_id).await?;
        Ok(Response::new(pb::UnlockUserResponse {}))
    }

    async fn set_user_super_user(
        &self,
        request: Request<pb::SetUserSuperUserRequest>,
    ) -> Result<Response<pb::SetUserSuperUserResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let user = self.users.set_super_user(&env, &r.user_id, r.super_user).await?;
        Ok(Response::new(pb::SetUserSuperUserResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn set_user_invisible(
        &self,
        request: Request<pb::SetUserInvisibleRequest>,
    ) -> Result<Response<pb::SetUserInvisibleResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let user = self.users.set_invisible(&env, &r.user_id, r.invisible).await?;
        Ok(Response::new(pb::SetUserInvisibleResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn set_user_active_tenant(
        &self,
        request: Request<pb::SetUserActiveTenantRequest>,
    ) -> Result<Response<pb::SetUserActiveTenantResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let user = self
            .users
            .set_active_tenant(&env, &r.user_id, &r.tenant_id, None)
            .await?;
        Ok(Response::new(pb::SetUserActiveTenantResponse {
            user: Some(to_pb(user)),
        }))
    }

    async fn verify_user(
        &self,
        request: Request<pb::VerifyUserRequest>,
    ) -> Result<Response<pb::VerifyUserResponse>, Status> {
        let env = environment(&request)?;
        self.users.verify(&env, &request.into_inner().user_id).await?;
        Ok(Response::new(pb::VerifyUserResponse {}))
    }

    async fn bulk_update_user_roles(
        &self,
        request: Request<pb::BulkUpdateUserRolesRequest>,
    ) -> Result<Response<pb::BulkUpdateUserRolesResponse>, Status> {
        let env = environment(&request)?;
        let (user_id, update) = super::bulk_roles::request(request.into_inner());
        let outcome = self.bulk_roles.update(&env, &user_id, update).await?;
        Ok(Response::new(outcome.into()))
    }

    async fn get_bulk_roles_task(
        &self,
        request: Request<pb::GetBulkRolesTaskRequest>,
    ) -> Result<Response<pb::GetBulkRolesTaskResponse>, Status> {
        let env = environment(&request)?;
        let task = self.bulk_roles.task(&env, &request.into_inner().task_id).await?;
        Ok(Response::new(pb::GetBulkRolesTaskResponse {
            task: Some(task.into()),
        }))
    }

    async fn generate_activation_token(
        &self,
        request: Request<pb::GenerateActivationTokenRequest>,
    ) -> Result<Response<pb::GenerateActivationTokenResponse>, Status> {
        let env = environment(&request)?;
        let issued = self
            .users
            .generate_activation_token(&env, &request.into_inner().user_id)
            .await?;
        Ok(Response::new(pb::GenerateActivationTokenResponse {
            user_id: issued.user_id,
            token: issued.token.into_exposed(),
            link: issued.link.into_exposed(),
            code: issued.code.into_exposed(),
        }))
    }
}

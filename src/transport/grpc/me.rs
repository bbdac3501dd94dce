//! `identity.v1.MeService`: the signed-in user's own profile and tenants. The user and the
//! tenant come from the access token the policy layer verified, never from the request.

use tonic::{Request, Response, Status};

use super::{
    auth::caller,
    pb::{self, me_service_server::MeService},
    roles::role_pb,
    tenants::to_pb as tenant_to_pb,
    users::to_pb as user_to_pb,
};
use crate::{
    domain::{Error, error::AuthFailure, user::UpdateUser},
    service::{Roles, Tenants, Users},
    transport::policy::{Caller, SignedIn},
};

/// gRPC face of the signed-in user's own data.
pub struct MeApi {
    users: Users,
    tenants: Tenants,
    roles: Roles,
}

impl MeApi {
    /// Serves `users`, `tenants` and `roles` to their own users.
    pub fn new(users: Users, tenants: Tenants, roles: Roles) -> Self {
        Self {
            users,
            tenants,
            roles,
        }
    }
}

/// The signed-in user of a request.
fn signed_in<T>(request: &Request<T>) -> Result<SignedIn, Status> {
    match caller(request)? {
        Caller::User(user) => Ok((**user).clone()),
        _ => Err(Error::Unauthenticated(AuthFailure::MissingToken).into()),
    }
}

/// The user as the token's session sees it: its current tenant is the session's.
fn in_session(user: crate::domain::user::User, me: &SignedIn) -> pb::User {
    let mut user = user_to_pb(user);
    user.tenant_id = me.claims.tenant_id.clone();
    user
}

#[tonic::async_trait]
impl MeService for MeApi {
    async fn switch_my_tenant(
        &self,
        request: Request<pb::SwitchMyTenantRequest>,
    ) -> Result<Response<pb::SwitchMyTenantResponse>, Status> {
        let me = signed_in(&request)?;
        let r = request.into_inner();
        let user = self
            .users
            .set_active_tenant(&me.scope, &me.claims.sub, &r.tenant_id, Some(&me.claims.sid))
            .await?;
        Ok(Response::new(pb::SwitchMyTenantResponse {
            user: Some(user_to_pb(user)),
        }))
    }

    async fn get_me(
        &self,
        request: Request<pb::GetMeRequest>,
    ) -> Result<Response<pb::GetMeResponse>, Status> {
        let me = signed_in(&request)?;
        let user = self.users.get(&me.scope, &me.claims.sub).await?;
        Ok(Response::new(pb::GetMeResponse {
            user: Some(in_session(user, &me)),
        }))
    }

    async fn update_me(
        &self,
        request: Request<pb::UpdateMeRequest>,
    ) -> Result<Response<pb::UpdateMeResponse>, Status> {
        let me = signed_in(&request)?;
        let r = request.into_inner();
        let update = UpdateUser {
            name: r.name,
            profile_picture_url: r.profile_picture_url,
            phone_number: r.phone_number,
            metadata: r.metadata,
            ..Default::default()
        };
        let user = self.users.update(&me.scope, &me.claims.sub, update).await?;
        Ok(Response::new(pb::UpdateMeResponse {
            user: Some(in_session(user, &me)),
        }))
    }

    async fn get_my_authorization(
        &self,
        request: Request<pb::GetMyAuthorizationRequest>,
    ) -> Result<Response<pb::GetMyAuthorizationResponse>, Status> {
        let me = signed_in(&request)?;
        let (roles, permissions) = self
            .roles
            .authorization(&me.scope, &me.claims.sub, &me.claims.tenant_id)
            .await?;
        let vendor = me.scope.environment_id();
        Ok(Response::new(pb::GetMyAuthorizationResponse {
            roles: roles.into_iter().map(|r| role_pb(r, vendor)).collect(),
            permissions: permissions.into_iter().map(Into::into).collect(),
        }))
    }

    async fn list_my_tenants(
        &self,
        request: Request<pb::ListMyTenantsRequest>,
    ) -> Result<Response<pb::ListMyTenantsResponse>, Status> {
        let me = signed_in(&request)?;
        let user = self.users.get(&me.scope, &me.claims.sub).await?;
        let tenants = self.tenants.of_user(&me.scope, &user).await?;
        let active_tenant_id = tenants
            .iter()
            .find(|t| t.tenant_id == me.claims.tenant_id)
            .map(|t| t.tenant_id.clone())
            .unwrap_or_default();
        Ok(Response::new(pb::ListMyTenantsResponse {
            tenants: tenants.into_iter().map(tenant_to_pb).collect(),
            active_tenant_id,
        }))
    }
}

//! `identity.v1.RoleService`.

use tonic::{Request, Response, Status};

use super::{
    auth::caller,
    convert::timestamp,
    pb::{self, role_service_server::RoleService},
};
use crate::{
    domain::role::{CreateRole, Role, UpdateRole},
    service::Roles,
    transport::policy::Caller,
};

/// gRPC face of roles.
pub struct RoleApi {
    roles: Roles,
}

impl RoleApi {
    /// Serves `roles`.
    pub fn new(roles: Roles) -> Self {
        Self { roles }
    }
}

/// The tenant a request acts in: a user's is the tenant of its session, whatever it asks; an
/// environment names one, or none.
pub(super) fn tenant_of<T>(request: &Request<T>, asked: &str) -> Result<Option<String>, Status> {
    Ok(match caller(request)? {
        Caller::User(user) => Some(user.claims.tenant_id.clone()),
        _ => Some(asked.to_owned()).filter(|t| !t.is_empty()),
    })
}

impl From<Role> for pb::Role {
    fn from(role: Role) -> Self {
        Self {
            id: role.id,
            key: role.key,
            name: role.name,
            description: role.description.unwrap_or_default(),
            level: role.level,
            is_default: role.is_default,
            first_user_role: role.first_user_role,
            migrate_role: role.migrate_role,
            tenant_id: role.tenant_id.unwrap_or_default(),
            permission_ids: role.permission_ids,
            vendor_id: String::new(),
            created_at: Some(timestamp(role.created_at)),
            updated_at: Some(timestamp(role.updated_at)),
        }
    }
}

/// `role` as the contract shows it, with its environment's id.
fn role_pb(role: Role, vendor_id: &str) -> pb::Role {
    pb::Role {
        vendor_id: vendor_id.to_owned(),
        ..role.into()
    }
}

#[tonic::async_trait]
impl RoleService for RoleApi {
    async fn list_roles(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = tenant_of(&request, &request.get_ref().tenant_id)?;
        let roles = self.roles.list(&scope, tenant.as_deref()).await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::ListRolesResponse {
            roles: roles.into_iter().map(|r| role_pb(r, vendor)).collect(),
        }))
    }

    async fn create_roles(
        &self,
        request: Request<pb::CreateRolesRequest>,
    ) -> Result<Response<pb::CreateRolesResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = tenant_of(&request, &request.get_ref().tenant_id)?;
        let requests = request
            .into_inner()
            .roles
            .into_iter()
            .map(|r| CreateRole {
                key: r.key,
                name: r.name,
                description: r.description,
                level: r.level.into(),
                is_default: r.is_default,
                first_user_role: r.first_user_role,
                migrate_role: r.migrate_role,
            })
            .collect();
        let roles = self.roles.create(&scope, tenant.as_deref(), requests).await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::CreateRolesResponse {
            roles: roles.into_iter().map(|r| role_pb(r, vendor)).collect(),
        }))
    }

    async fn update_role(
        &self,
        request: Request<pb::UpdateRoleRequest>,
    ) -> Result<Response<pb::UpdateRoleResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let r = request.into_inner();
        let update = UpdateRole {
            key: r.key,
            name: r.name,
            description: r.description,
            level: r.level.map(Into::into),
            is_default: r.is_default,
            first_user_role: r.first_user_role,
            migrate_role: r.migrate_role,
        };
        let role = self.roles.update(&scope, &r.role_id, update).await?;
        Ok(Response::new(pb::UpdateRoleResponse {
            role: Some(role_pb(role, scope.environment_id())),
        }))
    }

    async fn delete_role(
        &self,
        request: Request<pb::DeleteRoleRequest>,
    ) -> Result<Response<pb::DeleteRoleResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        self.roles.delete(&scope, &request.into_inner().role_id).await?;
        Ok(Response::new(pb::DeleteRoleResponse {}))
    }

    async fn set_role_permissions(
        &self,
        request: Request<pb::SetRolePermissionsRequest>,
    ) -> Result<Response<pb::SetRolePermissionsResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let r = request.into_inner();
        let role = self
            .roles
            .set_permissions(&scope, &r.role_id, r.permission_ids)
            .await?;
        Ok(Response::new(pb::SetRolePermissionsResponse {
            role: Some(role_pb(role, scope.environment_id())),
        }))
    }

    async fn set_role_tenant(
        &self,
        request: Request<pb::SetRoleTenantRequest>,
    ) -> Result<Response<pb::SetRoleTenantResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let r = request.into_inner();
        let tenant = Some(r.tenant_id.as_str()).filter(|t| !t.is_empty());
        let role = self.roles.set_tenant(&scope, &r.role_id, tenant).await?;
        Ok(Response::new(pb::SetRoleTenantResponse {
            role: Some(role_pb(role, scope.environment_id())),
        }))
    }
}

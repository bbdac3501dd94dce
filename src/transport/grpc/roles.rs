//! `identity.v1.RoleService`.

use tonic::{Request, Response, Status};

use super::{
    auth::caller,
    convert::{order, timestamp},
    pb::{self, role_service_server::RoleService},
};
use crate::{
    domain::{
        Error,
        page::{Order, PageRequest},
        role::{CreateRole, CreateRoleFrom, Role, RoleFilter, UpdateRole},
    },
    service::Roles,
};

/// The contract's name of a sort field asked for over gRPC.
fn sort_name(raw: i32) -> Result<&'static str, Error> {
    Ok(match pb::RoleSortBy::try_from(raw) {
        Ok(pb::RoleSortBy::Unspecified | pb::RoleSortBy::CreatedAt) => "createdAt",
        Ok(pb::RoleSortBy::UpdatedAt) => "updatedAt",
        Ok(pb::RoleSortBy::Key) => "key",
        Ok(pb::RoleSortBy::Name) => "name",
        Ok(pb::RoleSortBy::Description) => "description",
        Ok(pb::RoleSortBy::IsDefault) => "isDefault",
        Ok(pb::RoleSortBy::FirstUserRole) => "firstUserRole",
        Ok(pb::RoleSortBy::Level) => "level",
        Ok(pb::RoleSortBy::Permissions) => "permissions",
        Ok(pb::RoleSortBy::UserTenants) => "userTenants",
        Err(_) => return Err(Error::invalid("sort_by", "is not a known sort field")),
    })
}

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
    Ok(caller(request)?.tenant(Some(asked)))
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
pub(super) fn role_pb(role: Role, vendor_id: &str) -> pb::Role {
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

    async fn list_roles_paged(
        &self,
        request: Request<pb::ListRolesPagedRequest>,
    ) -> Result<Response<pb::ListRolesPagedResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = tenant_of(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.limit.into(), r.offset.into()).map_err(Error::from)?;
        let direction = match order(r.order)? {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        };
        let filter = RoleFilter::parse(
            &r.filter,
            r.levels.into_iter().map(Into::into).collect(),
            r.tenant_ids,
            sort_name(r.sort_by)?,
            direction,
        )
        .map_err(Error::from)?;
        let listed = self
            .roles
            .list_page(&scope, tenant.as_deref(), filter, page)
            .await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::ListRolesPagedResponse {
            total_items: listed.total_items as i64,
            total_pages: listed.total_pages as i64,
            roles: listed.items.into_iter().map(|r| role_pb(r, vendor)).collect(),
        }))
    }

    async fn list_role_levels(
        &self,
        request: Request<pb::ListRoleLevelsRequest>,
    ) -> Result<Response<pb::ListRoleLevelsResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = tenant_of(&request, &request.get_ref().tenant_id)?;
        let levels = self.roles.distinct_levels(&scope, tenant.as_deref()).await?;
        Ok(Response::new(pb::ListRoleLevelsResponse { levels }))
    }

    async fn list_role_tenants(
        &self,
        request: Request<pb::ListRoleTenantsRequest>,
    ) -> Result<Response<pb::ListRoleTenantsResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant_ids = self.roles.distinct_tenants(&scope).await?;
        Ok(Response::new(pb::ListRoleTenantsResponse { tenant_ids }))
    }

    async fn create_role_from_base(
        &self,
        request: Request<pb::CreateRoleFromBaseRequest>,
    ) -> Result<Response<pb::CreateRoleFromBaseResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = tenant_of(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        let create = CreateRoleFrom {
            key: r.key,
            name: r.name,
            description: r.description,
            is_default: r.is_default,
            base_role_id: r.base_role_id,
            permission_ids: r.permission_ids,
        };
        let role = self.roles.create_from(&scope, tenant.as_deref(), create).await?;
        Ok(Response::new(pb::CreateRoleFromBaseResponse {
            role: Some(role_pb(role, scope.environment_id())),
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

    async fn assign_user_roles(
        &self,
        request: Request<pb::AssignUserRolesRequest>,
    ) -> Result<Response<pb::AssignUserRolesResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = tenant_of(&request, &request.get_ref().tenant_id)?
            .ok_or_else(|| Error::invalid("tenant_id", "is required"))?;
        let r = request.into_inner();
        let held = self.roles.assign(&scope, &r.user_id, &tenant, r.role_ids).await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::AssignUserRolesResponse {
            roles: held.roles.into_iter().map(|r| role_pb(r, vendor)).collect(),
        }))
    }

    async fn unassign_user_roles(
        &self,
        request: Request<pb::UnassignUserRolesRequest>,
    ) -> Result<Response<pb::UnassignUserRolesResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = tenant_of(&request, &request.get_ref().tenant_id)?
            .ok_or_else(|| Error::invalid("tenant_id", "is required"))?;
        let r = request.into_inner();
        let held = self
            .roles
            .unassign(&scope, &r.user_id, &tenant, r.role_ids)
            .await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::UnassignUserRolesResponse {
            roles: held.roles.into_iter().map(|r| role_pb(r, vendor)).collect(),
        }))
    }

    async fn list_users_roles(
        &self,
        request: Request<pb::ListUsersRolesRequest>,
    ) -> Result<Response<pb::ListUsersRolesResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = tenant_of(&request, &request.get_ref().tenant_id)?
            .ok_or_else(|| Error::invalid("tenant_id", "is required"))?;
        let held = self
            .roles
            .of_members(&scope, &tenant, request.into_inner().user_ids)
            .await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::ListUsersRolesResponse {
            users: held
                .into_iter()
                .map(|member| pb::UserRoles {
                    user_id: member.user_id,
                    roles: member.roles.into_iter().map(|r| role_pb(r, vendor)).collect(),
                })
                .collect(),
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

//! `identity.v1.GroupService`.

use tonic::{Request, Response, Status};

use super::{
    convert::{order, timestamp},
    pb::{self, group_service_server::GroupService},
    roles::{role_pb, tenant_of},
};
use crate::{
    domain::{
        Error,
        group::{CreateGroup, GroupOrder, GroupView, Relations, UpdateGroup},
        page::{Order, PageRequest},
    },
    service::Groups,
};

/// gRPC face of groups.
pub struct GroupApi {
    groups: Groups,
}

impl GroupApi {
    /// Serves `groups`.
    pub fn new(groups: Groups) -> Self {
        Self { groups }
    }
}

/// The tenant a group request acts in: a user's session's; an environment's, named and required.
fn group_tenant<T>(request: &Request<T>, asked: &str) -> Result<String, Status> {
    tenant_of(request, asked)?.ok_or_else(|| Error::invalid("tenant_id", "is required").into())
}

/// The relations asked for over gRPC.
fn relations(raw: i32) -> Result<Relations, Error> {
    match pb::GroupRelations::try_from(raw) {
        Ok(pb::GroupRelations::Unspecified) => Ok(Relations::None),
        Ok(pb::GroupRelations::Roles) => Ok(Relations::Roles),
        Ok(pb::GroupRelations::Users) => Ok(Relations::Users),
        Ok(pb::GroupRelations::RolesAndUsers) => Ok(Relations::RolesAndUsers),
        Err(_) => Err(Error::invalid("relations", "is not a known relation")),
    }
}

/// The contract's name of a sort field asked for over gRPC.
fn sort_name(raw: i32) -> Result<&'static str, Error> {
    Ok(match pb::GroupSortBy::try_from(raw) {
        Ok(pb::GroupSortBy::Unspecified | pb::GroupSortBy::CreatedAt) => "createdAt",
        Ok(pb::GroupSortBy::UpdatedAt) => "updatedAt",
        Ok(pb::GroupSortBy::Id) => "id",
        Ok(pb::GroupSortBy::Name) => "name",
        Err(_) => return Err(Error::invalid("sort_by", "is not a known sort field")),
    })
}

/// `view` as gRPC shows it, its roles with environment `vendor_id`.
fn group_pb(view: GroupView, vendor_id: &str) -> pb::Group {
    let group = view.group;
    pb::Group {
        id: group.id,
        tenant_id: group.tenant_id,
        name: group.name,
        description: group.description.unwrap_or_default(),
        color: group.color.unwrap_or_default(),
        metadata: group.metadata.unwrap_or_default(),
        roles: view.roles.into_iter().map(|r| role_pb(r, vendor_id)).collect(),
        users: view
            .users
            .into_iter()
            .map(|u| pb::GroupUser {
                id: u.id,
                email: u.email,
                name: u.name.unwrap_or_default(),
                profile_picture_url: u.profile_picture_url.unwrap_or_default(),
                created_at: Some(timestamp(u.created_at)),
                activated_for_tenant: u.activated,
            })
            .collect(),
        managed_by: group.managed_by,
        created_at: Some(timestamp(group.created_at)),
        updated_at: Some(timestamp(group.updated_at)),
    }
}

fn configuration_pb(configuration: crate::domain::group::GroupsConfiguration) -> pb::GroupsConfiguration {
    pb::GroupsConfiguration {
        enabled: configuration.enabled,
        roles_enabled: configuration.roles_enabled,
    }
}

#[tonic::async_trait]
impl GroupService for GroupApi {
    async fn list_groups(
        &self,
        request: Request<pb::ListGroupsRequest>,
    ) -> Result<Response<pb::ListGroupsResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let relations = relations(request.get_ref().relations)?;
        let listed = self.groups.list(&scope, &tenant, relations).await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::ListGroupsResponse {
            groups: listed.into_iter().map(|g| group_pb(g, vendor)).collect(),
        }))
    }

    async fn list_groups_paged(
        &self,
        request: Request<pb::ListGroupsPagedRequest>,
    ) -> Result<Response<pb::ListGroupsPagedResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.limit.into(), r.offset.into()).map_err(Error::from)?;
        let direction = match order(r.order)? {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        };
        let sorted = GroupOrder::parse(sort_name(r.sort_by)?, direction).map_err(Error::from)?;
        let listed = self
            .groups
            .list_page(&scope, &tenant, relations(r.relations)?, sorted, page)
            .await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::ListGroupsPagedResponse {
            total_items: listed.total_items as i64,
            total_pages: listed.total_pages as i64,
            groups: listed.items.into_iter().map(|g| group_pb(g, vendor)).collect(),
        }))
    }

    async fn get_group(
        &self,
        request: Request<pb::GetGroupRequest>,
    ) -> Result<Response<pb::GetGroupResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        let view = self
            .groups
            .get(&scope, &tenant, &r.group_id, relations(r.relations)?)
            .await?;
        Ok(Response::new(pb::GetGroupResponse {
            group: Some(group_pb(view, scope.environment_id())),
        }))
    }

    async fn batch_get_groups(
        &self,
        request: Request<pb::BatchGetGroupsRequest>,
    ) -> Result<Response<pb::BatchGetGroupsResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        let found = self
            .groups
            .get_many(&scope, &tenant, r.group_ids, relations(r.relations)?)
            .await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::BatchGetGroupsResponse {
            groups: found.into_iter().map(|g| group_pb(g, vendor)).collect(),
        }))
    }

    async fn create_group(
        &self,
        request: Request<pb::CreateGroupRequest>,
    ) -> Result<Response<pb::CreateGroupResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        let create = CreateGroup {
            name: r.name,
            description: r.description,
            color: r.color,
            metadata: r.metadata,
        };
        let view = self.groups.create(&scope, &tenant, create).await?;
        Ok(Response::new(pb::CreateGroupResponse {
            group: Some(group_pb(view, scope.environment_id())),
        }))
    }

    async fn update_group(
        &self,
        request: Request<pb::UpdateGroupRequest>,
    ) -> Result<Response<pb::UpdateGroupResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        let update = UpdateGroup {
            name: r.name,
            description: r.description,
            color: r.color,
            metadata: r.metadata,
        };
        let view = self.groups.update(&scope, &tenant, &r.group_id, update).await?;
        Ok(Response::new(pb::UpdateGroupResponse {
            group: Some(group_pb(view, scope.environment_id())),
        }))
    }

    async fn delete_group(
        &self,
        request: Request<pb::DeleteGroupRequest>,
    ) -> Result<Response<pb::DeleteGroupResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        self.groups
            .delete(&scope, &tenant, &request.into_inner().group_id)
            .await?;
        Ok(Response::new(pb::DeleteGroupResponse {}))
    }

    async fn add_group_roles(
        &self,
        request: Request<pb::AddGroupRolesRequest>,
    ) -> Result<Response<pb::AddGroupRolesResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        self.groups
            .add_roles(&scope, &tenant, &r.group_id, r.role_ids)
            .await?;
        Ok(Response::new(pb::AddGroupRolesResponse {}))
    }

    async fn remove_group_roles(
        &self,
        request: Request<pb::RemoveGroupRolesRequest>,
    ) -> Result<Response<pb::RemoveGroupRolesResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        self.groups
            .remove_roles(&scope, &tenant, &r.group_id, r.role_ids)
            .await?;
        Ok(Response::new(pb::RemoveGroupRolesResponse {}))
    }

    async fn add_group_users(
        &self,
        request: Request<pb::AddGroupUsersRequest>,
    ) -> Result<Response<pb::AddGroupUsersResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        self.groups
            .add_users(&scope, &tenant, &r.group_id, r.user_ids)
            .await?;
        Ok(Response::new(pb::AddGroupUsersResponse {}))
    }

    async fn remove_group_users(
        &self,
        request: Request<pb::RemoveGroupUsersRequest>,
    ) -> Result<Response<pb::RemoveGroupUsersResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let r = request.into_inner();
        self.groups
            .remove_users(&scope, &tenant, &r.group_id, r.user_ids)
            .await?;
        Ok(Response::new(pb::RemoveGroupUsersResponse {}))
    }

    async fn list_users_groups(
        &self,
        request: Request<pb::ListUsersGroupsRequest>,
    ) -> Result<Response<pb::ListUsersGroupsResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let tenant = group_tenant(&request, &request.get_ref().tenant_id)?;
        let held = self
            .groups
            .of_users(&scope, &tenant, request.into_inner().user_ids)
            .await?;
        Ok(Response::new(pb::ListUsersGroupsResponse {
            users: held
                .into_iter()
                .map(|member| pb::UserGroups {
                    user_id: member.user_id,
                    group_ids: member.groups.into_iter().map(|g| g.id).collect(),
                })
                .collect(),
        }))
    }

    async fn get_groups_configuration(
        &self,
        request: Request<pb::GetGroupsConfigurationRequest>,
    ) -> Result<Response<pb::GetGroupsConfigurationResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let configuration = self.groups.configuration(&scope).await?;
        Ok(Response::new(pb::GetGroupsConfigurationResponse {
            configuration: Some(configuration_pb(configuration)),
        }))
    }

    async fn update_groups_configuration(
        &self,
        request: Request<pb::UpdateGroupsConfigurationRequest>,
    ) -> Result<Response<pb::UpdateGroupsConfigurationResponse>, Status> {
        let scope = super::auth::scope(&request)?;
        let r = request.into_inner();
        let mut patch = serde_json::Map::new();
        if let Some(enabled) = r.enabled {
            patch.insert("enabled".into(), enabled.into());
        }
        if let Some(roles_enabled) = r.roles_enabled {
            patch.insert("rolesEnabled".into(), roles_enabled.into());
        }
        let configuration = self.groups.configure(&scope, patch).await?;
        Ok(Response::new(pb::UpdateGroupsConfigurationResponse {
            configuration: Some(configuration_pb(configuration)),
        }))
    }
}

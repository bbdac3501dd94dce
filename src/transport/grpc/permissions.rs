//! `identity.v1.PermissionService`: permissions and their categories.

use tonic::{Request, Response, Status};

use super::{
    auth::scope,
    convert::timestamp,
    pb::{self, permission_service_server::PermissionService},
};
use crate::{
    domain::{
        Error,
        permission::{
            AssignmentType, CategoryWithPermissions, CreateCategory, CreatePermission, Permission,
            PermissionCategory, UpdateCategory, UpdatePermission,
        },
    },
    service::Permissions,
};

/// gRPC face of permissions.
pub struct PermissionApi {
    permissions: Permissions,
}

impl PermissionApi {
    /// Serves `permissions`.
    pub fn new(permissions: Permissions) -> Self {
        Self { permissions }
    }
}

fn assignment_pb(assignment: AssignmentType) -> pb::AssignmentType {
    match assignment {
        AssignmentType::Never => pb::AssignmentType::Never,
        AssignmentType::Always => pb::AssignmentType::Always,
        AssignmentType::Assignable => pb::AssignmentType::Assignable,
    }
}

/// The contract's name of an assignment type asked for over gRPC; empty when unspecified.
fn assignment_name(field: &str, raw: i32) -> Result<&'static str, Error> {
    match pb::AssignmentType::try_from(raw) {
        Ok(pb::AssignmentType::Unspecified) => Ok(""),
        Ok(pb::AssignmentType::Assignable) => Ok(AssignmentType::Assignable.as_str()),
        Ok(pb::AssignmentType::Never) => Ok(AssignmentType::Never.as_str()),
        Ok(pb::AssignmentType::Always) => Ok(AssignmentType::Always.as_str()),
        Err(_) => Err(Error::invalid(field, "is not a known assignment type")),
    }
}

impl From<Permission> for pb::Permission {
    fn from(p: Permission) -> Self {
        Self {
            id: p.id,
            key: p.key,
            name: p.name,
            description: p.description.unwrap_or_default(),
            category_id: p.category_id.unwrap_or_default(),
            fe_permission: p.fe_permission,
            assignment_type: assignment_pb(p.assignment_type).into(),
            role_ids: p.role_ids,
            created_at: Some(timestamp(p.created_at)),
            updated_at: Some(timestamp(p.updated_at)),
        }
    }
}

impl From<PermissionCategory> for pb::PermissionCategory {
    fn from(c: PermissionCategory) -> Self {
        Self {
            id: c.id,
            name: c.name,
            description: c.description.unwrap_or_default(),
            fe_category: c.fe_category,
            created_at: Some(timestamp(c.created_at)),
            updated_at: Some(timestamp(c.updated_at)),
            permissions: Vec::new(),
        }
    }
}

impl From<CategoryWithPermissions> for pb::PermissionCategory {
    fn from(c: CategoryWithPermissions) -> Self {
        Self {
            permissions: c.permissions.into_iter().map(Into::into).collect(),
            ..c.category.into()
        }
    }
}

#[tonic::async_trait]
impl PermissionService for PermissionApi {
    async fn list_permissions(
        &self,
        request: Request<pb::ListPermissionsRequest>,
    ) -> Result<Response<pb::ListPermissionsResponse>, Status> {
        let scope = scope(&request)?;
        let permissions = self.permissions.list(&scope).await?;
        Ok(Response::new(pb::ListPermissionsResponse {
            permissions: permissions.into_iter().map(Into::into).collect(),
        }))
    }

    async fn create_permissions(
        &self,
        request: Request<pb::CreatePermissionsRequest>,
    ) -> Result<Response<pb::CreatePermissionsResponse>, Status> {
        let scope = scope(&request)?;
        let mut requests = Vec::new();
        for (i, p) in request.into_inner().permissions.into_iter().enumerate() {
            requests.push(CreatePermission {
                assignment_type: assignment_name(
                    &format!("permissions[{i}].assignment_type"),
                    p.assignment_type,
                )?
                .to_owned(),
                key: p.key,
                name: p.name,
                description: p.description,
                category_id: p.category_id,
            });
        }
        let created = self.permissions.create(&scope, requests).await?;
        Ok(Response::new(pb::CreatePermissionsResponse {
            permissions: created.into_iter().map(Into::into).collect(),
        }))
    }

    async fn update_permission(
        &self,
        request: Request<pb::UpdatePermissionRequest>,
    ) -> Result<Response<pb::UpdatePermissionResponse>, Status> {
        let scope = scope(&request)?;
        let r = request.into_inner();
        let update = UpdatePermission {
            key: r.key,
            name: r.name,
            description: r.description,
            category_id: r.category_id,
        };
        let permission = self.permissions.update(&scope, &r.permission_id, update).await?;
        Ok(Response::new(pb::UpdatePermissionResponse {
            permission: Some(permission.into()),
        }))
    }

    async fn delete_permission(
        &self,
        request: Request<pb::DeletePermissionRequest>,
    ) -> Result<Response<pb::DeletePermissionResponse>, Status> {
        let scope = scope(&request)?;
        self.permissions
            .delete(&scope, &request.into_inner().permission_id)
            .await?;
        Ok(Response::new(pb::DeletePermissionResponse {}))
    }

    async fn add_permission_to_roles(
        &self,
        request: Request<pb::AddPermissionToRolesRequest>,
    ) -> Result<Response<pb::AddPermissionToRolesResponse>, Status> {
        let scope = scope(&request)?;
        let r = request.into_inner();
        let permission = self
            .permissions
            .add_to_roles(&scope, &r.permission_id, r.role_ids)
            .await?;
        Ok(Response::new(pb::AddPermissionToRolesResponse {
            permission: Some(permission.into()),
        }))
    }

    async fn classify_permissions(
        &self,
        request: Request<pb::ClassifyPermissionsRequest>,
    ) -> Result<Response<pb::ClassifyPermissionsResponse>, Status> {
        let scope = scope(&request)?;
        let r = request.into_inner();
        let assignment = assignment_name("assignment_type", r.assignment_type)?;
        let classified = self
            .permissions
            .classify(&scope, r.permission_ids, assignment)
            .await?;
        Ok(Response::new(pb::ClassifyPermissionsResponse {
            permissions: classified.into_iter().map(Into::into).collect(),
        }))
    }

    async fn list_permission_categories(
        &self,
        request: Request<pb::ListPermissionCategoriesRequest>,
    ) -> Result<Response<pb::ListPermissionCategoriesResponse>, Status> {
        let scope = scope(&request)?;
        let categories = self.permissions.categories(&scope).await?;
        Ok(Response::new(pb::ListPermissionCategoriesResponse {
            categories: categories.into_iter().map(Into::into).collect(),
        }))
    }

    async fn create_permission_category(
        &self,
        request: Request<pb::CreatePermissionCategoryRequest>,
    ) -> Result<Response<pb::CreatePermissionCategoryResponse>, Status> {
        let scope = scope(&request)?;
        let r = request.into_inner();
        let category = self
            .permissions
            .create_category(
                &scope,
                CreateCategory {
                    id: r.id,
                    name: r.name,
                    description: r.description,
                },
            )
            .await?;
        Ok(Response::new(pb::CreatePermissionCategoryResponse {
            category: Some(category.into()),
        }))
    }

    async fn update_permission_category(
        &self,
        request: Request<pb::UpdatePermissionCategoryRequest>,
    ) -> Result<Response<pb::UpdatePermissionCategoryResponse>, Status> {
        let scope = scope(&request)?;
        let r = request.into_inner();
        let update = UpdateCategory {
            name: r.name,
            description: r.description,
        };
        let category = self
            .permissions
            .update_category(&scope, &r.category_id, update)
            .await?;
        Ok(Response::new(pb::UpdatePermissionCategoryResponse {
            category: Some(category.into()),
        }))
    }

    async fn delete_permission_category(
        &self,
        request: Request<pb::DeletePermissionCategoryRequest>,
    ) -> Result<Response<pb::DeletePermissionCategoryResponse>, Status> {
        let scope = scope(&request)?;
        self.permissions
            .delete_category(&scope, &request.into_inner().category_id)
            .await?;
        Ok(Response::new(pb::DeletePermissionCategoryResponse {}))
    }
}

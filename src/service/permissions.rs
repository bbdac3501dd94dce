//! Permissions and their categories.

use std::collections::HashSet;

use super::Deps;
use crate::{
    domain::{
        Error, FieldViolation, Resource,
        error::Result,
        page::MAX_LIST,
        permission::{
            AssignmentType, CategoryWithPermissions, CreateCategory, CreatePermission, Permission,
            PermissionCategory, UpdateCategory, UpdatePermission,
        },
        role::id_list,
        scope::Scope,
    },
    store::{self, permissions, roles},
};

/// Permission and category use cases.
#[derive(Clone)]
pub struct Permissions {
    deps: Deps,
}

impl Permissions {
    pub(super) fn new(deps: Deps) -> Self {
        Self { deps }
    }

    /// Every category of the environment, oldest first, each with its permissions by key.
    pub async fn categories(&self, scope: &Scope) -> Result<Vec<CategoryWithPermissions>> {
        let db = &self.deps.db;
        let categories = permissions::categories(db, scope).await?;
        let mut all = permissions::list(db, scope).await?;
        Ok(categories
            .into_iter()
            .map(|category| {
                let (mine, rest) = all
                    .drain(..)
                    .partition(|p| p.category_id.as_deref() == Some(category.id.as_str()));
                all = rest;
                CategoryWithPermissions {
                    category,
                    permissions: mine,
                }
            })
            .collect())
    }

    /// Creates a category; ALREADY_EXISTS when the id asked for is taken.
    pub async fn create_category(
        &self,
        scope: &Scope,
        request: CreateCategory,
    ) -> Result<PermissionCategory> {
        let new = request.parse()?;
        let txn = store::begin(&self.deps.db).await?;
        let category = permissions::insert_category(&txn, scope, new, self.deps.now()).await?;
        txn.commit().await?;
        Ok(category)
    }

    /// Changes a category's name or description; NOT_FOUND when there is no such category.
    pub async fn update_category(
        &self,
        scope: &Scope,
        id: &str,
        update: UpdateCategory,
    ) -> Result<PermissionCategory> {
        let txn = store::begin(&self.deps.db).await?;
        let mut category = permissions::category(&txn, scope, id, true).await?;
        update.apply_to(&mut category)?;
        category.updated_at = self.deps.now();
        permissions::save_category(&txn, scope, &category).await?;
        txn.commit().await?;
        Ok(category)
    }

    /// Deletes an empty category. A built-in one (`BUILT_IN_CATEGORY`) and one that still lists
    /// permissions (`CATEGORY_NOT_EMPTY`: move or delete them first) are refused, so no
    /// permission is left without a category by surprise.
    pub async fn delete_category(&self, scope: &Scope, id: &str) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        let category = permissions::category(&txn, scope, id, true).await?;
        if category.fe_category {
            return Err(Error::FailedPrecondition {
                reason: "BUILT_IN_CATEGORY",
                message: "built-in permission categories cannot be deleted".into(),
            });
        }
        if permissions::category_in_use(&txn, scope, id).await? {
            return Err(Error::FailedPrecondition {
                reason: "CATEGORY_NOT_EMPTY",
                message: "the category still lists permissions; move or delete them first".into(),
            });
        }
        permissions::delete_category(&txn, scope, id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Every permission of the environment, by key, with the roles that list it.
    pub async fn list(&self, scope: &Scope) -> Result<Vec<Permission>> {
        permissions::list(&self.deps.db, scope).await
    }

    /// Creates permissions, all or none. Bad fields are named by their place
    /// (`permissions[2].key`), as is a category id naming no category; a key already taken, or
    /// given twice, is ALREADY_EXISTS.
    pub async fn create(&self, scope: &Scope, requests: Vec<CreatePermission>) -> Result<Vec<Permission>> {
        if requests.len() > MAX_LIST {
            return Err(Error::invalid(
                "permissions",
                format!("must list at most {MAX_LIST} permissions"),
            ));
        }
        let mut violations = Vec::new();
        let mut new = Vec::with_capacity(requests.len());
        for (i, request) in requests.into_iter().enumerate() {
            match request.parse(&format!("permissions[{i}]")) {
                Ok(parsed) => new.push(parsed),
                Err(mut found) => violations.append(&mut found),
            }
        }
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        let mut keys = HashSet::new();
        if !new.iter().all(|p| keys.insert(p.key.as_str())) {
            return Err(Error::AlreadyExists {
                resource: Resource::Permission,
                field: "key",
            });
        }
        let txn = store::begin(&self.deps.db).await?;
        let category_ids: Vec<String> = new.iter().filter_map(|p| p.category_id.clone()).collect();
        let unknown = permissions::missing_categories(&txn, scope, &category_ids).await?;
        let violations: Vec<FieldViolation> = new
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let id = p.category_id.as_ref()?;
                unknown.contains(id).then(|| {
                    FieldViolation::new(
                        format!("permissions[{i}].category_id"),
                        format!("names no permission category: {id}"),
                    )
                })
            })
            .collect();
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        let created = permissions::insert_many(&txn, scope, new, self.deps.now()).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Changes a permission's key, name, description or category. Built-in permissions cannot be
    /// changed (`BUILT_IN_PERMISSION`).
    pub async fn update(&self, scope: &Scope, id: &str, update: UpdatePermission) -> Result<Permission> {
        let txn = store::begin(&self.deps.db).await?;
        let mut permission = permissions::get(&txn, scope, id, true).await?;
        refuse_built_in(&permission)?;
        update.apply_to(&mut permission)?;
        if let Some(category_id) = &permission.category_id
            && !permissions::missing_categories(&txn, scope, std::slice::from_ref(category_id))
                .await?
                .is_empty()
        {
            return Err(Error::invalid(
                "category_id",
                format!("names no permission category: {category_id}"),
            ));
        }
        permission.updated_at = self.deps.now();
        permissions::save(&txn, scope, &permission).await?;
        txn.commit().await?;
        Ok(permission)
    }

    /// Deletes a permission; every role that listed it loses it, in the same transaction.
    /// Built-in permissions cannot be deleted (`BUILT_IN_PERMISSION`).
    pub async fn delete(&self, scope: &Scope, id: &str) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        let permission = permissions::get(&txn, scope, id, true).await?;
        refuse_built_in(&permission)?;
        permissions::delete(&txn, scope, id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Adds a permission to each of `role_ids` (roles keep what they had); role ids naming no
    /// role are named, and nothing changes.
    pub async fn add_to_roles(&self, scope: &Scope, id: &str, role_ids: Vec<String>) -> Result<Permission> {
        let role_ids = id_list("role_ids", role_ids)?;
        let txn = store::begin(&self.deps.db).await?;
        permissions::get(&txn, scope, id, true).await?;
        let found = roles::rows_by_ids(&txn, scope, &role_ids, true).await?;
        let unknown: Vec<&str> = role_ids
            .iter()
            .filter(|id| !found.iter().any(|r| &r.id == *id))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(
                "role_ids",
                format!("names no role: {}", unknown.join(", ")),
            ));
        }
        permissions::add_to_roles(&txn, id, &role_ids).await?;
        let permission = permissions::get(&txn, scope, id, false).await?;
        txn.commit().await?;
        Ok(permission)
    }

    /// Sets who may hold each of `permission_ids` besides through roles: `NEVER`, `ALWAYS` or
    /// `ASSIGNABLE`. Ids naming no permission are named, and nothing changes.
    pub async fn classify(
        &self,
        scope: &Scope,
        permission_ids: Vec<String>,
        assignment_type: &str,
    ) -> Result<Vec<Permission>> {
        let permission_ids = id_list("permission_ids", permission_ids)?;
        let assignment_type = AssignmentType::parse("type", assignment_type, AssignmentType::Assignable)
            .and_then(|t| {
                if assignment_type.is_empty() {
                    Err(FieldViolation::new("type", "must be NEVER, ALWAYS or ASSIGNABLE"))
                } else {
                    Ok(t)
                }
            })?;
        let txn = store::begin(&self.deps.db).await?;
        let unknown = permissions::missing(&txn, scope, &permission_ids).await?;
        if !unknown.is_empty() {
            return Err(Error::invalid(
                "permission_ids",
                format!("names no permission: {}", unknown.join(", ")),
            ));
        }
        permissions::set_assignment_type(&txn, scope, &permission_ids, assignment_type, self.deps.now())
            .await?;
        let classified = permissions::by_ids(&txn, scope, &permission_ids).await?;
        txn.commit().await?;
        Ok(classified)
    }
}

/// FAILED_PRECONDITION for a built-in permission, which stays as Frontegg defines it.
fn refuse_built_in(permission: &Permission) -> Result<()> {
    if permission.fe_permission {
        return Err(Error::FailedPrecondition {
            reason: "BUILT_IN_PERMISSION",
            message: "built-in permissions cannot be changed or deleted".into(),
        });
    }
    Ok(())
}

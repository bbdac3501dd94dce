//! Roles, the roles of users in tenants, and the access they add up to.

use std::collections::HashMap;

use super::Deps;
use crate::{
    domain::{
        Error, Resource,
        error::Result,
        page::{Page, PageRequest},
        role::{Access, CreateRole, CreateRoleFrom, MemberRoles, Role, RoleFilter, UpdateRole, id_list},
        scope::Scope,
        tenant::Tenant,
    },
    store::{self, groups, permissions, roles, roles::RoleRow, tenants, users},
};

/// Role use cases.
#[derive(Clone)]
pub struct Roles {
    deps: Deps,
}

impl Roles {
    pub(super) fn new(deps: Deps) -> Self {
        Self { deps }
    }

    /// The environment's roles and, when `tenant_id` is given, that tenant's own roles (the
    /// contract's v1 listing); oldest first. NOT_FOUND for an unknown tenant.
    pub async fn list(&self, scope: &Scope, tenant_id: Option<&str>) -> Result<Vec<Role>> {
        let db = &self.deps.db;
        let tenant = self.tenant(db, scope, tenant_id, false).await?;
        let rows = roles::visible(db, scope, tenant.as_ref().map(|t| t.id.as_str())).await?;
        roles::complete(db, rows).await
    }

    /// A page of roles (the contract's v2 listing): those visible in `tenant_id` as in
    /// [`Roles::list`], or, when the filter names tenants (and the scope is the environment's),
    /// those tenants' own roles; matching the filter's text and levels, in its order, ties broken
    /// by id. Filtered, sorted and paged by the database.
    pub async fn list_page(
        &self,
        scope: &Scope,
        tenant_id: Option<&str>,
        mut filter: RoleFilter,
        page: PageRequest,
    ) -> Result<Page<Role>> {
        let db = &self.deps.db;
        if scope.tenant_id().is_some() {
            // A tenant admin lists what its tenant sees, never other tenants' own roles.
            filter.tenant_ids.clear();
        }
        let (rows, total) = if filter.tenant_ids.is_empty() {
            let tenant = self.tenant(db, scope, tenant_id, false).await?;
            let among = roles::Among::Visible(tenant.as_ref().map(|t| t.id.as_str()));
            roles::page(db, scope, among, &filter, page).await?
        } else {
            let mut refs = Vec::new();
            for tenant_id in &filter.tenant_ids {
                if let Some(tenant) = tenants::find(db, scope, tenant_id).await? {
                    refs.push(tenant.id);
                }
            }
            roles::page(db, scope, roles::Among::OfTenants(&refs), &filter, page).await?
        };
        let items = roles::complete(db, rows).await?;
        Ok(Page::new(items, total, page))
    }

    /// The distinct levels of the roles visible in `tenant_id` (as in [`Roles::list`]), ascending.
    pub async fn distinct_levels(&self, scope: &Scope, tenant_id: Option<&str>) -> Result<Vec<i32>> {
        let db = &self.deps.db;
        let tenant = self.tenant(db, scope, tenant_id, false).await?;
        let mut levels: Vec<i32> = roles::visible(db, scope, tenant.as_ref().map(|t| t.id.as_str()))
            .await?
            .into_iter()
            .map(|r| r.level)
            .collect();
        levels.sort_unstable();
        levels.dedup();
        Ok(levels)
    }

    /// The ids of the tenants that have roles of their own, sorted.
    pub async fn distinct_tenants(&self, scope: &Scope) -> Result<Vec<String>> {
        roles::tenants_with_roles(&self.deps.db, scope).await
    }

    /// Creates roles, all or none (the contract's v1 creation), as roles of `tenant_id` when
    /// given. Bad fields are named by their place (`roles[1].key`); a key taken, or given twice,
    /// is ALREADY_EXISTS.
    pub async fn create(
        &self,
        scope: &Scope,
        tenant_id: Option<&str>,
        requests: Vec<CreateRole>,
    ) -> Result<Vec<Role>> {
        if requests.len() > crate::domain::page::MAX_LIST {
            return Err(Error::invalid("roles", "lists too many roles"));
        }
        let mut violations = Vec::new();
        let mut new = Vec::with_capacity(requests.len());
        for (i, request) in requests.into_iter().enumerate() {
            match request.parse(&format!("roles[{i}]")) {
                Ok(parsed) => new.push(parsed),
                Err(mut found) => violations.append(&mut found),
            }
        }
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        let mut keys = std::collections::HashSet::new();
        if !new.iter().all(|r| keys.insert(r.key.clone())) {
            return Err(Error::AlreadyExists {
                resource: Resource::Role,
                field: "key",
            });
        }
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = self.tenant(&txn, scope, tenant_id, true).await?;
        let mut rows = Vec::with_capacity(new.len());
        for role in new {
            let row = roles::insert(&txn, scope, role, tenant.as_ref().map(|t| t.id.clone()), now).await?;
            if row.migrate_role && row.is_default {
                roles::give_to_all_members(&txn, scope, &row, now).await?;
            }
            rows.push(row);
        }
        let created = roles::complete(&txn, rows).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Creates one role with permissions, at the level of a base role (the contract's v2
    /// creation), as a role of `tenant_id` when given. An unknown base role or permission is
    /// named; nothing is written then.
    pub async fn create_from(
        &self,
        scope: &Scope,
        tenant_id: Option<&str>,
        request: CreateRoleFrom,
    ) -> Result<Role> {
        let permission_ids = id_list("permission_ids", request.permission_ids)?;
        if request.base_role_id.is_empty() {
            return Err(Error::invalid("base_role_id", "must not be empty"));
        }
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let base = match roles::get_row(&txn, scope, &request.base_role_id, false).await {
            Err(Error::NotFound(_)) => {
                return Err(Error::invalid(
                    "base_role_id",
                    format!("names no role: {}", request.base_role_id),
                ));
            }
            found => found?,
        };
        let new = CreateRole {
            key: request.key,
            name: request.name,
            description: request.description,
            level: i64::from(base.level),
            is_default: request.is_default,
            first_user_role: false,
            migrate_role: false,
        }
        .parse("")
        .map_err(Error::InvalidArgument)?;
        let tenant = self.tenant(&txn, scope, tenant_id, true).await?;
        check_permissions(&txn, scope, &permission_ids).await?;
        let row = roles::insert(&txn, scope, new, tenant.map(|t| t.id), now).await?;
        roles::set_permissions(&txn, &row.id, &permission_ids).await?;
        let role = complete_one(&txn, row).await?;
        txn.commit().await?;
        Ok(role)
    }

    /// Changes the fields `update` sets. Marking a default role `migrate_role` gives it to every
    /// existing member too.
    pub async fn update(&self, scope: &Scope, id: &str, update: UpdateRole) -> Result<Role> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let mut row = self.changeable(&txn, scope, id).await?;
        let mut role = complete_one(&txn, row.clone()).await?;
        update.apply_to(&mut role)?;
        row.key = role.key;
        row.name = role.name;
        row.description = role.description;
        row.level = role.level;
        row.is_default = role.is_default;
        row.first_user_role = role.first_user_role;
        row.migrate_role = role.migrate_role;
        row.updated_at = now;
        roles::save(&txn, scope, &row).await?;
        if row.migrate_role && row.is_default {
            roles::give_to_all_members(&txn, scope, &row, now).await?;
        }
        let role = complete_one(&txn, row).await?;
        txn.commit().await?;
        Ok(role)
    }

    /// Deletes a role; the users that held it lose it, in the same transaction.
    pub async fn delete(&self, scope: &Scope, id: &str) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        self.changeable(&txn, scope, id).await?;
        roles::delete(&txn, scope, id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Makes `permission_ids` the role's permissions, replacing what it had. Ids naming no
    /// permission are named, and nothing changes.
    pub async fn set_permissions(
        &self,
        scope: &Scope,
        id: &str,
        permission_ids: Vec<String>,
    ) -> Result<Role> {
        let permission_ids = id_list("permission_ids", permission_ids)?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let mut row = self.changeable(&txn, scope, id).await?;
        check_permissions(&txn, scope, &permission_ids).await?;
        roles::set_permissions(&txn, id, &permission_ids).await?;
        row.updated_at = now;
        roles::save(&txn, scope, &row).await?;
        let role = complete_one(&txn, row).await?;
        txn.commit().await?;
        Ok(role)
    }

    /// Makes the role a role of `tenant_id`, or of the whole environment when `None`. Members of
    /// other tenants that held it lose it.
    pub async fn set_tenant(&self, scope: &Scope, id: &str, tenant_id: Option<&str>) -> Result<Role> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let mut row = self.changeable(&txn, scope, id).await?;
        let tenant = self.tenant(&txn, scope, tenant_id, true).await?;
        row.tenant_ref = tenant.as_ref().map(|t| t.id.clone());
        row.updated_at = now;
        roles::save(&txn, scope, &row).await?;
        if let Some(tenant) = &tenant {
            roles::unassign_outside(&txn, id, &tenant.id).await?;
            groups::unlink_role_outside(&txn, id, &tenant.id).await?;
        }
        let role = complete_one(&txn, row).await?;
        txn.commit().await?;
        Ok(role)
    }

    /// Gives user `user_id` roles in tenant `tenant_id`, keeping those it has; returns all it
    /// then has there. Ids naming no role, or a role of another tenant, are named and nothing is
    /// assigned; NOT_FOUND when the user is not a member of the tenant. Assigning a role twice,
    /// even at once, leaves one assignment.
    pub async fn assign(
        &self,
        scope: &Scope,
        user_id: &str,
        tenant_id: &str,
        role_ids: Vec<String>,
    ) -> Result<MemberRoles> {
        let role_ids = id_list("role_ids", role_ids)?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = self.membership(&txn, scope, user_id, tenant_id).await?;
        let found = holdable(&txn, scope, &tenant, &role_ids).await?;
        within_reach(&txn, scope, &tenant, &found).await?;
        roles::assign(&txn, user_id, &tenant.id, &role_ids, now).await?;
        let held = member_roles(&txn, user_id, &tenant).await?;
        txn.commit().await?;
        Ok(held)
    }

    /// Takes roles from user `user_id` in tenant `tenant_id`; returns what it then has there.
    /// Roles it did not have are ignored. NOT_FOUND when the user is not a member.
    pub async fn unassign(
        &self,
        scope: &Scope,
        user_id: &str,
        tenant_id: &str,
        role_ids: Vec<String>,
    ) -> Result<MemberRoles> {
        let role_ids = id_list("role_ids", role_ids)?;
        let txn = store::begin(&self.deps.db).await?;
        let tenant = self.membership(&txn, scope, user_id, tenant_id).await?;
        let found = roles::rows_by_ids(&txn, scope, &role_ids, false).await?;
        within_reach(&txn, scope, &tenant, &found).await?;
        roles::unassign(&txn, user_id, &tenant.id, &role_ids).await?;
        let held = member_roles(&txn, user_id, &tenant).await?;
        txn.commit().await?;
        Ok(held)
    }

    /// The roles of user `user_id` in tenant `tenant_id`; NOT_FOUND when it is not a member.
    pub async fn of_member(&self, scope: &Scope, user_id: &str, tenant_id: &str) -> Result<MemberRoles> {
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, tenant_id).await?;
        users::get_row(db, scope, user_id).await?;
        if !roles::is_member(db, user_id, &tenant.id).await? {
            return Err(Error::NotFound(Resource::Membership));
        }
        member_roles(db, user_id, &tenant).await
    }

    /// The roles each of `user_ids` holds itself in each of its tenants, by user and then by
    /// tenant id (users and memberships without roles are left out).
    pub async fn of_users_everywhere(
        &self,
        scope: &Scope,
        user_ids: &[String],
    ) -> Result<HashMap<String, HashMap<String, Vec<Role>>>> {
        let db = &self.deps.db;
        let held = roles::of_users_everywhere(db, scope, user_ids).await?;
        let mut places = Vec::new();
        let mut rows = Vec::new();
        for (user_id, tenants) in held {
            for (tenant_id, roles) in tenants {
                places.push((user_id.clone(), tenant_id, roles.len()));
                rows.extend(roles);
            }
        }
        let mut completed = roles::complete(db, rows).await?.into_iter();
        let mut by_user: HashMap<String, HashMap<String, Vec<Role>>> = HashMap::new();
        for (user_id, tenant_id, count) in places {
            let roles = completed.by_ref().take(count).collect();
            by_user.entry(user_id).or_default().insert(tenant_id, roles);
        }
        Ok(by_user)
    }

    /// The roles in tenant `tenant_id` of each of `user_ids` that is a member of it (the
    /// contract's `GET users/v3/roles`), in the order asked; others are left out.
    pub async fn of_members(
        &self,
        scope: &Scope,
        tenant_id: &str,
        user_ids: Vec<String>,
    ) -> Result<Vec<MemberRoles>> {
        let user_ids = id_list("ids", user_ids)?;
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, tenant_id).await?;
        let members = users::list(
            db,
            scope,
            &crate::domain::user::UserFilter {
                ids: user_ids.clone(),
                ..Default::default()
            },
            Some(&tenant.id),
            PageRequest {
                limit: user_ids.len().max(1) as u64,
                offset: 0,
            },
        )
        .await?;
        let member_ids: Vec<String> = members.items.into_iter().map(|u| u.id).collect();
        let mut held = roles::of_members(db, &member_ids, &tenant.id).await?;
        let rows: Vec<RoleRow> = held.values().flatten().cloned().collect();
        let complete: HashMap<String, Role> = roles::complete(db, rows)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        Ok(user_ids
            .into_iter()
            .filter(|id| member_ids.contains(id))
            .map(|user_id| MemberRoles {
                roles: held
                    .remove(&user_id)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|r| complete.get(&r.id).cloned())
                    .collect(),
                tenant_id: tenant.tenant_id.clone(),
                user_id,
            })
            .collect())
    }

    /// The roles of user `user_id` in tenant `tenant_id` and the permissions they grant (with
    /// every `ALWAYS` one, without any `NEVER` one), in full, as they are now (the contract's
    /// `GET users/v1/me/authorization`): its own roles, then those it holds through its groups
    /// only (when the groups configuration lets groups' roles be inherited), by key. NOT_FOUND
    /// when it is not a member.
    pub async fn authorization(
        &self,
        scope: &Scope,
        user_id: &str,
        tenant_id: &str,
    ) -> Result<(Vec<Role>, Vec<crate::domain::permission::Permission>)> {
        let held = self.of_member(scope, user_id, tenant_id).await?;
        let db = &self.deps.db;
        let group_roles = scope.environment().groups.roles_inherited();
        let access = roles::access(db, scope, user_id, tenant_id, group_roles).await?;
        let granted = permissions::list(db, scope)
            .await?
            .into_iter()
            .filter(|p| access.permissions.binary_search(&p.key).is_ok())
            .collect();
        let mut roles = held.roles;
        if access.roles.len() > roles.len() {
            let tenant = tenants::get(db, scope, tenant_id).await?;
            let mut inherited: Vec<RoleRow> = roles::visible(db, scope, Some(&tenant.id))
                .await?
                .into_iter()
                .filter(|r| access.roles.binary_search(&r.key).is_ok() && !roles.iter().any(|h| h.id == r.id))
                .collect();
            inherited.sort_by(|a, b| a.key.cmp(&b.key));
            roles.extend(roles::complete(db, inherited).await?);
        }
        Ok((roles, granted))
    }

    /// What user `user_id` may do in tenant `tenant_id`: its role keys, and the keys of the
    /// permissions they grant with every `ALWAYS` one and without any `NEVER` one; distinct,
    /// sorted. One statement. NOT_FOUND when the user is not a member of the tenant.
    pub async fn effective(&self, scope: &Scope, user_id: &str, tenant_id: &str) -> Result<Access> {
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, tenant_id).await?;
        users::get_row(db, scope, user_id).await?;
        if !roles::is_member(db, user_id, &tenant.id).await? {
            return Err(Error::NotFound(Resource::Membership));
        }
        let group_roles = scope.environment().groups.roles_inherited();
        roles::access(db, scope, user_id, tenant_id, group_roles).await
    }

    /// The live tenant `tenant_id`, when one is given; NOT_FOUND when there is no such tenant.
    /// Share-locked against the tenant's deletion until the transaction ends when `locked`, for
    /// a write that refers to it.
    async fn tenant(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &Scope,
        tenant_id: Option<&str>,
        locked: bool,
    ) -> Result<Option<Tenant>> {
        let Some(tenant_id) = tenant_id else {
            return Ok(None);
        };
        Ok(Some(if locked {
            tenants::lock_shared(db, scope, tenant_id).await?
        } else {
            tenants::get(db, scope, tenant_id).await?
        }))
    }

    /// Role `id`, locked for a change, if the scope may change it: a scope narrowed to a tenant
    /// (a tenant admin's) changes only that tenant's own roles, and any other role is NOT_FOUND
    /// to it, as if it did not exist; the environment's scope changes every role.
    async fn changeable(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &Scope,
        id: &str,
    ) -> Result<RoleRow> {
        let row = roles::get_row(db, scope, id, true).await?;
        if let Some(tenant_id) = scope.tenant_id() {
            let tenant = tenants::get(db, scope, tenant_id).await?;
            if row.tenant_ref.as_deref() != Some(tenant.id.as_str()) {
                return Err(Error::NotFound(Resource::Role));
            }
        }
        Ok(row)
    }

    /// The tenant of a membership about to change: the user's row is locked as a removal from
    /// the tenant locks it, so the membership cannot end under the change. NOT_FOUND for an
    /// unknown user or tenant, or a user that is not a member.
    async fn membership(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &Scope,
        user_id: &str,
        tenant_id: &str,
    ) -> Result<Tenant> {
        users::lock_row(db, scope, user_id).await?;
        let tenant = tenants::lock_shared(db, scope, tenant_id).await?;
        if !roles::is_member(db, user_id, &tenant.id).await? {
            return Err(Error::NotFound(Resource::Membership));
        }
        Ok(tenant)
    }
}

/// The roles `role_ids` (distinct), if a member of `tenant` may hold each: a role of the
/// environment or of that tenant. Share-locked until the transaction ends (PostgreSQL), so none
/// is deleted under the assignment that follows. INVALID_ARGUMENT naming the ids that name no
/// role (for a scope narrowed to a tenant, other tenants' roles among them), else those of
/// another tenant's roles.
pub(crate) async fn holdable(
    db: &impl sea_orm::ConnectionTrait,
    scope: &Scope,
    tenant: &Tenant,
    role_ids: &[String],
) -> Result<Vec<RoleRow>> {
    let found = roles::rows_by_ids(db, scope, role_ids, true).await?;
    // A tenant's member is not told that another tenant's role exists: to it, it names none.
    let seen =
        |r: &RoleRow| scope.tenant_id().is_none() || r.tenant_ref.as_deref().is_none_or(|t| t == tenant.id);
    let unknown: Vec<&str> = role_ids
        .iter()
        .filter(|id| !found.iter().any(|r| &r.id == *id && seen(r)))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(Error::invalid(
            "role_ids",
            format!("names no role: {}", unknown.join(", ")),
        ));
    }
    let foreign: Vec<&str> = found
        .iter()
        .filter(|r| r.tenant_ref.as_deref().is_some_and(|t| t != tenant.id))
        .map(|r| r.id.as_str())
        .collect();
    if !foreign.is_empty() {
        return Err(Error::invalid(
            "role_ids",
            format!("names roles of another tenant: {}", foreign.join(", ")),
        ));
    }
    Ok(found)
}

/// INVALID_ARGUMENT naming the ids that name no permission of the environment.
async fn check_permissions(db: &impl sea_orm::ConnectionTrait, scope: &Scope, ids: &[String]) -> Result<()> {
    let unknown = permissions::missing(db, scope, ids).await?;
    if !unknown.is_empty() {
        return Err(Error::invalid(
            "permission_ids",
            format!("names no permission: {}", unknown.join(", ")),
        ));
    }
    Ok(())
}

async fn complete_one(db: &impl sea_orm::ConnectionTrait, row: RoleRow) -> Result<Role> {
    roles::complete(db, vec![row])
        .await?
        .pop()
        .ok_or(Error::NotFound(Resource::Role))
}

/// Refuses to give or take `roles` (directly, or through a group) for a signed-in user whose
/// own roles in `tenant` are all weaker (a higher level) than one of them: a tenant admin hands
/// out only what it holds at its own level or below, so no member raises itself or another above
/// it. The environment's scope is not bounded.
pub(crate) async fn within_reach(
    db: &impl sea_orm::ConnectionTrait,
    scope: &Scope,
    tenant: &Tenant,
    roles: &[RoleRow],
) -> Result<()> {
    let Some(actor) = scope.user_id() else {
        return Ok(());
    };
    let own = roles::of_members(db, &[actor.to_owned()], &tenant.id).await?;
    let strongest = own.values().flatten().map(|r| r.level).min().unwrap_or(i32::MAX);
    if roles.iter().any(|role| role.level < strongest) {
        return Err(Error::PermissionDenied {
            reason: "ROLE_LEVEL_TOO_HIGH",
            message: "a role stronger than the caller's own cannot be given or taken",
        });
    }
    Ok(())
}

async fn member_roles(
    db: &impl sea_orm::ConnectionTrait,
    user_id: &str,
    tenant: &Tenant,
) -> Result<MemberRoles> {
    let rows = roles::of_members(db, &[user_id.to_owned()], &tenant.id)
        .await?
        .remove(user_id)
        .unwrap_or_default();
    Ok(MemberRoles {
        user_id: user_id.to_owned(),
        tenant_id: tenant.tenant_id.clone(),
        roles: roles::complete(db, rows).await?,
    })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

    use super::*;
    use crate::{
        domain::{
            permission::{CreatePermission, builtin},
            role::CreateRole,
            session::ClientInfo,
            tenant::CreateTenant,
            user::CreateUser,
        },
        service::testing::{Harness, harness},
        store::entity::{membership_role, permission, role, role_permission},
    };

    async fn tenant(h: &Harness, id: &str) {
        h.services
            .tenants
            .create(
                &h.scope,
                CreateTenant {
                    tenant_id: id.into(),
                    name: id.into(),
                    ..CreateTenant::default()
                },
            )
            .await
            .unwrap();
    }

    async fn user(h: &Harness, tenant_id: &str, email: &str) -> String {
        h.services
            .users
            .create(
                &h.scope,
                CreateUser {
                    tenant_id: tenant_id.into(),
                    email: email.into(),
                    password: Some(crate::domain::secret::Secret::new("a long enough password 1")),
                    ..CreateUser::default()
                },
            )
            .await
            .unwrap()
            .id
    }

    async fn new_role(h: &Harness, tenant_id: Option<&str>, key: &str) -> Role {
        h.services
            .roles
            .create(
                &h.scope,
                tenant_id,
                vec![CreateRole {
                    key: key.into(),
                    name: key.into(),
                    ..CreateRole::default()
                }],
            )
            .await
            .unwrap()
            .remove(0)
    }

    async fn new_permission(h: &Harness, key: &str, assignment_type: &str) -> String {
        h.services
            .permissions
            .create(
                &h.scope,
                vec![CreatePermission {
                    key: key.into(),
                    name: key.into(),
                    assignment_type: assignment_type.into(),
                    ..CreatePermission::default()
                }],
            )
            .await
            .unwrap()
            .remove(0)
            .id
    }

    fn keys(roles: &[Role]) -> Vec<&str> {
        roles.iter().map(|r| r.key.as_str()).collect()
    }

    fn violation_fields(error: &Error) -> Vec<String> {
        error.violations().into_iter().map(|v| v.field).collect()
    }

    /// The claims of a token, without checking it: these tests are about what it carries.
    fn claims(token: &str) -> serde_json::Value {
        let payload = token.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_new_environment_has_the_built_in_permissions_and_roles() {
        let h = harness().await;
        let permissions = h.services.permissions.list(&h.scope).await.unwrap();
        assert_eq!(permissions.len(), builtin::PERMISSION_KEYS.len());
        assert!(
            permissions
                .iter()
                .all(|p| p.fe_permission && p.category_id.is_some())
        );
        assert!(permissions.iter().any(|p| p.key == "fe.secure.read.users"));
        let roles = h.services.roles.list(&h.scope, None).await.unwrap();
        assert_eq!(keys(&roles), ["Admin", "ReadOnly"]);
        let admin = &roles[0];
        assert!(admin.first_user_role && !admin.is_default);
        assert_eq!(admin.permission_ids.len(), builtin::PERMISSION_KEYS.len());
        let read_only = &roles[1];
        assert!(read_only.is_default);
        let read_keys: Vec<&str> = permissions
            .iter()
            .filter(|p| read_only.permission_ids.contains(&p.id))
            .map(|p| p.key.as_str())
            .collect();
        assert!(read_keys.contains(&"fe.secure.read.roles"));
        assert!(read_keys.iter().all(|k| k.contains(".read.")));
        let categories = h.services.permissions.categories(&h.scope).await.unwrap();
        assert_eq!(categories.len(), builtin::CATEGORIES.len());
        assert_eq!(
            categories.iter().map(|c| c.permissions.len()).sum::<usize>(),
            builtin::PERMISSION_KEYS.len()
        );
        // Built-ins stay as they are.
        let built_in = &categories[0].category.id;
        let refused = h
            .services
            .permissions
            .delete_category(&h.scope, built_in)
            .await
            .unwrap_err();
        assert_eq!(refused.reason(), "BUILT_IN_CATEGORY");
        let refused = h
            .services
            .permissions
            .delete(&h.scope, &permissions[0].id)
            .await
            .unwrap_err();
        assert_eq!(refused.reason(), "BUILT_IN_PERMISSION");
    }

    #[tokio::test]
    async fn environments_from_before_roles_are_seeded_once_at_migration() {
        let h = harness().await;
        let db = &h.test_db.db;
        // An environment as it was before this migration: no categories, permissions or roles.
        let id = h.scope.environment_id();
        db.execute_unprepared(&format!("DELETE FROM permissions WHERE environment_id = '{id}'"))
            .await
            .unwrap();
        db.execute_unprepared(&format!(
            "DELETE FROM permission_categories WHERE environment_id = '{id}'; "
        ))
        .await
        .unwrap();
        db.execute_unprepared(&format!("DELETE FROM roles WHERE environment_id = '{id}'"))
            .await
            .unwrap();
        db.execute_unprepared(&format!(
            "UPDATE environments SET builtin_release = 0 WHERE id = '{id}'"
        ))
        .await
        .unwrap();
        store::migrate(db).await.unwrap();
        let count = permission::Entity::find()
            .filter(permission::Column::EnvironmentId.eq(id))
            .count(db)
            .await
            .unwrap();
        assert_eq!(count as usize, builtin::PERMISSION_KEYS.len());
        // A vendor's deletion of a built-in role is not undone by the next start.
        let read_only = h.services.roles.list(&h.scope, None).await.unwrap().remove(1);
        h.services.roles.delete(&h.scope, &read_only.id).await.unwrap();
        store::migrate(db).await.unwrap();
        let roles = h.services.roles.list(&h.scope, None).await.unwrap();
        assert_eq!(keys(&roles), ["Admin"]);
        let count = permission::Entity::find()
            .filter(permission::Column::EnvironmentId.eq(id))
            .count(db)
            .await
            .unwrap();
        assert_eq!(count as usize, builtin::PERMISSION_KEYS.len());
    }

    #[tokio::test]
    async fn built_in_keys_of_a_later_release_reach_an_environment_with_its_roles() {
        let h = harness().await;
        let db = &h.test_db.db;
        let id = h.scope.environment_id();
        // As if `fe.secure.read.users` and the subscription keys (and their category) came
        // with a later release than the environment's.
        db.execute_unprepared(&format!(
            "DELETE FROM permissions WHERE environment_id = '{id}' \
             AND (key = 'fe.secure.read.users' OR key LIKE 'fe.subscriptions.%')"
        ))
        .await
        .unwrap();
        db.execute_unprepared(&format!(
            "DELETE FROM permission_categories WHERE environment_id = '{id}' AND name = 'Subscriptions'"
        ))
        .await
        .unwrap();
        let now = chrono::Utc::now();
        let released = [
            "fe.secure.read.users",
            "fe.secure.write.users",
            "fe.subscriptions.read.*",
        ];
        store::permissions::add_builtin(db, id, &released, now)
            .await
            .unwrap();
        // Twice is once.
        store::permissions::add_builtin(db, id, &released, now)
            .await
            .unwrap();
        let permissions = h.services.permissions.list(&h.scope).await.unwrap();
        let count = |key: &str| permissions.iter().filter(|p| p.key == key).count();
        assert_eq!(count("fe.secure.read.users"), 1);
        assert_eq!(count("fe.secure.write.users"), 1);
        assert_eq!(count("fe.subscriptions.read.*"), 1);
        assert_eq!(count("fe.subscriptions.write.*"), 0, "not released again");
        let categories = h.services.permissions.categories(&h.scope).await.unwrap();
        let subscriptions = categories
            .iter()
            .find(|c| c.category.name == "Subscriptions")
            .unwrap();
        let added = permissions
            .iter()
            .find(|p| p.key == "fe.subscriptions.read.*")
            .unwrap();
        assert_eq!(
            added.category_id.as_deref(),
            Some(subscriptions.category.id.as_str())
        );
        let roles = h.services.roles.list(&h.scope, None).await.unwrap();
        let holds = |role: &str, key: &str| {
            let permission = permissions.iter().find(|p| p.key == key).unwrap();
            roles
                .iter()
                .find(|r| r.key == role)
                .unwrap()
                .permission_ids
                .contains(&permission.id)
        };
        assert!(holds("Admin", "fe.secure.read.users"));
        assert!(holds("ReadOnly", "fe.secure.read.users"));
        assert!(holds("Admin", "fe.subscriptions.read.*"));
        assert!(holds("ReadOnly", "fe.subscriptions.read.*"));
    }

    #[tokio::test]
    async fn first_members_get_the_first_user_roles_and_later_ones_the_defaults() {
        let h = harness().await;
        tenant(&h, "acme").await;
        let first = user(&h, "acme", "ann@acme.test").await;
        let second = user(&h, "acme", "bob@acme.test").await;
        let roles = &h.services.roles;
        let held = roles.of_member(&h.scope, &first, "acme").await.unwrap();
        assert_eq!(keys(&held.roles), ["Admin"]);
        let held = roles.of_member(&h.scope, &second, "acme").await.unwrap();
        assert_eq!(keys(&held.roles), ["ReadOnly"]);
        // Joining a second tenant is a membership of its own, first there.
        tenant(&h, "globex").await;
        h.services
            .users
            .add_to_tenant(&h.scope, &second, "globex")
            .await
            .unwrap();
        assert_eq!(
            keys(&roles.of_member(&h.scope, &second, "globex").await.unwrap().roles),
            ["Admin"]
        );
        // Leaving a tenant takes the membership's roles.
        h.services
            .users
            .remove_from_tenant(&h.scope, &second, "globex")
            .await
            .unwrap();
        let left = membership_role::Entity::find()
            .filter(membership_role::Column::UserId.eq(second.as_str()))
            .count(&h.test_db.db)
            .await
            .unwrap();
        assert_eq!(left, 1, "only the acme membership's role is left");
        let missing = roles.of_member(&h.scope, &second, "globex").await.unwrap_err();
        assert_eq!(missing.reason(), "MEMBERSHIP_NOT_FOUND");
        // Deleting the user takes the rest.
        h.services.users.delete(&h.scope, &second).await.unwrap();
        let left = membership_role::Entity::find()
            .filter(membership_role::Column::UserId.eq(second.as_str()))
            .count(&h.test_db.db)
            .await
            .unwrap();
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn duplicate_keys_are_refused_and_nothing_is_written() {
        let h = harness().await;
        new_role(&h, None, "editor").await;
        let again = h
            .services
            .roles
            .create(
                &h.scope,
                None,
                vec![
                    CreateRole {
                        key: "viewer".into(),
                        name: "v".into(),
                        ..CreateRole::default()
                    },
                    CreateRole {
                        key: "editor".into(),
                        name: "e".into(),
                        ..CreateRole::default()
                    },
                ],
            )
            .await
            .unwrap_err();
        assert_eq!(again.reason(), "ROLE_ALREADY_EXISTS");
        let listed = h.services.roles.list(&h.scope, None).await.unwrap();
        assert!(!keys(&listed).contains(&"viewer"), "all or nothing");
        new_permission(&h, "reports.read", "").await;
        let again = h
            .services
            .permissions
            .create(
                &h.scope,
                vec![
                    CreatePermission {
                        key: "reports.write".into(),
                        name: "w".into(),
                        ..CreatePermission::default()
                    },
                    CreatePermission {
                        key: "reports.read".into(),
                        name: "r".into(),
                        ..CreatePermission::default()
                    },
                ],
            )
            .await
            .unwrap_err();
        assert_eq!(again.reason(), "PERMISSION_ALREADY_EXISTS");
        let twice = h
            .services
            .permissions
            .create(
                &h.scope,
                vec![
                    CreatePermission {
                        key: "a.b".into(),
                        name: "w".into(),
                        ..CreatePermission::default()
                    },
                    CreatePermission {
                        key: "a.b".into(),
                        name: "r".into(),
                        ..CreatePermission::default()
                    },
                ],
            )
            .await
            .unwrap_err();
        assert_eq!(twice.reason(), "PERMISSION_ALREADY_EXISTS");
        let keys: Vec<String> = h
            .services
            .permissions
            .list(&h.scope)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.key)
            .collect();
        assert!(!keys.contains(&"reports.write".to_owned()) && !keys.contains(&"a.b".to_owned()));
    }

    #[tokio::test]
    async fn unknown_ids_are_named_and_nothing_changes() {
        let h = harness().await;
        tenant(&h, "acme").await;
        let ann = user(&h, "acme", "ann@acme.test").await;
        let editor = new_role(&h, None, "editor").await;
        let read = new_permission(&h, "reports.read", "").await;
        h.services
            .roles
            .set_permissions(&h.scope, &editor.id, vec![read.clone()])
            .await
            .unwrap();
        // Setting a role's permissions.
        let error = h
            .services
            .roles
            .set_permissions(&h.scope, &editor.id, vec!["nope-1".into(), "nope-2".into()])
            .await
            .unwrap_err();
        assert_eq!(error.reason(), "INVALID_ARGUMENT");
        assert_eq!(violation_fields(&error), ["permission_ids"]);
        assert!(error.to_string().contains("nope-1") && error.to_string().contains("nope-2"));
        let still = h.services.roles.list(&h.scope, None).await.unwrap();
        assert_eq!(
            still.iter().find(|r| r.id == editor.id).unwrap().permission_ids,
            [read]
        );
        // Assigning roles.
        let error = h
            .services
            .roles
            .assign(&h.scope, &ann, "acme", vec![editor.id.clone(), "ghost".into()])
            .await
            .unwrap_err();
        assert_eq!(violation_fields(&error), ["role_ids"]);
        assert!(error.to_string().contains("ghost"));
        let held = h.services.roles.of_member(&h.scope, &ann, "acme").await.unwrap();
        assert_eq!(keys(&held.roles), ["Admin"], "nothing assigned");
        // A category that does not exist.
        let error = h
            .services
            .permissions
            .create(
                &h.scope,
                vec![
                    CreatePermission {
                        key: "x.y".into(),
                        name: "x".into(),
                        ..CreatePermission::default()
                    },
                    CreatePermission {
                        key: "x.z".into(),
                        name: "x".into(),
                        category_id: "cat-9".into(),
                        ..CreatePermission::default()
                    },
                ],
            )
            .await
            .unwrap_err();
        assert_eq!(violation_fields(&error), ["permissions[1].category_id"]);
        assert!(error.to_string().contains("cat-9"));
        assert!(
            !h.services
                .permissions
                .list(&h.scope)
                .await
                .unwrap()
                .iter()
                .any(|p| p.key == "x.y")
        );
        // Missing things.
        assert_eq!(
            h.services
                .roles
                .delete(&h.scope, "ghost")
                .await
                .unwrap_err()
                .reason(),
            "ROLE_NOT_FOUND"
        );
        assert_eq!(
            h.services
                .permissions
                .delete(&h.scope, "ghost")
                .await
                .unwrap_err()
                .reason(),
            "PERMISSION_NOT_FOUND"
        );
        assert_eq!(
            h.services
                .permissions
                .delete_category(&h.scope, "ghost")
                .await
                .unwrap_err()
                .reason(),
            "PERMISSION_CATEGORY_NOT_FOUND"
        );
        assert_eq!(
            h.services
                .roles
                .assign(&h.scope, "ghost", "acme", vec![])
                .await
                .unwrap_err()
                .reason(),
            "USER_NOT_FOUND"
        );
    }

    #[tokio::test]
    async fn a_tenants_own_role_is_only_for_its_members() {
        let h = harness().await;
        tenant(&h, "acme").await;
        tenant(&h, "globex").await;
        let ann = user(&h, "acme", "ann@acme.test").await;
        let bob = user(&h, "globex", "bob@globex.test").await;
        let local = new_role(&h, Some("acme"), "acme-auditor").await;
        assert_eq!(local.tenant_id.as_deref(), Some("acme"));
        h.services
            .roles
            .assign(&h.scope, &ann, "acme", vec![local.id.clone()])
            .await
            .unwrap();
        let error = h
            .services
            .roles
            .assign(&h.scope, &bob, "globex", vec![local.id.clone()])
            .await
            .unwrap_err();
        assert_eq!(violation_fields(&error), ["role_ids"]);
        assert!(
            keys(&h.services.roles.list(&h.scope, None).await.unwrap())
                .iter()
                .all(|k| *k != "acme-auditor")
        );
        assert!(
            keys(&h.services.roles.list(&h.scope, Some("acme")).await.unwrap()).contains(&"acme-auditor")
        );
        assert_eq!(
            h.services.roles.distinct_tenants(&h.scope).await.unwrap(),
            ["acme"]
        );
        // Moved to the other tenant, it leaves the first tenant's members.
        h.services
            .roles
            .set_tenant(&h.scope, &local.id, Some("globex"))
            .await
            .unwrap();
        let held = h.services.roles.of_member(&h.scope, &ann, "acme").await.unwrap();
        assert!(!keys(&held.roles).contains(&"acme-auditor"));
        // Deleting the tenant deletes its roles.
        h.services.tenants.delete(&h.scope, "globex").await.unwrap();
        assert!(
            h.services
                .roles
                .distinct_tenants(&h.scope)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn assigning_a_role_twice_at_once_makes_one_assignment() {
        let h = harness().await;
        tenant(&h, "acme").await;
        let ann = user(&h, "acme", "ann@acme.test").await;
        let editor = new_role(&h, None, "editor").await;
        let roles = &h.services.roles;
        let (a, b) = tokio::join!(
            roles.assign(&h.scope, &ann, "acme", vec![editor.id.clone()]),
            roles.assign(&h.scope, &ann, "acme", vec![editor.id.clone(), editor.id.clone()]),
        );
        a.unwrap();
        b.unwrap();
        let rows = membership_role::Entity::find()
            .filter(membership_role::Column::RoleId.eq(editor.id.as_str()))
            .count(&h.test_db.db)
            .await
            .unwrap();
        assert_eq!(rows, 1);
    }

    #[tokio::test]
    async fn deleting_a_role_or_a_permission_takes_its_links_with_it() {
        let h = harness().await;
        tenant(&h, "acme").await;
        let ann = user(&h, "acme", "ann@acme.test").await;
        let editor = new_role(&h, None, "editor").await;
        let write = new_permission(&h, "reports.write", "").await;
        h.services
            .permissions
            .add_to_roles(&h.scope, &write, vec![editor.id.clone()])
            .await
            .unwrap();
        h.services
            .roles
            .assign(&h.scope, &ann, "acme", vec![editor.id.clone()])
            .await
            .unwrap();
        let access = h.services.roles.effective(&h.scope, &ann, "acme").await.unwrap();
        assert!(access.permissions.contains(&"reports.write".to_owned()));
        h.services.permissions.delete(&h.scope, &write).await.unwrap();
        let links = role_permission::Entity::find()
            .filter(role_permission::Column::PermissionId.eq(write.as_str()))
            .count(&h.test_db.db)
            .await
            .unwrap();
        assert_eq!(links, 0);
        h.services.roles.delete(&h.scope, &editor.id).await.unwrap();
        let assignments = membership_role::Entity::find()
            .filter(membership_role::Column::RoleId.eq(editor.id.as_str()))
            .count(&h.test_db.db)
            .await
            .unwrap();
        assert_eq!(assignments, 0);
        assert!(
            role::Entity::find_by_id(editor.id.as_str())
                .one(&h.test_db.db)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            keys(
                &h.services
                    .roles
                    .of_member(&h.scope, &ann, "acme")
                    .await
                    .unwrap()
                    .roles
            ),
            ["Admin"]
        );
    }

    #[tokio::test]
    async fn effective_access_adds_always_and_drops_never_permissions() {
        let h = harness().await;
        tenant(&h, "acme").await;
        let _first = user(&h, "acme", "first@acme.test").await;
        let ann = user(&h, "acme", "ann@acme.test").await;
        let editor = new_role(&h, None, "editor").await;
        let write = new_permission(&h, "reports.write", "").await;
        let never = new_permission(&h, "reports.purge", "NEVER").await;
        new_permission(&h, "app.use", "ALWAYS").await;
        h.services
            .roles
            .set_permissions(&h.scope, &editor.id, vec![write, never])
            .await
            .unwrap();
        h.services
            .roles
            .assign(&h.scope, &ann, "acme", vec![editor.id.clone()])
            .await
            .unwrap();
        let access = h.services.roles.effective(&h.scope, &ann, "acme").await.unwrap();
        assert_eq!(access.roles, ["ReadOnly", "editor"]);
        assert!(access.permissions.contains(&"reports.write".to_owned()));
        assert!(access.permissions.contains(&"app.use".to_owned()));
        assert!(access.permissions.contains(&"fe.secure.read.users".to_owned()));
        assert!(!access.permissions.contains(&"reports.purge".to_owned()));
        assert!(!access.permissions.contains(&"fe.secure.write.users".to_owned()));
        let mut sorted = access.permissions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(access.permissions, sorted);
        // Classified ASSIGNABLE again, the role grants it.
        let purge = h
            .services
            .permissions
            .list(&h.scope)
            .await
            .unwrap()
            .into_iter()
            .find(|p| p.key == "reports.purge")
            .unwrap();
        h.services
            .permissions
            .classify(&h.scope, vec![purge.id], "ASSIGNABLE")
            .await
            .unwrap();
        let access = h.services.roles.effective(&h.scope, &ann, "acme").await.unwrap();
        assert!(access.permissions.contains(&"reports.purge".to_owned()));
    }

    #[tokio::test]
    async fn tokens_carry_the_access_of_the_session_and_a_refresh_picks_up_changes() {
        let h = harness().await;
        tenant(&h, "acme").await;
        let ann = user(&h, "acme", "ann@acme.test").await;
        let signed_in = h
            .services
            .sign_in
            .login(
                &h.scope,
                "ann@acme.test",
                "a long enough password 1",
                ClientInfo::default(),
            )
            .await
            .unwrap();
        let first = claims(signed_in.access_token.expose());
        assert_eq!(first["roles"], serde_json::json!(["Admin"]));
        let permissions = first["permissions"].as_array().unwrap();
        assert_eq!(permissions.len(), builtin::PERMISSION_KEYS.len());
        assert!(permissions.contains(&serde_json::json!("fe.secure.write.roles")));
        let admin = h.services.roles.list(&h.scope, None).await.unwrap().remove(0);
        let editor = new_role(&h, None, "editor").await;
        h.services
            .roles
            .assign(&h.scope, &ann, "acme", vec![editor.id])
            .await
            .unwrap();
        h.services
            .roles
            .unassign(&h.scope, &ann, "acme", vec![admin.id])
            .await
            .unwrap();
        let refreshed = h
            .services
            .sign_in
            .refresh(&h.scope, signed_in.refresh_token.expose())
            .await
            .unwrap();
        let next = claims(refreshed.access_token.expose());
        assert_eq!(next["roles"], serde_json::json!(["editor"]));
        assert_eq!(next["permissions"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn the_v2_listing_filters_sorts_and_pages() {
        let h = harness().await;
        for (key, level) in [("b-role", 3), ("a-role", 2), ("c-other", 3)] {
            h.services
                .roles
                .create(
                    &h.scope,
                    None,
                    vec![CreateRole {
                        key: key.into(),
                        name: key.into(),
                        level,
                        ..CreateRole::default()
                    }],
                )
                .await
                .unwrap();
        }
        let filter = RoleFilter::parse("role", vec![], vec![], "key", "DESC").unwrap();
        let page = h
            .services
            .roles
            .list_page(&h.scope, None, filter, PageRequest { limit: 1, offset: 1 })
            .await
            .unwrap();
        assert_eq!(page.total_items, 2);
        assert_eq!(keys(&page.items), ["a-role"]);
        let filter = RoleFilter::parse("", vec![3], vec![], "createdAt", "").unwrap();
        let page = h
            .services
            .roles
            .list_page(&h.scope, None, filter, PageRequest { limit: 10, offset: 0 })
            .await
            .unwrap();
        assert_eq!(keys(&page.items), ["b-role", "c-other"]);
        assert_eq!(
            h.services.roles.distinct_levels(&h.scope, None).await.unwrap(),
            [0, 1, 2, 3]
        );
    }
}

/// How much a sign-in's writes and reads cost with a user's access in them: run by hand with
/// `cargo test --release --lib sign_in_cost -- --ignored --nocapture`.
#[cfg(test)]
mod cost {
    use std::time::Instant;

    use super::*;
    use crate::{
        domain::{
            permission::CreatePermission, role::CreateRole, secret, tenant::CreateTenant, user::CreateUser,
        },
        service::testing::harness,
        store::sessions::{self, Opening},
    };

    #[tokio::test]
    #[ignore]
    async fn sign_in_cost_of_50_roles_of_20_permissions() {
        let h = harness().await;
        let scope = &h.scope;
        h.services
            .tenants
            .create(
                scope,
                CreateTenant {
                    tenant_id: "acme".into(),
                    name: "acme".into(),
                    ..CreateTenant::default()
                },
            )
            .await
            .unwrap();
        let mut ids = Vec::new();
        for email in ["many@acme.test", "none@acme.test"] {
            let user = CreateUser {
                tenant_id: "acme".into(),
                email: email.into(),
                password: Some(secret::Secret::new("a long enough password 1")),
                ..CreateUser::default()
            };
            ids.push(h.services.users.create(scope, user).await.unwrap().id);
        }
        let (many, none) = (ids[0].clone(), ids[1].clone());
        let mut role_ids = Vec::new();
        for r in 0..50 {
            let requests = (0..20)
                .map(|p| CreatePermission {
                    key: format!("app.{r}.{p}"),
                    name: "p".into(),
                    ..CreatePermission::default()
                })
                .collect();
            let permissions: Vec<String> = h
                .services
                .permissions
                .create(scope, requests)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect();
            let role = CreateRole {
                key: format!("role-{r}"),
                name: "r".into(),
                ..CreateRole::default()
            };
            let role = h
                .services
                .roles
                .create(scope, None, vec![role])
                .await
                .unwrap()
                .remove(0);
            h.services
                .roles
                .set_permissions(scope, &role.id, permissions)
                .await
                .unwrap();
            role_ids.push(role.id);
        }
        h.services
            .roles
            .assign(scope, &many, "acme", role_ids)
            .await
            .unwrap();
        // `none` is the tenant's second member: take its default role too.
        let held: Vec<String> = h
            .services
            .roles
            .of_member(scope, &none, "acme")
            .await
            .unwrap()
            .roles
            .into_iter()
            .map(|r| r.id)
            .collect();
        h.services
            .roles
            .unassign(scope, &none, "acme", held)
            .await
            .unwrap();
        let access = h.services.roles.effective(scope, &many, "acme").await.unwrap();
        assert_eq!(access.roles.len(), 51, "the 50 and Admin, as the first member");
        assert!(access.permissions.len() >= 1000);
        let db = &h.test_db.db;
        let rounds = 300;
        let mut rates = Vec::new();
        for user_id in [&none, &many, &none, &many] {
            let started = Instant::now();
            for _ in 0..rounds {
                let session_id = uuid::Uuid::new_v4().to_string();
                let opening = Opening {
                    scope,
                    user_id,
                    session_id: &session_id,
                    user_agent: None,
                    ip: None,
                    now: chrono::Utc::now(),
                    expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
                    refresh_token_hash: secret::digest(&session_id),
                    group_roles: true,
                };
                sessions::open_alone(db, opening).await.unwrap().unwrap();
            }
            rates.push(f64::from(rounds) / started.elapsed().as_secs_f64());
        }
        println!(
            "sign-in writes per second: no roles {:.0} / {:.0}, 50 roles of 20 permissions {:.0} / {:.0}",
            rates[0], rates[2], rates[1], rates[3]
        );
        // Whole sign-ins (the password check included), alternating the two users.
        let mut took = [0.0f64; 2];
        for round in 0..40 {
            for (i, email) in ["none@acme.test", "many@acme.test"].iter().enumerate() {
                let email = if round % 2 == 0 {
                    email
                } else {
                    ["many@acme.test", "none@acme.test"][i]
                };
                let started = Instant::now();
                h.services
                    .sign_in
                    .login(scope, email, "a long enough password 1", Default::default())
                    .await
                    .unwrap();
                let slot = usize::from(email.starts_with("many"));
                took[slot] += started.elapsed().as_secs_f64();
            }
        }
        println!(
            "whole sign-ins per second: no roles {:.1}, 50 roles of 20 permissions {:.1} ({:.3} of it)",
            40.0 / took[0],
            40.0 / took[1],
            took[0] / took[1]
        );
        if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
            let sql = concat!(
                "SELECT ",
                crate::store::roles::sqlite_access_columns!("$1", "$2", "$3", "$4")
            );
            let plan = crate::store::plan::plan_of(
                db,
                sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Sqlite,
                    sql,
                    [
                        many.clone().into(),
                        scope.environment_id().into(),
                        "acme".into(),
                        true.into(),
                    ],
                ),
            )
            .await;
            println!("{plan:#?}");
        }
        let started = Instant::now();
        for _ in 0..rounds {
            roles::access(db, scope, &many, "acme", true).await.unwrap();
        }
        println!(
            "access query alone, 50 roles: {:.0} µs",
            started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
        );
    }
}

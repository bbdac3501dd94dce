//! User groups: a tenant's named sets of members that hold roles of that tenant, which their
//! members then hold too when the environment's groups configuration says so.

use std::{cmp::Ordering, collections::HashMap};

use serde_json::{Map, Value};

use super::{Deps, Policies};
use crate::{
    domain::{
        Error, Resource,
        error::Result,
        field::fold,
        group::{
            CreateGroup, GroupOrder, GroupSort, GroupUser, GroupView, GroupsConfiguration, Relations,
            UpdateGroup, UserGroups,
        },
        page::{Order, Page, PageRequest},
        role::{Role, id_list},
        scope::Scope,
        tenant::Tenant,
    },
    store::{
        self, groups,
        groups::GroupRow,
        roles::{self, RoleRow},
        tenants,
    },
};

/// Group use cases. Every one acts in one tenant: a user's scope in the tenant of its session
/// only (the transports see to it); a group of another tenant is NOT_FOUND, as if it did not exist.
#[derive(Clone)]
pub struct Groups {
    deps: Deps,
    policies: Policies,
}

impl Groups {
    pub(super) fn new(deps: Deps, policies: Policies) -> Self {
        Self { deps, policies }
    }

    /// The environment's groups configuration in force.
    pub async fn configuration(&self, scope: &Scope) -> Result<GroupsConfiguration> {
        self.policies.get::<GroupsConfiguration>(scope, None).await
    }

    /// Applies `patch` (fields of the configuration, under the contract's names) to the
    /// environment's groups configuration; returns the configuration now in force. Members'
    /// tokens follow from their next sign-in or refresh.
    pub async fn configure(&self, scope: &Scope, patch: Map<String, Value>) -> Result<GroupsConfiguration> {
        self.policies
            .update::<GroupsConfiguration>(scope, None, patch)
            .await
    }

    /// The groups of tenant `tenant_id`, oldest first, with the relations asked for.
    pub async fn list(&self, scope: &Scope, tenant_id: &str, relations: Relations) -> Result<Vec<GroupView>> {
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, tenant_id).await?;
        let rows = groups::of_tenant(db, scope, &tenant.id).await?;
        views(db, rows, &tenant, relations).await
    }

    /// A page of the groups of tenant `tenant_id` (the contract's v2 listing), in `order`, ties
    /// broken by id. A tenant holds tens of groups, not thousands: they are sorted here, alike
    /// on every database.
    pub async fn list_page(
        &self,
        scope: &Scope,
        tenant_id: &str,
        relations: Relations,
        order: GroupOrder,
        page: PageRequest,
    ) -> Result<Page<GroupView>> {
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, tenant_id).await?;
        let mut rows = groups::of_tenant(db, scope, &tenant.id).await?;
        rows.sort_by(|a, b| {
            let by = compare(order.sort, a, b).then_with(|| a.id.cmp(&b.id));
            match order.order {
                Order::Asc => by,
                Order::Desc => by.reverse(),
            }
        });
        let total = rows.len() as u64;
        let rows = rows
            .into_iter()
            .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
            .collect();
        Ok(Page::new(views(db, rows, &tenant, relations).await?, total, page))
    }

    /// Group `id` of tenant `tenant_id`, with the relations asked for.
    pub async fn get(
        &self,
        scope: &Scope,
        tenant_id: &str,
        id: &str,
        relations: Relations,
    ) -> Result<GroupView> {
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, tenant_id).await?;
        let row = groups::get_row(db, scope, &tenant.id, id, false).await?;
        one_view(db, row, &tenant, relations).await
    }

    /// The groups of tenant `tenant_id` among `ids`, oldest first; ids naming none are left out.
    pub async fn get_many(
        &self,
        scope: &Scope,
        tenant_id: &str,
        ids: Vec<String>,
        relations: Relations,
    ) -> Result<Vec<GroupView>> {
        let ids = id_list("group_ids", ids)?;
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, tenant_id).await?;
        let rows = groups::by_ids(db, scope, &tenant.id, &ids).await?;
        views(db, rows, &tenant, relations).await
    }

    /// Creates a group in tenant `tenant_id`. Bad fields are named; a name taken in the tenant
    /// is ALREADY_EXISTS.
    pub async fn create(&self, scope: &Scope, tenant_id: &str, request: CreateGroup) -> Result<GroupView> {
        let new = request.parse().map_err(Error::InvalidArgument)?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = tenants::lock_shared(&txn, scope, tenant_id).await?;
        let row = groups::insert(&txn, scope, &tenant.id, new, now).await?;
        txn.commit().await?;
        Ok(GroupView {
            group: groups::to_domain(row, &tenant.tenant_id),
            roles: Vec::new(),
            users: Vec::new(),
        })
    }

    /// Changes the fields `update` sets; returns the group with its roles and members.
    pub async fn update(
        &self,
        scope: &Scope,
        tenant_id: &str,
        id: &str,
        update: UpdateGroup,
    ) -> Result<GroupView> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = tenants::lock_shared(&txn, scope, tenant_id).await?;
        let mut row = groups::get_row(&txn, scope, &tenant.id, id, true).await?;
        let mut group = groups::to_domain(row.clone(), &tenant.tenant_id);
        update.apply_to(&mut group)?;
        row.name = group.name;
        row.description = group.description;
        row.color = group.color;
        row.metadata = group.metadata;
        row.updated_at = now;
        groups::save(&txn, scope, &row).await?;
        let view = one_view(&txn, row, &tenant, Relations::RolesAndUsers).await?;
        txn.commit().await?;
        Ok(view)
    }

    /// Deletes a group with its members' links and its roles' links, in one transaction; its
    /// members lose the roles they held through it at their next refresh.
    pub async fn delete(&self, scope: &Scope, tenant_id: &str, id: &str) -> Result<()> {
        let txn = store::begin(&self.deps.db).await?;
        let tenant = tenants::lock_shared(&txn, scope, tenant_id).await?;
        groups::get_row(&txn, scope, &tenant.id, id, true).await?;
        groups::delete(&txn, scope, id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Gives the group roles, keeping those it has. Ids naming no role, and roles of another
    /// tenant, are INVALID_ARGUMENT, naming them, and nothing is given. A signed-in user gives
    /// only roles at its own strongest level or weaker.
    pub async fn add_roles(
        &self,
        scope: &Scope,
        tenant_id: &str,
        id: &str,
        role_ids: Vec<String>,
    ) -> Result<()> {
        let role_ids = id_list("role_ids", role_ids)?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = tenants::lock_shared(&txn, scope, tenant_id).await?;
        let row = groups::get_row(&txn, scope, &tenant.id, id, true).await?;
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
        super::roles::within_reach(&txn, scope, &tenant, &found).await?;
        groups::add_roles(&txn, &row.id, &role_ids, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Takes roles from the group; roles it does not hold are ignored. A signed-in user takes
    /// only roles at its own strongest level or weaker.
    pub async fn remove_roles(
        &self,
        scope: &Scope,
        tenant_id: &str,
        id: &str,
        role_ids: Vec<String>,
    ) -> Result<()> {
        let role_ids = id_list("role_ids", role_ids)?;
        let txn = store::begin(&self.deps.db).await?;
        let tenant = tenants::lock_shared(&txn, scope, tenant_id).await?;
        let row = groups::get_row(&txn, scope, &tenant.id, id, true).await?;
        let found = roles::rows_by_ids(&txn, scope, &role_ids, false).await?;
        super::roles::within_reach(&txn, scope, &tenant, &found).await?;
        groups::remove_roles(&txn, &row.id, &role_ids).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Makes members of the group's tenant members of the group, keeping those it has. Ids
    /// naming no user, and users that are not members of the tenant, are INVALID_ARGUMENT,
    /// naming them, and nothing changes. Adding a user twice, even at once, leaves one link. A
    /// signed-in user adds members only to a group whose roles are all within its own level.
    pub async fn add_users(
        &self,
        scope: &Scope,
        tenant_id: &str,
        id: &str,
        user_ids: Vec<String>,
    ) -> Result<()> {
        let user_ids = id_list("user_ids", user_ids)?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        // Users first, then the tenant, in the order a change of one member's roles takes them.
        let found = groups::users_among(&txn, scope, &user_ids, true).await?;
        let tenant = tenants::lock_shared(&txn, scope, tenant_id).await?;
        let row = groups::get_row(&txn, scope, &tenant.id, id, true).await?;
        let unknown: Vec<&str> = user_ids
            .iter()
            .filter(|id| !found.contains(*id))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(
                "user_ids",
                format!("names no user: {}", unknown.join(", ")),
            ));
        }
        let members = groups::members_among(&txn, &tenant.id, &user_ids).await?;
        let outsiders: Vec<&str> = user_ids
            .iter()
            .filter(|id| !members.contains(*id))
            .map(String::as_str)
            .collect();
        if !outsiders.is_empty() {
            return Err(Error::invalid(
                "user_ids",
                format!(
                    "names users that are not members of the group's tenant: {}",
                    outsiders.join(", ")
                ),
            ));
        }
        let held = groups::roles_of(&txn, std::slice::from_ref(&row.id))
            .await?
            .remove(&row.id)
            .unwrap_or_default();
        super::roles::within_reach(&txn, scope, &tenant, &held).await?;
        groups::add_members(&txn, &row.id, &tenant.id, &user_ids, now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Takes users out of the group; users not in it are ignored.
    pub async fn remove_users(
        &self,
        scope: &Scope,
        tenant_id: &str,
        id: &str,
        user_ids: Vec<String>,
    ) -> Result<()> {
        let user_ids = id_list("user_ids", user_ids)?;
        let txn = store::begin(&self.deps.db).await?;
        let tenant = tenants::lock_shared(&txn, scope, tenant_id).await?;
        let row = groups::get_row(&txn, scope, &tenant.id, id, true).await?;
        let held = groups::roles_of(&txn, std::slice::from_ref(&row.id))
            .await?
            .remove(&row.id)
            .unwrap_or_default();
        super::roles::within_reach(&txn, scope, &tenant, &held).await?;
        groups::remove_members(&txn, &row.id, &user_ids).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The groups in tenant `tenant_id` of each of `user_ids` (the contract's
    /// `GET users/v3/groups`), in the order asked; users that are not members are left out.
    pub async fn of_users(
        &self,
        scope: &Scope,
        tenant_id: &str,
        user_ids: Vec<String>,
    ) -> Result<Vec<UserGroups>> {
        let user_ids = id_list("ids", user_ids)?;
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, tenant_id).await?;
        let members = groups::members_among(db, &tenant.id, &user_ids).await?;
        let mut held = groups::of_users(db, &tenant.id, &members).await?;
        Ok(user_ids
            .into_iter()
            .filter(|id| members.contains(id))
            .map(|user_id| UserGroups {
                groups: held
                    .remove(&user_id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|row| groups::to_domain(row, &tenant.tenant_id))
                    .collect(),
                user_id,
            })
            .collect())
    }
}

/// One group with the relations asked for.
async fn one_view(
    db: &impl sea_orm::ConnectionTrait,
    row: GroupRow,
    tenant: &Tenant,
    relations: Relations,
) -> Result<GroupView> {
    views(db, vec![row], tenant, relations)
        .await?
        .pop()
        .ok_or(Error::NotFound(Resource::Group))
}

/// Groups of `tenant` with the relations asked for, in the order given.
async fn views(
    db: &impl sea_orm::ConnectionTrait,
    rows: Vec<GroupRow>,
    tenant: &Tenant,
    relations: Relations,
) -> Result<Vec<GroupView>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut roles_by_group: HashMap<String, Vec<Role>> = HashMap::new();
    if relations.roles() {
        let links = groups::roles_of(db, &ids).await?;
        let all: Vec<RoleRow> = links.values().flatten().cloned().collect();
        let complete: HashMap<String, Role> = roles::complete(db, all)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        for (group_id, rows) in links {
            let roles = rows.iter().filter_map(|r| complete.get(&r.id).cloned()).collect();
            roles_by_group.insert(group_id, roles);
        }
    }
    let mut users_by_group = if relations.users() {
        groups::users_of(db, &ids).await?
    } else {
        HashMap::new()
    };
    Ok(rows
        .into_iter()
        .map(|row| GroupView {
            roles: roles_by_group.remove(&row.id).unwrap_or_default(),
            users: users_by_group
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(|user| GroupUser {
                    id: user.id,
                    email: user.email,
                    name: user.name,
                    profile_picture_url: user.profile_picture_url,
                    created_at: user.created_at,
                    activated: user.activated,
                })
                .collect(),
            group: groups::to_domain(row, &tenant.tenant_id),
        })
        .collect())
}

/// The order of two groups by `sort`, ascending.
fn compare(sort: GroupSort, a: &GroupRow, b: &GroupRow) -> Ordering {
    match sort {
        GroupSort::CreatedAt => a.created_at.cmp(&b.created_at),
        GroupSort::UpdatedAt => a.updated_at.cmp(&b.updated_at),
        GroupSort::Id => a.id.cmp(&b.id),
        GroupSort::Name => fold(&a.name).cmp(&fold(&b.name)),
    }
}

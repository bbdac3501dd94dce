//! The team of a tenant as its own members manage it (Frontegg's admin portal): a signed-in user
//! lists the members of the tenant of its session, changes their roles, removes them, and reads
//! the roles it may hand out and the team's totals. Every use case acts in the scope's tenant
//! only; a user that is not a visible member there is not found, whether or not it exists
//! elsewhere, and a member never gives or takes a role stronger than its own.

use chrono::Duration;

use super::{Deps, Roles, roles::holdable};
use crate::{
    domain::{
        Error, Resource,
        error::{AuthFailure, Result},
        page::{Order, Page, PageRequest},
        role::{Role, id_list},
        scope::Scope,
        tenant::Tenant,
        user::{Phrases, User, UserFilter, UserSort},
    },
    store::{self, roles, sessions::Sessions, tenants, users},
};

/// A member of the scope's tenant with its roles there.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The user.
    pub user: User,
    /// Its roles in the tenant, by key.
    pub roles: Vec<Role>,
}

/// The totals of a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamStats {
    /// Visible members.
    pub members: u64,
    /// Visible members who joined in the last seven days.
    pub added_this_week: u64,
    /// Visible members who are super-users.
    pub super_users: u64,
}

/// Team use cases.
#[derive(Clone)]
pub struct Team {
    deps: Deps,
    roles: Roles,
}

/// How the team listing is narrowed and ordered.
#[derive(Debug, Clone, Default)]
pub struct MemberQuery {
    /// Words that must all appear in a member's email or name, ignoring case.
    pub search: Option<String>,
    /// Sort field.
    pub sort: UserSort,
    /// Sort direction.
    pub order: Order,
}

impl Team {
    pub(super) fn new(deps: Deps, roles: Roles) -> Self {
        Self { deps, roles }
    }

    /// A page of the visible members of the scope's tenant, with their roles there.
    pub async fn members(
        &self,
        scope: &Scope,
        query: MemberQuery,
        page: PageRequest,
    ) -> Result<Page<Member>> {
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, own_tenant(scope)?).await?;
        let words = query
            .search
            .as_deref()
            .map(|text| text.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        let filter = UserFilter {
            tenant_id: Some(tenant.tenant_id.clone()),
            phrases: Phrases::parse(words, Vec::new(), Vec::new())
                .map_err(|v| Error::invalid("search", v.description))?,
            sort: query.sort,
            order: query.order,
            ..UserFilter::default()
        };
        let listed = users::list(db, scope, &filter, Some(&tenant.id), page).await?;
        let ids: Vec<String> = listed.items.iter().map(|u| u.id.clone()).collect();
        let mut held = roles::of_members(db, &ids, &tenant.id).await?;
        let rows = held.values().flatten().cloned().collect();
        let complete = roles::complete(db, rows).await?;
        let members = listed
            .items
            .into_iter()
            .map(|user| {
                let roles = held
                    .remove(&user.id)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|row| complete.iter().find(|r| r.id == row.id).cloned())
                    .collect();
                Member { user, roles }
            })
            .collect();
        Ok(Page {
            items: members,
            total_items: listed.total_items,
            total_pages: listed.total_pages,
            next_cursor: None,
        })
    }

    /// Makes `role_ids` the roles of member `user_id` (blank ids ignored: none clears them), in
    /// one transaction. Ids naming no role the tenant sees are named and nothing changes; every
    /// role given or taken must be within the caller's reach.
    pub async fn set_roles(&self, scope: &Scope, user_id: &str, role_ids: Vec<String>) -> Result<Member> {
        let role_ids = id_list("role_ids", role_ids)?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = member_of(&txn, scope, user_id).await?;
        let wanted = holdable(&txn, scope, &tenant, &role_ids).await?;
        let held = roles::of_members(&txn, &[user_id.to_owned()], &tenant.id)
            .await?
            .remove(user_id)
            .unwrap_or_default();
        let given: Vec<_> = wanted
            .iter()
            .filter(|r| !held.iter().any(|h| h.id == r.id))
            .cloned()
            .collect();
        let taken: Vec<_> = held
            .iter()
            .filter(|h| !wanted.iter().any(|r| r.id == h.id))
            .cloned()
            .collect();
        let changed: Vec<_> = given.iter().chain(&taken).cloned().collect();
        super::roles::within_reach(&txn, scope, &tenant, &changed).await?;
        let ids = |rows: &[roles::RoleRow]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        roles::unassign(&txn, user_id, &tenant.id, &ids(&taken)).await?;
        roles::assign(&txn, user_id, &tenant.id, &ids(&given), now).await?;
        let user = users::get(&txn, scope, user_id).await?;
        let rows = roles::of_members(&txn, &[user_id.to_owned()], &tenant.id)
            .await?
            .remove(user_id)
            .unwrap_or_default();
        let roles = roles::complete(&txn, rows).await?;
        txn.commit().await?;
        Ok(Member { user, roles })
    }

    /// Member `user_id` of the scope's tenant, with its roles there.
    pub async fn member(&self, scope: &Scope, user_id: &str) -> Result<Member> {
        let txn = store::begin(&self.deps.db).await?;
        let tenant = member_of(&txn, scope, user_id).await?;
        let user = users::get(&txn, scope, user_id).await?;
        let rows = roles::of_members(&txn, &[user_id.to_owned()], &tenant.id)
            .await?
            .remove(user_id)
            .unwrap_or_default();
        let roles = roles::complete(&txn, rows).await?;
        txn.commit().await?;
        Ok(Member { user, roles })
    }

    /// Removes member `user_id` from the scope's tenant, with its roles there, and revokes its
    /// sessions (their tokens list the tenant). A member holding a role stronger than the
    /// caller's own is out of its reach.
    pub async fn remove(&self, scope: &Scope, user_id: &str) -> Result<()> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let tenant = member_of(&txn, scope, user_id).await?;
        let held = roles::of_members(&txn, &[user_id.to_owned()], &tenant.id)
            .await?
            .remove(user_id)
            .unwrap_or_default();
        super::roles::within_reach(&txn, scope, &tenant, &held).await?;
        if !users::remove_membership(&txn, scope, user_id, &tenant).await? {
            return Err(Error::NotFound(Resource::User));
        }
        users::repoint_active_tenants(&txn, scope, &tenant.tenant_id, Some(user_id), now).await?;
        self.deps
            .revoke_sessions(&txn, scope, Sessions::OfUser(user_id), now)
            .await?;
        txn.commit().await?;
        self.deps.revocations_changed().await;
        Ok(())
    }

    /// The roles the scope's tenant sees (the environment's and its own), oldest first.
    pub async fn roles(&self, scope: &Scope) -> Result<Vec<Role>> {
        self.roles.list(scope, Some(own_tenant(scope)?)).await
    }

    /// The totals of the scope's tenant's visible members.
    pub async fn stats(&self, scope: &Scope) -> Result<TeamStats> {
        let db = &self.deps.db;
        let tenant = tenants::get(db, scope, own_tenant(scope)?).await?;
        let since = self.deps.now() - Duration::days(7);
        let (members, added_this_week, super_users) =
            users::member_stats(db, scope, &tenant.id, since).await?;
        Ok(TeamStats {
            members,
            added_this_week,
            super_users,
        })
    }
}

/// The tenant of a user's scope; team use cases have no other.
fn own_tenant(scope: &Scope) -> Result<&str> {
    scope
        .tenant_id()
        .ok_or(Error::Unauthenticated(AuthFailure::MissingToken))
}

/// The scope's tenant, if `user_id` is a visible member of it: the user locked as a removal from
/// the tenant locks it, the tenant share-locked against its deletion. Anything else is NOT_FOUND
/// of the user, alike whether it exists elsewhere or not at all.
async fn member_of(db: &impl sea_orm::ConnectionTrait, scope: &Scope, user_id: &str) -> Result<Tenant> {
    let not_found = || Error::NotFound(Resource::User);
    let row = match users::lock_row(db, scope, user_id).await {
        Err(Error::NotFound(_)) => return Err(not_found()),
        found => found?,
    };
    let tenant = tenants::lock_shared(db, scope, own_tenant(scope)?).await?;
    if row.invisible || !roles::is_member(db, user_id, &tenant.id).await? {
        return Err(not_found());
    }
    Ok(tenant)
}

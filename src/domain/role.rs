//! Roles (the contract's Roles and Account Roles), the roles of a user in a tenant, and the access
//! they add up to.

use chrono::{DateTime, Utc};

use super::{
    error::{FieldViolation, Result},
    field::{self, MAX_TEXT},
    page::{Order, SortField, bounded_list},
    permission::{MAX_DESCRIPTION, checked},
};

/// Highest role level (the contract's bound); lower levels are stronger roles.
pub const MAX_LEVEL: i64 = 32767;

/// A role as stored, with the ids of its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Row id.
    pub id: String,
    /// Unique key in the environment: what tokens carry.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Level; lower is stronger.
    pub level: i32,
    /// Given to each new member that is given no roles explicitly.
    pub is_default: bool,
    /// Given to the first member of a tenant.
    pub first_user_role: bool,
    /// With `is_default`, the role was also given to every existing member when so marked.
    pub migrate_role: bool,
    /// The tenant (its caller-facing id) whose own role this is; `None` for the environment's.
    pub tenant_id: Option<String>,
    /// The ids of its permissions.
    pub permission_ids: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A role to create, as a caller sends it: empty strings mean unset.
#[derive(Debug, Clone, Default)]
pub struct CreateRole {
    /// Unique key; required.
    pub key: String,
    /// Display name; required.
    pub name: String,
    /// Description.
    pub description: String,
    /// Level, 0..=32767.
    pub level: i64,
    /// Given to each new member with no explicit roles.
    pub is_default: bool,
    /// Given to the first member of a tenant.
    pub first_user_role: bool,
    /// With `is_default`: give the role to every existing member now.
    pub migrate_role: bool,
}

/// A checked role to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRole {
    /// Unique key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Level.
    pub level: i32,
    /// Given to new members.
    pub is_default: bool,
    /// Given to a tenant's first member.
    pub first_user_role: bool,
    /// Given to existing members now.
    pub migrate_role: bool,
}

impl CreateRole {
    /// Checks the fields; violations name them under `prefix` (`roles[2]`, say; empty for none).
    pub fn parse(self, prefix: &str) -> Result<NewRole, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let v = &mut violations;
        let key = checked(v, prefix, role_key("key", &self.key));
        let name = checked(v, prefix, field::required_text("name", &self.name, MAX_TEXT));
        let description = checked(
            v,
            prefix,
            field::optional_text("description", &self.description, MAX_DESCRIPTION),
        );
        let level = checked(v, prefix, level("level", self.level));
        match (key, name, description, level) {
            (Some(key), Some(name), Some(description), Some(level)) => Ok(NewRole {
                key,
                name,
                description,
                level,
                is_default: self.is_default,
                first_user_role: self.first_user_role,
                migrate_role: self.migrate_role,
            }),
            _ => Err(violations),
        }
    }
}

/// A role to create from another (the contract's v2 creation): it takes the level of the base
/// role and the permissions listed.
#[derive(Debug, Clone, Default)]
pub struct CreateRoleFrom {
    /// Unique key; required.
    pub key: String,
    /// Display name; required.
    pub name: String,
    /// Description.
    pub description: String,
    /// Given to each new member with no explicit roles.
    pub is_default: bool,
    /// The role whose level the new one takes; required.
    pub base_role_id: String,
    /// The new role's permissions.
    pub permission_ids: Vec<String>,
}

/// A change to a role: each field that is set replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct UpdateRole {
    /// New key.
    pub key: Option<String>,
    /// New display name.
    pub name: Option<String>,
    /// New description; empty clears it.
    pub description: Option<String>,
    /// New level.
    pub level: Option<i64>,
    /// Given to new members.
    pub is_default: Option<bool>,
    /// Given to a tenant's first member.
    pub first_user_role: Option<bool>,
    /// With `is_default`: give the role to every existing member now.
    pub migrate_role: Option<bool>,
}

impl UpdateRole {
    /// Applies the change to `role`, checking each field set.
    pub fn apply_to(self, role: &mut Role) -> Result<(), FieldViolation> {
        field::patch(&mut role.key, self.key, |v| role_key("key", v))?;
        field::patch(&mut role.name, self.name, |v| {
            field::required_text("name", v, MAX_TEXT)
        })?;
        field::patch(&mut role.description, self.description, |v| {
            field::optional_text("description", v, MAX_DESCRIPTION)
        })?;
        if let Some(value) = self.level {
            role.level = level("level", value)?;
        }
        if let Some(value) = self.is_default {
            role.is_default = value;
        }
        if let Some(value) = self.first_user_role {
            role.first_user_role = value;
        }
        if let Some(value) = self.migrate_role {
            role.migrate_role = value;
        }
        Ok(())
    }
}

/// A role key: an identifier of at most 255 characters.
pub fn role_key(field: &str, value: &str) -> Result<String, FieldViolation> {
    field::identifier(field, value)
}

/// A role level within the contract's bounds.
pub fn level(field: &str, value: i64) -> Result<i32, FieldViolation> {
    if !(0..=MAX_LEVEL).contains(&value) {
        return Err(FieldViolation::new(
            field,
            format!("must be between 0 and {MAX_LEVEL}"),
        ));
    }
    i32::try_from(value).map_err(|_| FieldViolation::new(field, "is out of range"))
}

/// A list of ids from a request: without empty ones and duplicates (first kept), bounded.
pub fn id_list(field: &str, ids: Vec<String>) -> Result<Vec<String>, FieldViolation> {
    let mut ids = bounded_list(field, ids)?;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    Ok(ids)
}

/// What the roles listing (v2) sorts by, under the contract's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoleSort {
    /// Creation time (the default).
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Key.
    Key,
    /// Name, ignoring case.
    Name,
    /// Description, ignoring case.
    Description,
    /// Default roles after the others (ascending).
    IsDefault,
    /// First-user roles after the others (ascending).
    FirstUserRole,
    /// Level.
    Level,
    /// How many permissions the role holds.
    Permissions,
    /// How many memberships hold the role.
    UserTenants,
    /// How many groups hold the role.
    Groups,
}

impl SortField for RoleSort {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("createdAt", RoleSort::CreatedAt),
        ("updatedAt", RoleSort::UpdatedAt),
        ("key", RoleSort::Key),
        ("name", RoleSort::Name),
        ("description", RoleSort::Description),
        ("isDefault", RoleSort::IsDefault),
        ("firstUserRole", RoleSort::FirstUserRole),
        ("level", RoleSort::Level),
        ("permissions", RoleSort::Permissions),
        ("userTenants", RoleSort::UserTenants),
        ("groups", RoleSort::Groups),
    ];
}

/// Which roles the v2 listing returns, and in what order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleFilter {
    /// Words the key, name or description must hold, ignoring case.
    pub text: Option<String>,
    /// Only roles of these levels, when any.
    pub levels: Vec<i32>,
    /// Only roles of these tenants (caller-facing ids), when any.
    pub tenant_ids: Vec<String>,
    /// Sort field.
    pub sort: RoleSort,
    /// Direction.
    pub order: Order,
}

impl RoleFilter {
    /// Checks a listing request's raw parameters.
    pub fn parse(
        text: &str,
        levels: Vec<i64>,
        tenant_ids: Vec<String>,
        sort: &str,
        order: &str,
    ) -> Result<Self, FieldViolation> {
        let text = field::optional_text("filter", text, MAX_TEXT)?;
        let levels = levels
            .into_iter()
            .map(|l| level("levels", l))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            text: text.map(|t| field::fold(&t)),
            levels,
            tenant_ids: bounded_list("tenant_ids", tenant_ids)?,
            sort: RoleSort::parse("sort_by", sort)?,
            order: Order::parse("order", order)?,
        })
    }
}

/// The roles of one user in one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRoles {
    /// The user.
    pub user_id: String,
    /// The tenant (caller-facing id).
    pub tenant_id: String,
    /// Its roles, by key.
    pub roles: Vec<Role>,
}

/// What a user may do in a tenant: the keys its tokens carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// The keys of its roles there, sorted.
    pub roles: Vec<String>,
    /// The keys of the permissions those roles grant, plus every `ALWAYS` one and less every
    /// `NEVER` one: distinct, sorted.
    pub permissions: Vec<String>,
}

impl Access {
    /// Access from keys read in any order, possibly repeated.
    pub fn from_keys(mut roles: Vec<String>, mut permissions: Vec<String>) -> Self {
        roles.sort_unstable();
        roles.dedup();
        permissions.sort_unstable();
        permissions.dedup();
        Self { roles, permissions }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_bounded_by_the_contract() {
        assert_eq!(level("level", 0).unwrap(), 0);
        assert_eq!(level("level", MAX_LEVEL).unwrap(), 32767);
        assert!(level("level", -1).is_err());
        assert!(level("level", MAX_LEVEL + 1).is_err());
    }

    #[test]
    fn bad_roles_name_their_fields_under_their_place() {
        let fields: Vec<_> = CreateRole {
            key: String::new(),
            name: "x".into(),
            level: 40000,
            ..CreateRole::default()
        }
        .parse("roles[3]")
        .unwrap_err()
        .into_iter()
        .map(|v| v.field)
        .collect();
        assert_eq!(fields, ["roles[3].key", "roles[3].level"]);
    }

    #[test]
    fn id_lists_lose_blanks_and_repeats() {
        let ids = id_list(
            "role_ids",
            vec!["b".into(), String::new(), "a".into(), "b".into()],
        )
        .unwrap();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn access_keys_are_distinct_and_sorted() {
        let access = Access::from_keys(
            vec!["b".into(), "a".into(), "b".into()],
            vec!["y".into(), "x".into(), "y".into()],
        );
        assert_eq!(access.roles, ["a", "b"]);
        assert_eq!(access.permissions, ["x", "y"]);
    }

    #[test]
    fn role_listing_parameters_are_checked() {
        let filter = RoleFilter::parse("Adm", vec![0, 2], vec![], "level", "desc").unwrap();
        assert_eq!(filter.text.as_deref(), Some("adm"));
        assert_eq!(filter.sort, RoleSort::Level);
        assert!(RoleFilter::parse("", vec![], vec![], "colour", "").is_err());
        assert!(RoleFilter::parse("", vec![-4], vec![], "", "").is_err());
    }
}

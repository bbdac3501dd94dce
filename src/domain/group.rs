//! User groups (the contract's User Groups): named sets of a tenant's members that hold roles of
//! that tenant, and the environment's groups configuration.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    error::{FieldViolation, Result},
    field::{self, MAX_TEXT},
    metadata,
    page::{Order, SortField},
    permission::MAX_DESCRIPTION,
    policy::PolicyDocument,
    role::Role,
};

/// Who manages a group: sigil's callers, or a SCIM directory.
pub const MANAGED_BY_FRONTEGG: &str = "frontegg";

/// Longest display colour (`#aabbcc`, a CSS name, ...).
pub const MAX_COLOR: usize = 64;

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Row id.
    pub id: String,
    /// The tenant (caller-facing id) the group lives in.
    pub tenant_id: String,
    /// Name, unique in the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Display colour.
    pub color: Option<String>,
    /// Serialized JSON object.
    pub metadata: Option<String>,
    /// `frontegg` or `scim2`.
    pub managed_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A member of a group, as the contract shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupUser {
    /// The user's id.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Picture.
    pub profile_picture_url: Option<String>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// Whether the user has activated its account.
    pub activated: bool,
}

/// A group with the relations a caller asked for: empty lists when not asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    /// The group.
    pub group: Group,
    /// Its roles, when asked for.
    pub roles: Vec<Role>,
    /// Its members, when asked for.
    pub users: Vec<GroupUser>,
}

/// Which relations of a group a read returns (the contract's `_groupsRelations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Relations {
    /// The group alone.
    #[default]
    None,
    /// With its roles.
    Roles,
    /// With its members.
    Users,
    /// With both.
    RolesAndUsers,
}

impl Relations {
    /// The contract's name, or none for the group alone.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        match raw {
            "" => Ok(Self::None),
            "roles" => Ok(Self::Roles),
            "users" => Ok(Self::Users),
            "rolesAndUsers" => Ok(Self::RolesAndUsers),
            _ => Err(FieldViolation::new(
                field,
                "must be one of roles, users, rolesAndUsers",
            )),
        }
    }

    /// Whether roles are returned.
    pub fn roles(self) -> bool {
        matches!(self, Self::Roles | Self::RolesAndUsers)
    }

    /// Whether members are returned.
    pub fn users(self) -> bool {
        matches!(self, Self::Users | Self::RolesAndUsers)
    }
}

/// A group to create, as a caller sends it: empty strings mean unset.
#[derive(Debug, Clone, Default)]
pub struct CreateGroup {
    /// Name; required.
    pub name: String,
    /// Description.
    pub description: String,
    /// Display colour.
    pub color: String,
    /// Serialized JSON object.
    pub metadata: String,
}

/// A checked group to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Display colour.
    pub color: Option<String>,
    /// Serialized JSON object.
    pub metadata: Option<String>,
}

impl CreateGroup {
    /// Checks the fields; every bad one is named.
    pub fn parse(self) -> Result<NewGroup, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let mut take = |result: Result<Option<String>, FieldViolation>| match result {
            Ok(value) => value,
            Err(violation) => {
                violations.push(violation);
                None
            }
        };
        let name = take(field::required_text("name", &self.name, MAX_TEXT).map(Some));
        let description = take(field::optional_text(
            "description",
            &self.description,
            MAX_DESCRIPTION,
        ));
        let color = take(field::optional_text("color", &self.color, MAX_COLOR));
        let metadata = take(metadata::optional("metadata", &self.metadata));
        match name {
            Some(name) if violations.is_empty() => Ok(NewGroup {
                name,
                description,
                color,
                metadata,
            }),
            _ => Err(violations),
        }
    }
}

/// A change to a group: each field that is set replaces the stored one (empty clears an
/// optional one).
#[derive(Debug, Clone, Default)]
pub struct UpdateGroup {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New colour.
    pub color: Option<String>,
    /// New metadata: a serialized JSON object.
    pub metadata: Option<String>,
}

impl UpdateGroup {
    /// Applies the change to `group`, checking each field set.
    pub fn apply_to(self, group: &mut Group) -> Result<(), FieldViolation> {
        field::patch(&mut group.name, self.name, |v| {
            field::required_text("name", v, MAX_TEXT)
        })?;
        field::patch(&mut group.description, self.description, |v| {
            field::optional_text("description", v, MAX_DESCRIPTION)
        })?;
        field::patch(&mut group.color, self.color, |v| {
            field::optional_text("color", v, MAX_COLOR)
        })?;
        field::patch(&mut group.metadata, self.metadata, |v| {
            metadata::optional("metadata", v)
        })?;
        Ok(())
    }
}

/// What the paged listing (v2) sorts groups by, under the contract's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupSort {
    /// Creation time (the default).
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Id.
    Id,
    /// Name, ignoring case.
    Name,
}

impl SortField for GroupSort {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("createdAt", GroupSort::CreatedAt),
        ("updatedAt", GroupSort::UpdatedAt),
        ("id", GroupSort::Id),
        ("name", GroupSort::Name),
    ];
}

/// The order of the paged listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupOrder {
    /// Sort field.
    pub sort: GroupSort,
    /// Direction.
    pub order: Order,
}

impl GroupOrder {
    /// Checks a listing's raw sort field and direction.
    pub fn parse(sort: &str, order: &str) -> Result<Self, FieldViolation> {
        Ok(Self {
            sort: GroupSort::parse("sort_by", sort)?,
            order: Order::parse("order", order)?,
        })
    }
}

/// The groups of one user in a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGroups {
    /// The user.
    pub user_id: String,
    /// Its groups there, by name.
    pub groups: Vec<Group>,
}

/// The environment's groups configuration (the contract's `groups/v1/config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupsConfiguration {
    /// Whether groups are in use.
    pub enabled: bool,
    /// Whether groups may hold roles, which their members then hold too.
    pub roles_enabled: bool,
}

impl Default for GroupsConfiguration {
    /// Both on, as the contract's defaults have it.
    fn default() -> Self {
        Self {
            enabled: true,
            roles_enabled: true,
        }
    }
}

impl PolicyDocument for GroupsConfiguration {
    const KIND: &'static str = "groups";
    const TENANT_OVERRIDE: bool = false;
}

impl GroupsConfiguration {
    /// Whether a member holds the roles of its groups, as well as its own.
    pub fn roles_inherited(&self) -> bool {
        self.enabled && self.roles_enabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_groups_name_every_bad_field() {
        let fields: Vec<_> = CreateGroup {
            name: String::new(),
            metadata: "[1]".into(),
            ..CreateGroup::default()
        }
        .parse()
        .unwrap_err()
        .into_iter()
        .map(|v| v.field)
        .collect();
        assert_eq!(fields, ["name", "metadata"]);
        let good = CreateGroup {
            name: "Ops".into(),
            metadata: r#"{"a":1}"#.into(),
            ..CreateGroup::default()
        }
        .parse()
        .unwrap();
        assert_eq!(good.description, None);
        assert_eq!(good.metadata.as_deref(), Some(r#"{"a":1}"#));
    }

    #[test]
    fn relations_have_the_contracts_names() {
        assert_eq!(Relations::parse("r", "").unwrap(), Relations::None);
        assert!(Relations::parse("r", "rolesAndUsers").unwrap().users());
        assert!(!Relations::parse("r", "users").unwrap().roles());
        assert!(Relations::parse("r", "everything").is_err());
    }

    #[test]
    fn the_configuration_reads_the_contracts_names_and_defaults_to_on() {
        let parsed: GroupsConfiguration = serde_json::from_str(r#"{"rolesEnabled":false}"#).unwrap();
        assert!(parsed.enabled && !parsed.roles_enabled);
        assert!(!parsed.roles_inherited());
        assert!(GroupsConfiguration::default().roles_inherited());
        assert_eq!(
            serde_json::to_value(GroupsConfiguration::default()).unwrap(),
            serde_json::json!({"enabled": true, "rolesEnabled": true})
        );
    }
}

//! Permissions and their categories (the contract's Permissions and Permissions Categories), and
//! the catalogue of Frontegg's built-in ones that every environment has.

use chrono::{DateTime, Utc};

use super::{
    error::{FieldViolation, Result},
    field::{self, MAX_TEXT},
};

/// Longest description of a permission, category or role, in characters.
pub const MAX_DESCRIPTION: usize = 1024;

/// Who may hold a permission, besides the roles that grant it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssignmentType {
    /// Never granted, even by a role that lists it.
    Never,
    /// Granted to every member of every tenant, whatever its roles.
    Always,
    /// Granted by the roles that list it (the default).
    #[default]
    Assignable,
}

impl AssignmentType {
    /// The contract's name, which is also what the database stores.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentType::Never => "NEVER",
            AssignmentType::Always => "ALWAYS",
            AssignmentType::Assignable => "ASSIGNABLE",
        }
    }

    /// `NEVER`, `ALWAYS` or `ASSIGNABLE`; `default` when empty; anything else is refused.
    pub fn parse(field: &str, raw: &str, default: Self) -> Result<Self, FieldViolation> {
        match raw {
            "" => Ok(default),
            "NEVER" => Ok(AssignmentType::Never),
            "ALWAYS" => Ok(AssignmentType::Always),
            "ASSIGNABLE" => Ok(AssignmentType::Assignable),
            _ => Err(FieldViolation::new(field, "must be NEVER, ALWAYS or ASSIGNABLE")),
        }
    }

    /// The stored form back; an unknown stored value reads as the default.
    pub fn from_stored(raw: &str) -> Self {
        Self::parse("assignment_type", raw, Self::default()).unwrap_or_default()
    }
}

/// A permission as stored, with the roles that grant it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// Row id.
    pub id: String,
    /// Unique key in the environment, such as `fe.secure.read.users`: what tokens carry.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The category it is listed under.
    pub category_id: Option<String>,
    /// Whether it is one of Frontegg's built-in permissions (which cannot be changed).
    pub fe_permission: bool,
    /// Who may hold it besides through roles.
    pub assignment_type: AssignmentType,
    /// The roles that list it.
    pub role_ids: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A permission to create, as a caller sends it: empty strings mean unset.
#[derive(Debug, Clone, Default)]
pub struct CreatePermission {
    /// Unique key; required.
    pub key: String,
    /// Display name; required.
    pub name: String,
    /// Description.
    pub description: String,
    /// The category's id.
    pub category_id: String,
    /// `NEVER`, `ALWAYS` or `ASSIGNABLE` (the default).
    pub assignment_type: String,
}

/// A checked [`CreatePermission`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPermission {
    /// Unique key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The category's id.
    pub category_id: Option<String>,
    /// Who may hold it.
    pub assignment_type: AssignmentType,
}

impl CreatePermission {
    /// Checks the fields; violations name them under `prefix` (`permissions[2]`, say).
    pub fn parse(self, prefix: &str) -> Result<NewPermission, Vec<FieldViolation>> {
        let mut violations = Vec::new();
        let v = &mut violations;
        let key = checked(v, prefix, permission_key("key", &self.key));
        let name = checked(v, prefix, field::required_text("name", &self.name, MAX_TEXT));
        let description = checked(
            v,
            prefix,
            field::optional_text("description", &self.description, MAX_DESCRIPTION),
        );
        let category_id = checked(
            v,
            prefix,
            field::optional_text("category_id", &self.category_id, MAX_TEXT),
        );
        let assignment_type = checked(
            v,
            prefix,
            AssignmentType::parse(
                "assignment_type",
                &self.assignment_type,
                AssignmentType::default(),
            ),
        );
        match (key, name, description, category_id, assignment_type) {
            (Some(key), Some(name), Some(description), Some(category_id), Some(assignment_type)) => {
                Ok(NewPermission {
                    key,
                    name,
                    description,
                    category_id,
                    assignment_type,
                })
            }
            _ => Err(violations),
        }
    }
}

/// A change to a permission: each field that is set replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct UpdatePermission {
    /// New key.
    pub key: Option<String>,
    /// New display name.
    pub name: Option<String>,
    /// New description; empty clears it.
    pub description: Option<String>,
    /// New category id; empty clears it.
    pub category_id: Option<String>,
}

impl UpdatePermission {
    /// Applies the change to `permission`, checking each field set.
    pub fn apply_to(self, permission: &mut Permission) -> Result<(), FieldViolation> {
        field::patch(&mut permission.key, self.key, |v| permission_key("key", v))?;
        field::patch(&mut permission.name, self.name, |v| {
            field::required_text("name", v, MAX_TEXT)
        })?;
        field::patch(&mut permission.description, self.description, |v| {
            field::optional_text("description", v, MAX_DESCRIPTION)
        })?;
        field::patch(&mut permission.category_id, self.category_id, |v| {
            field::optional_text("category_id", v, MAX_TEXT)
        })?;
        Ok(())
    }
}

/// The value of a checked field, or `None` with its violation, named under `prefix` (when not
/// empty), added to `violations`: so that one pass reports every bad field of a request.
pub(crate) fn checked<T>(
    violations: &mut Vec<FieldViolation>,
    prefix: &str,
    result: Result<T, FieldViolation>,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(violation) if prefix.is_empty() => {
            violations.push(violation);
            None
        }
        Err(violation) => {
            violations.push(FieldViolation::new(
                format!("{prefix}.{}", violation.field),
                violation.description,
            ));
            None
        }
    }
}

/// A permission key: an identifier (no whitespace, control characters or slashes) of at most
/// 255 characters.
pub fn permission_key(field: &str, value: &str) -> Result<String, FieldViolation> {
    field::identifier(field, value)
}

/// A category of permissions, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionCategory {
    /// Row id (a caller may choose it at creation).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Whether it is one of the built-in categories (which cannot be deleted).
    pub fe_category: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A category with the permissions listed under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryWithPermissions {
    /// The category.
    pub category: PermissionCategory,
    /// Its permissions, by key.
    pub permissions: Vec<Permission>,
}

/// A category to create, as a caller sends it: empty strings mean unset.
#[derive(Debug, Clone, Default)]
pub struct CreateCategory {
    /// The id to give it; generated when empty.
    pub id: String,
    /// Display name; required.
    pub name: String,
    /// Description.
    pub description: String,
}

/// A checked [`CreateCategory`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategory {
    /// The id asked for.
    pub id: Option<String>,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

impl CreateCategory {
    /// Checks the fields.
    pub fn parse(self) -> Result<NewCategory, FieldViolation> {
        let id = if self.id.is_empty() {
            None
        } else {
            Some(field::identifier("id", &self.id)?)
        };
        Ok(NewCategory {
            id,
            name: field::required_text("name", &self.name, MAX_TEXT)?,
            description: field::optional_text("description", &self.description, MAX_DESCRIPTION)?,
        })
    }
}

/// A change to a category: each field that is set replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct UpdateCategory {
    /// New display name.
    pub name: Option<String>,
    /// New description; empty clears it.
    pub description: Option<String>,
}

impl UpdateCategory {
    /// Applies the change to `category`, checking each field set.
    pub fn apply_to(self, category: &mut PermissionCategory) -> Result<(), FieldViolation> {
        field::patch(&mut category.name, self.name, |v| {
            field::required_text("name", v, MAX_TEXT)
        })?;
        field::patch(&mut category.description, self.description, |v| {
            field::optional_text("description", v, MAX_DESCRIPTION)
        })?;
        Ok(())
    }
}

/// Frontegg's built-in permissions and categories, which its admin portal and SDKs check for, and
/// the two roles every environment starts with.
pub mod builtin {
    /// A built-in category: the key prefix of its permissions, its name and description.
    pub struct Category {
        /// Permissions whose key starts with this (and a dot) belong here.
        pub prefix: &'static str,
        /// Display name.
        pub name: &'static str,
        /// Description.
        pub description: &'static str,
    }

    /// The built-in categories, one per area of the admin portal.
    pub const CATEGORIES: &[Category] = &[
        Category {
            prefix: "fe.secure",
            name: "Identity and security",
            description: "Users, roles, groups, tokens and the security settings of an account",
        },
        Category {
            prefix: "fe.account-settings",
            name: "Account settings",
            description: "The account itself and its applications",
        },
        Category {
            prefix: "fe.account-hierarchy",
            name: "Account hierarchy",
            description: "Sub-accounts and access to them",
        },
        Category {
            prefix: "fe.connectivity",
            name: "Connectivity",
            description: "Webhooks, messaging integrations, events and notifications",
        },
        Category {
            prefix: "fe.subscriptions",
            name: "Subscriptions",
            description: "Plans and billing of an account",
        },
    ];

    /// The built-in permission keys, as Frontegg's admin portal and SDKs name them. A key ending
    /// in `*` grants every key it prefixes to the SDKs that match wildcards.
    pub const PERMISSION_KEYS: &[&str] = &[
        "fe.secure.*",
        "fe.secure.read.*",
        "fe.secure.write.*",
        "fe.secure.delete.*",
        "fe.secure.read.users",
        "fe.secure.write.users",
        "fe.secure.delete.users",
        "fe.secure.write.updateUser",
        "fe.secure.write.enableDisable",
        "fe.secure.write.resendActivationEmail",
        "fe.secure.write.usersRoles",
        "fe.secure.delete.usersRoles",
        "fe.secure.write.userSubTenants",
        "fe.secure.delete.userSubTenants",
        "fe.secure.read.roles",
        "fe.secure.write.roles",
        "fe.secure.write.updateRole",
        "fe.secure.delete.role",
        "fe.secure.read.permissions",
        "fe.secure.write.tenantInvites",
        "fe.secure.delete.tenantInvites",
        "fe.secure.read.accountSettings",
        "fe.secure.write.accountSettings",
        "fe.secure.read.audits",
        "fe.secure.read.emailDomainRestrictions",
        "fe.secure.write.emailDomainRestrictions",
        "fe.secure.delete.emailDomainRestrictions",
        "fe.secure.read.ipRestrictions",
        "fe.secure.write.ipRestrictions",
        "fe.secure.delete.ipRestrictions",
        "fe.secure.read.groups",
        "fe.secure.write.groups",
        "fe.secure.delete.groups",
        "fe.secure.write.groupsRoles",
        "fe.secure.write.groupsUsers",
        "fe.secure.delete.groupsUsers",
        "fe.secure.read.passwordExpirationConfiguration",
        "fe.secure.write.passwordExpirationConfiguration",
        "fe.secure.read.provisioningConfiguration",
        "fe.secure.write.provisioningConfiguration",
        "fe.secure.delete.provisioningConfiguration",
        "fe.secure.read.samlConfiguration",
        "fe.secure.write.samlConfiguration",
        "fe.secure.delete.samlConfiguration",
        "fe.secure.read.samlDefaultRoles",
        "fe.secure.write.samlDefaultRoles",
        "fe.secure.read.securityPolicy",
        "fe.secure.write.securityPolicy",
        "fe.secure.delete.securityPolicy",
        "fe.secure.delete.sessions",
        "fe.secure.read.tenantApiTokens",
        "fe.secure.write.tenantApiTokens",
        "fe.secure.delete.tenantApiTokens",
        "fe.secure.read.userApiTokens",
        "fe.secure.write.userApiTokens",
        "fe.secure.delete.userApiTokens",
        "fe.secure.write.actorToken",
        "fe.secure.write.appsUsers",
        "fe.secure.delete.appsUsers",
        "fe.secure.write.delegation",
        "fe.account-settings.read.app",
        "fe.account-settings.delete.account",
        "fe.account-settings.write.custom-login-box",
        "fe.account-hierarchy.read.subAccount",
        "fe.account-hierarchy.write.subAccount",
        "fe.account-hierarchy.delete.subAccount",
        "fe.account-hierarchy.write.subAccountAccess",
        "fe.account-hierarchy.write.subAccountManagement",
        "fe.connectivity.*",
        "fe.connectivity.read.*",
        "fe.connectivity.write.*",
        "fe.connectivity.delete.*",
        "fe.connectivity.read.emailConfig",
        "fe.connectivity.write.emailConfig",
        "fe.connectivity.delete.emailConfig",
        "fe.connectivity.read.smsConfig",
        "fe.connectivity.write.smsConfig",
        "fe.connectivity.delete.smsConfig",
        "fe.connectivity.read.webhooks",
        "fe.connectivity.write.webhook",
        "fe.connectivity.delete.webhook",
        "fe.connectivity.read.webhookLogs",
        "fe.connectivity.read.events",
        "fe.connectivity.read.eventCategories",
        "fe.connectivity.write.triggerEvent",
        "fe.connectivity.read.slackApp",
        "fe.connectivity.write.slackAppRegistration",
        "fe.connectivity.delete.slackAppRegistration",
        "fe.connectivity.read.slackChannels",
        "fe.connectivity.read.slackUsers",
        "fe.connectivity.read.slackSubscriptions",
        "fe.connectivity.write.slackSubscriptions",
        "fe.connectivity.write.updateSlackSubscription",
        "fe.connectivity.delete.slackSubscriptions",
        "fe.connectivity.delete.slackSubscriptionEvent",
        "fe.connectivity.read.userBellNotifications",
        "fe.connectivity.write.updateUserBellNotification",
        "fe.connectivity.delete.bellNotifications",
        "fe.connectivity.write.subscribeWebpush",
        "fe.connectivity.write.sendWebpushNotification",
        "fe.subscriptions.*",
        "fe.subscriptions.read.*",
        "fe.subscriptions.write.*",
    ];

    /// Keys of [`PERMISSION_KEYS`] that a later release of the catalog added, with that release
    /// (2 and up; the others are release 1). An environment made before a key's release is
    /// given it once, at the next start, however it changed its built-in permissions since.
    pub const ADDED: &[(i32, &str)] = &[];

    /// The catalog's release: the highest in [`ADDED`], else 1.
    pub const RELEASE: i32 = 1;

    /// The keys a release after `release` added.
    pub fn added_after(release: i32) -> Vec<&'static str> {
        ADDED
            .iter()
            .filter(|(added_in, _)| *added_in > release)
            .map(|(_, key)| *key)
            .collect()
    }

    /// The key of the built-in role holding every built-in permission, given to a tenant's first
    /// member.
    pub const ADMIN_ROLE: &str = "Admin";
    /// The key of the built-in role holding the built-in read permissions, given to every other
    /// new member.
    pub const READ_ONLY_ROLE: &str = "ReadOnly";

    /// The category of a built-in key: the one whose prefix it starts with.
    pub fn category_of(key: &str) -> Option<&'static Category> {
        CATEGORIES.iter().find(|category| {
            key.strip_prefix(category.prefix)
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }

    /// Whether a built-in key only reads: the read-only role holds these.
    pub fn is_read(key: &str) -> bool {
        key.split('.').any(|part| part == "read")
    }

    /// A display name made from a key: `fe.secure.write.usersRoles` reads "Write users roles",
    /// `fe.connectivity.read.*` "Read everything in connectivity".
    pub fn name_of(key: &str) -> String {
        let mut parts = key.split('.').skip(2);
        let action = parts.next().unwrap_or_default();
        let object: Vec<String> = parts.map(words).collect();
        let area = category_of(key).map_or("", |c| c.name);
        let object = object.join(" ");
        match (action, object.as_str()) {
            ("*", _) => format!("Everything in {}", area.to_lowercase()),
            (action, "*") => format!("{} everything in {}", capitalized(action), area.to_lowercase()),
            (action, object) => format!("{} {object}", capitalized(action)),
        }
    }

    /// `camelCase-words` as lower-case words.
    fn words(part: &str) -> String {
        let mut out = String::new();
        for c in part.chars() {
            if c.is_uppercase() {
                out.push(' ');
                out.extend(c.to_lowercase());
            } else if c == '-' {
                out.push(' ');
            } else {
                out.push(c);
            }
        }
        out
    }

    fn capitalized(word: &str) -> String {
        let mut chars = word.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_added_key_is_in_the_catalog_at_a_release_it_counts() {
        let mut highest = 1;
        for (added_in, key) in builtin::ADDED {
            assert!(
                builtin::PERMISSION_KEYS.contains(key),
                "{key} is not in the catalog"
            );
            assert!(*added_in >= 2, "{key}: release 1 is the first catalog");
            highest = highest.max(*added_in);
        }
        assert_eq!(builtin::RELEASE, highest);
        assert!(builtin::added_after(builtin::RELEASE).is_empty());
    }

    #[test]
    fn every_built_in_key_is_unique_valid_and_in_a_category() {
        let mut seen = std::collections::HashSet::new();
        for key in builtin::PERMISSION_KEYS {
            assert!(seen.insert(*key), "{key} twice");
            assert!(permission_key("key", key).is_ok(), "{key}");
            assert!(builtin::category_of(key).is_some(), "{key} has no category");
        }
        assert!(builtin::is_read("fe.secure.read.users"));
        assert!(builtin::is_read("fe.connectivity.read.*"));
        assert!(!builtin::is_read("fe.secure.write.roles"));
        assert!(builtin::category_of("fe.securex.read").is_none());
    }

    #[test]
    fn built_in_names_are_made_from_their_keys() {
        assert_eq!(
            builtin::name_of("fe.secure.write.usersRoles"),
            "Write users roles"
        );
        assert_eq!(
            builtin::name_of("fe.connectivity.read.*"),
            "Read everything in connectivity"
        );
        assert_eq!(
            builtin::name_of("fe.secure.*"),
            "Everything in identity and security"
        );
        assert_eq!(
            builtin::name_of("fe.account-settings.write.custom-login-box"),
            "Write custom login box"
        );
    }

    #[test]
    fn new_permissions_name_their_bad_fields_under_their_place() {
        let bad = CreatePermission {
            key: "has space".into(),
            name: String::new(),
            assignment_type: "SOMETIMES".into(),
            ..CreatePermission::default()
        };
        let fields: Vec<_> = bad
            .parse("permissions[1]")
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "permissions[1].key",
                "permissions[1].name",
                "permissions[1].assignment_type"
            ]
        );
        let good = CreatePermission {
            key: "reports.read".into(),
            name: "Read reports".into(),
            ..CreatePermission::default()
        }
        .parse("permissions[0]")
        .unwrap();
        assert_eq!(good.assignment_type, AssignmentType::Assignable);
        assert_eq!(good.category_id, None);
    }
}

//! The bulk update of a user's roles across its tenants (the contract's
//! `PATCH vendor-only/users/v1/{userId}/roles/bulk`), and the task that carries out one too large
//! to do within the request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Error, role::id_list};

/// Roles to give a user and to take from it, in the tenants named or in all of its tenants.
#[derive(Debug, Clone, Default)]
pub struct BulkRolesRequest {
    /// Roles to give in each tenant.
    pub add_role_ids: Vec<String>,
    /// Roles to take in each tenant.
    pub remove_role_ids: Vec<String>,
    /// The tenants to update; none means every tenant the user is a member of.
    pub tenant_ids: Vec<String>,
}

/// A [`BulkRolesRequest`] checked as far as it can be without the database: distinct ids, at
/// least one role to give or take, and none both given and taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRolesChange {
    /// Roles to give, distinct.
    pub add: Vec<String>,
    /// Roles to take, distinct.
    pub remove: Vec<String>,
    /// The tenants named, distinct; `None` for every tenant of the user.
    pub tenant_ids: Option<Vec<String>>,
}

impl BulkRolesRequest {
    /// Checks the request; INVALID_ARGUMENT naming the field at fault.
    pub fn parse(self) -> Result<BulkRolesChange, Error> {
        let add = id_list("add_role_ids", self.add_role_ids)?;
        let remove = id_list("remove_role_ids", self.remove_role_ids)?;
        let tenant_ids = id_list("tenant_ids", self.tenant_ids)?;
        if add.is_empty() && remove.is_empty() {
            return Err(Error::invalid(
                "add_role_ids",
                "names no role; give roles to add, to remove, or both",
            ));
        }
        let both: Vec<&str> = add
            .iter()
            .filter(|id| remove.contains(id))
            .map(String::as_str)
            .collect();
        if !both.is_empty() {
            return Err(Error::invalid(
                "remove_role_ids",
                format!("names roles also to add: {}", both.join(", ")),
            ));
        }
        Ok(BulkRolesChange {
            add,
            remove,
            tenant_ids: (!tenant_ids.is_empty()).then_some(tenant_ids),
        })
    }
}

/// What a bulk update did, or, when it was queued, what its task will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRolesOutcome {
    /// The user updated.
    pub user_id: String,
    /// How many tenants were updated (or are to be).
    pub affected_tenants: u32,
    /// The roles given (or to be).
    pub roles_added: Vec<String>,
    /// The roles taken (or to be).
    pub roles_removed: Vec<String>,
    /// The task that carries out the update, when it was queued rather than done at once.
    pub task_id: Option<String>,
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkRolesStatus {
    /// Queued; no tenant processed yet.
    NotStarted,
    /// A worker is processing its tenants.
    InProgress,
    /// Every tenant was updated.
    Completed,
    /// Every tenant was processed, and some could not be updated (see the task's errors).
    CompletedWithErrors,
}

impl BulkRolesStatus {
    /// Every status, under the contract's name for it.
    const NAMES: [(&'static str, BulkRolesStatus); 4] = [
        ("NotStarted", BulkRolesStatus::NotStarted),
        ("InProgress", BulkRolesStatus::InProgress),
        ("Completed", BulkRolesStatus::Completed),
        ("CompletedWithErrors", BulkRolesStatus::CompletedWithErrors),
    ];

    /// The contract's name of the status, as stored too.
    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, status)| *status == self)
            .map_or("NotStarted", |(name, _)| name)
    }

    /// The status named `name` (the contract's name).
    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, status)| *status)
    }

    /// Whether a worker has nothing left to do.
    pub fn finished(self) -> bool {
        matches!(
            self,
            BulkRolesStatus::Completed | BulkRolesStatus::CompletedWithErrors
        )
    }
}

/// A tenant a task could not update, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRolesError {
    /// What went wrong.
    pub message: String,
    /// The tenant (its id) it went wrong in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// A queued bulk update and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRolesTask {
    /// The task's id.
    pub id: String,
    /// The user updated.
    pub user_id: String,
    /// Where it stands.
    pub status: BulkRolesStatus,
    /// How many tenants it updates.
    pub total_tenants: u32,
    /// How many of them are processed (updated or failed).
    pub processed_tenants: u32,
    /// The roles it gives.
    pub add_role_ids: Vec<String>,
    /// The roles it takes.
    pub remove_role_ids: Vec<String>,
    /// The tenants it could not update.
    pub errors: Vec<BulkRolesError>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(add: &[&str], remove: &[&str], tenants: &[&str]) -> BulkRolesRequest {
        let list = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect();
        BulkRolesRequest {
            add_role_ids: list(add),
            remove_role_ids: list(remove),
            tenant_ids: list(tenants),
        }
    }

    fn field(error: Error) -> String {
        error.violations().remove(0).field
    }

    #[test]
    fn a_change_names_roles_once_and_no_role_both_ways() {
        let change = request(&["a", "a", "b"], &["c"], &[]).parse().unwrap();
        assert_eq!(change.add, ["a", "b"]);
        assert_eq!(change.tenant_ids, None);
        let change = request(&[], &["c"], &["t", "t"]).parse().unwrap();
        assert_eq!(change.tenant_ids, Some(vec!["t".to_owned()]));
        assert_eq!(
            field(request(&[], &[], &["t"]).parse().unwrap_err()),
            "add_role_ids"
        );
        assert_eq!(
            field(request(&["a"], &["a"], &[]).parse().unwrap_err()),
            "remove_role_ids"
        );
    }

    #[test]
    fn statuses_go_by_the_contracts_names() {
        for (name, status) in BulkRolesStatus::NAMES {
            assert_eq!(status.as_str(), name);
            assert_eq!(BulkRolesStatus::parse(name), Some(status));
        }
        assert_eq!(BulkRolesStatus::parse("Done"), None);
        assert!(BulkRolesStatus::CompletedWithErrors.finished());
        assert!(!BulkRolesStatus::InProgress.finished());
    }
}

//! The bulk update of a user's roles across its tenants. A small one (at most
//! `ServiceSettings::bulk_roles_sync_limit` tenants) is done in the request's one transaction; a
//! larger one is stored as a task, which a [`Worker`] carries out a batch of tenants at a time,
//! each batch in its own transaction with the task's progress. A worker holds its task by a
//! lease that each batch renews: a replica that stops lets go of it, and one that dies loses it
//! when the lease runs out, so another replica (or the same one, restarted) carries on where
//! the last committed batch left off.

use std::{collections::HashMap, sync::Arc, time::Duration};

use tokio::sync::{Notify, watch};

use super::{Deps, Environments};
use crate::{
    domain::{
        Error, Resource,
        bulk_roles::{BulkRolesError, BulkRolesOutcome, BulkRolesRequest, BulkRolesStatus, BulkRolesTask},
        error::{FieldViolation, Result},
        scope::Scope,
    },
    store::{
        self,
        bulk_roles::{self as tasks, Progress, Work},
        roles::{self, RoleRow},
        users,
    },
};

/// Tenants updated per transaction of a task.
pub const BATCH: usize = 50;

/// How long a worker holds a task after each batch; a worker that dies mid-task loses it to
/// another after this long.
pub const LEASE: Duration = Duration::from_secs(60);

/// How often an idle worker looks for tasks it was not told of: queued on another replica and
/// left there, or held by a worker that died.
pub const POLL: Duration = Duration::from_secs(30);

/// How long a finished task is kept, for its status to be read, before a worker deletes it.
pub const KEEP_FINISHED: chrono::Duration = chrono::Duration::days(7);

/// Bulk role use cases.
#[derive(Clone)]
pub struct BulkRoles {
    deps: Deps,
    environments: Environments,
    /// Wakes this replica's worker when a task is queued here.
    queued: Arc<Notify>,
}

impl BulkRoles {
    pub(super) fn new(deps: Deps, environments: Environments) -> Self {
        Self {
            deps,
            environments,
            queued: Arc::new(Notify::new()),
        }
    }

    /// Gives user `user_id` the roles `add_role_ids` and takes `remove_role_ids` from it in the
    /// tenants `tenant_ids`, or in all of its tenants when none are named. Everything is checked
    /// first and nothing is written on bad input: NOT_FOUND for an unknown user; INVALID_ARGUMENT
    /// naming the role ids that name no role, the tenants the user is not a member of, and the
    /// roles of one tenant asked for in another. Giving a role the user holds, or taking one it
    /// lacks, changes nothing. At most `bulk_roles_sync_limit` tenants are updated at once, in
    /// one transaction; more are queued as a task (its id in the outcome).
    pub async fn update(
        &self,
        scope: &Scope,
        user_id: &str,
        request: BulkRolesRequest,
    ) -> Result<BulkRolesOutcome> {
        let change = request.parse()?;
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        // Locked as a removal from a tenant locks it, so no membership ends under the update.
        users::lock_row(&txn, scope, user_id).await?;
        let asked: Vec<String> = change.add.iter().chain(&change.remove).cloned().collect();
        let found = roles::rows_by_ids(&txn, scope, &asked, true).await?;
        let mut violations = Vec::new();
        for (field, ids) in [("add_role_ids", &change.add), ("remove_role_ids", &change.remove)] {
            let unknown: Vec<&str> = ids
                .iter()
                .filter(|id| !found.iter().any(|r| &r.id == *id))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                violations.push(FieldViolation::new(
                    field,
                    format!("names no role: {}", unknown.join(", ")),
                ));
            }
        }
        let memberships = tasks::memberships(&txn, scope, user_id).await?;
        let targets: Vec<(String, String)> = match &change.tenant_ids {
            None => memberships,
            Some(tenant_ids) => {
                let outside: Vec<&str> = tenant_ids
                    .iter()
                    .filter(|id| !memberships.iter().any(|(_, t)| t == *id))
                    .map(String::as_str)
                    .collect();
                if !outside.is_empty() {
                    violations.push(FieldViolation::new(
                        "tenant_ids",
                        format!(
                            "names tenants the user is not a member of: {}",
                            outside.join(", ")
                        ),
                    ));
                }
                memberships
                    .into_iter()
                    .filter(|(_, t)| tenant_ids.contains(t))
                    .collect()
            }
        };
        // A tenant's own role is held in that tenant only.
        let confined: Vec<&str> = found
            .iter()
            .filter(|r| change.add.contains(&r.id))
            .filter(|r| {
                r.tenant_ref
                    .as_deref()
                    .is_some_and(|own| targets.iter().any(|(t, _)| t != own))
            })
            .map(|r| r.id.as_str())
            .collect();
        if !confined.is_empty() {
            violations.push(FieldViolation::new(
                "add_role_ids",
                format!(
                    "names roles of one tenant, which cannot be given in other tenants: {}",
                    confined.join(", ")
                ),
            ));
        }
        if !violations.is_empty() {
            return Err(Error::InvalidArgument(violations));
        }
        let tenant_refs: Vec<String> = targets.into_iter().map(|(t, _)| t).collect();
        let mut outcome = BulkRolesOutcome {
            user_id: user_id.to_owned(),
            affected_tenants: u32::try_from(tenant_refs.len()).unwrap_or(u32::MAX),
            roles_added: change.add,
            roles_removed: change.remove,
            task_id: None,
        };
        if tenant_refs.len() <= self.deps.settings.bulk_roles_sync_limit {
            for tenant_ref in &tenant_refs {
                apply(
                    &txn,
                    user_id,
                    tenant_ref,
                    &outcome.roles_added,
                    &outcome.roles_removed,
                    now,
                )
                .await?;
            }
            txn.commit().await?;
            return Ok(outcome);
        }
        let task = tasks::insert(
            &txn,
            scope,
            user_id,
            &tenant_refs,
            &outcome.roles_added,
            &outcome.roles_removed,
            now,
        )
        .await?;
        txn.commit().await?;
        self.queued.notify_one();
        outcome.task_id = Some(task.id);
        Ok(outcome)
    }

    /// Task `task_id` of the scope's environment, as far as it got; NOT_FOUND for an unknown
    /// task or another environment's.
    pub async fn task(&self, scope: &Scope, task_id: &str) -> Result<BulkRolesTask> {
        let row = tasks::find(&self.deps.db, scope, task_id)
            .await?
            .ok_or(Error::NotFound(Resource::BulkRolesTask))?;
        tasks::to_domain(row)
    }

    /// A worker that carries out the queued tasks, woken when this replica queues one.
    pub fn worker(&self) -> Worker {
        Worker {
            deps: self.deps.clone(),
            environments: self.environments.clone(),
            queued: self.queued.clone(),
            owner: uuid::Uuid::new_v4().to_string(),
        }
    }
}

/// Gives the membership of `user_id` in `tenant_ref` the roles `add` and takes `remove`;
/// what it holds already, or lacks, is left as it is.
async fn apply(
    db: &impl sea_orm::ConnectionTrait,
    user_id: &str,
    tenant_ref: &str,
    add: &[String],
    remove: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if !add.is_empty() {
        roles::assign(db, user_id, tenant_ref, add, now).await?;
    }
    if !remove.is_empty() {
        roles::unassign(db, user_id, tenant_ref, remove).await?;
    }
    Ok(())
}

/// Carries out queued tasks, one at a time, each a batch of tenants per transaction.
pub struct Worker {
    deps: Deps,
    environments: Environments,
    queued: Arc<Notify>,
    /// This worker's name in the leases it takes.
    owner: String,
}

/// Where a task stands after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Tenants are left.
    More,
    /// Every tenant is processed.
    Done,
    /// Another worker took the task over (this one's lease ran out).
    Lost,
}

impl Worker {
    /// Carries out tasks until `stop` turns true: those left unfinished (by this replica before
    /// a restart, or by another) at once, then each as soon as this replica queues it, and
    /// every [`POLL`] of the clock those queued elsewhere or let go by a worker that died.
    pub async fn follow(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(error) = self.run_pending(&stop).await {
                tracing::warn!(error = %error, "carrying out bulk role tasks failed; trying again later");
            }
            let before = self.deps.now() - KEEP_FINISHED;
            if let Err(error) = tasks::delete_finished(&self.deps.db, before).await {
                tracing::warn!(error = %error, "deleting finished bulk role tasks failed");
            }
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
                () = self.queued.notified() => {}
                () = self.deps.clock.sleep(POLL) => {}
            }
        }
    }

    /// Claims and carries out tasks one after another until none is left to claim or `stop`
    /// turns true; returns how many it worked on.
    pub async fn run_pending(&self, stop: &watch::Receiver<bool>) -> Result<usize> {
        let mut worked = 0;
        while !*stop.borrow() {
            let now = self.deps.now();
            let Some(work) = tasks::claim(&self.deps.db, &self.owner, now, now + lease()).await? else {
                break;
            };
            worked += 1;
            let id = work.row.id.clone();
            if let Err(error) = self.carry_out(work, stop).await {
                // Let go, so that the task is tried again (here or elsewhere) without waiting
                // for the lease to run out.
                if let Err(release) = tasks::release(&self.deps.db, &id, &self.owner).await {
                    tracing::warn!(error = %release, task_id = %id, "letting go of a bulk role task failed");
                }
                return Err(error);
            }
        }
        Ok(worked)
    }

    /// Works on a claimed task, batch after batch, until it is done, taken over, or `stop`
    /// turns true (then it lets go of it for another worker).
    async fn carry_out(&self, work: Work, stop: &watch::Receiver<bool>) -> Result<()> {
        let scope = match self.environments.background(&work.row.environment_id).await {
            Ok(scope) => scope,
            // The environment is being deleted, and its tasks with it.
            Err(Error::NotFound(_)) => return Ok(()),
            Err(error) => return Err(error),
        };
        tracing::info!(task_id = %work.row.id, tenants = work.tenant_refs.len(), "carrying out a bulk role task");
        loop {
            if *stop.borrow() {
                return tasks::release(&self.deps.db, &work.row.id, &self.owner).await;
            }
            match self.batch(&scope, &work).await? {
                Step::More => {}
                Step::Done => return Ok(()),
                Step::Lost => {
                    tracing::warn!(task_id = %work.row.id, "a bulk role task was taken over by another worker");
                    return Ok(());
                }
            }
        }
    }

    /// Processes the next [`BATCH`] tenants of the task in one transaction, which also records
    /// the progress and renews the lease: a batch is written whole or not at all, and one
    /// repeated after a crash changes nothing twice.
    async fn batch(&self, scope: &Scope, work: &Work) -> Result<Step> {
        let now = self.deps.now();
        let txn = store::begin(&self.deps.db).await?;
        let Some(row) = tasks::lock_held(&txn, &work.row.id, &self.owner).await? else {
            return Ok(Step::Lost);
        };
        let mut errors: Vec<BulkRolesError> = serde_json::from_str(&row.errors).map_err(Error::internal)?;
        let total = work.tenant_refs.len();
        let start = usize::try_from(row.processed_tenants)
            .unwrap_or_default()
            .min(total);
        let end = (start + BATCH).min(total);
        let batch = &work.tenant_refs[start..end];
        if !batch.is_empty() {
            self.update_tenants(&txn, scope, &row.user_id, batch, work, &mut errors, now)
                .await?;
        }
        let done = end >= total;
        let status = match (done, errors.is_empty()) {
            (false, _) => BulkRolesStatus::InProgress,
            (true, true) => BulkRolesStatus::Completed,
            (true, false) => BulkRolesStatus::CompletedWithErrors,
        };
        let progress = Progress {
            processed: end,
            errors: &errors,
            status,
            lease_until: (!done).then(|| now + lease()),
        };
        tasks::save_progress(&txn, &row.id, progress, now).await?;
        txn.commit().await?;
        if done {
            tracing::info!(task_id = %row.id, status = status.as_str(), failed = errors.len(), "finished a bulk role task");
        }
        Ok(if done { Step::Done } else { Step::More })
    }

    /// Gives and takes the task's roles in the tenants `batch` (row ids); a tenant where that
    /// cannot be done (the user left it, or a role was deleted or moved to another tenant
    /// since the task was queued) is added to `errors`, and the others are updated.
    #[allow(clippy::too_many_arguments)]
    async fn update_tenants(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        scope: &Scope,
        user_id: &str,
        batch: &[String],
        work: &Work,
        errors: &mut Vec<BulkRolesError>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        // The user's row first, then the tenants', in the order a request's update locks them.
        let exists = match users::lock_row(txn, scope, user_id).await {
            Ok(_) => true,
            Err(Error::NotFound(_)) => false,
            Err(error) => return Err(error),
        };
        let names = tasks::tenant_ids(txn, scope, batch).await?;
        let fail = |errors: &mut Vec<BulkRolesError>, tenant_ref: &String, message: String| {
            errors.push(BulkRolesError {
                message,
                tenant_id: Some(
                    names
                        .get(tenant_ref)
                        .cloned()
                        .unwrap_or_else(|| tenant_ref.clone()),
                ),
            });
        };
        if !exists {
            for tenant_ref in batch {
                fail(errors, tenant_ref, "the user no longer exists".into());
            }
            return Ok(());
        }
        let members = tasks::members_among(txn, user_id, batch).await?;
        let roles: HashMap<String, RoleRow> = roles::rows_by_ids(txn, scope, &work.add, true)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        for tenant_ref in batch {
            if !members.contains(tenant_ref) {
                fail(
                    errors,
                    tenant_ref,
                    "the user is no longer a member of the tenant".into(),
                );
                continue;
            }
            let (give, refused): (Vec<String>, Vec<String>) = work.add.iter().cloned().partition(|id| {
                roles
                    .get(id)
                    .is_some_and(|r| r.tenant_ref.as_deref().is_none_or(|own| own == tenant_ref))
            });
            if !refused.is_empty() {
                fail(
                    errors,
                    tenant_ref,
                    format!(
                        "roles no longer to be given in the tenant (deleted or moved): {}",
                        refused.join(", ")
                    ),
                );
            }
            apply(txn, user_id, tenant_ref, &give, &work.remove, now).await?;
        }
        Ok(())
    }
}

/// [`LEASE`] as a span of the clock's time.
fn lease() -> chrono::Duration {
    chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::{role::CreateRole, tenant::CreateTenant, user::CreateUser},
        service::testing::{Harness, harness},
    };

    /// A user in `tenants` new tenants, one past the default sync limit; its id.
    async fn member_of_many(h: &Harness, tenants: usize) -> String {
        let mut user_id = None;
        for i in 0..tenants {
            let tenant_id = format!("t{i}");
            h.services
                .tenants
                .create(
                    &h.scope,
                    CreateTenant {
                        tenant_id: tenant_id.clone(),
                        name: tenant_id.clone(),
                        ..CreateTenant::default()
                    },
                )
                .await
                .unwrap();
            match &user_id {
                None => {
                    let user = h
                        .services
                        .users
                        .create(
                            &h.scope,
                            CreateUser {
                                tenant_id,
                                email: "ann@example.com".into(),
                                ..CreateUser::default()
                            },
                        )
                        .await
                        .unwrap();
                    user_id = Some(user.id);
                }
                Some(id) => {
                    h.services
                        .users
                        .add_to_tenant(&h.scope, id, &tenant_id)
                        .await
                        .unwrap();
                }
            }
        }
        user_id.unwrap()
    }

    #[tokio::test]
    async fn one_worker_at_a_time_holds_a_task_and_a_lapsed_lease_passes_it_on() {
        let h = harness().await;
        let tenants = BATCH + 2;
        let ann = member_of_many(&h, tenants).await;
        let editor = h
            .services
            .roles
            .create(
                &h.scope,
                None,
                vec![CreateRole {
                    key: "editor".into(),
                    name: "Editor".into(),
                    ..CreateRole::default()
                }],
            )
            .await
            .unwrap()
            .remove(0);
        let queued = h
            .services
            .bulk_roles
            .update(
                &h.scope,
                &ann,
                BulkRolesRequest {
                    add_role_ids: vec![editor.id.clone()],
                    ..BulkRolesRequest::default()
                },
            )
            .await
            .unwrap();
        let task_id = queued.task_id.expect("queued");
        let db = &h.test_db.db;

        let now = chrono::Utc::now();
        let held = tasks::claim(db, "a", now, now + lease()).await.unwrap().unwrap();
        assert_eq!(held.row.id, task_id);
        assert_eq!(held.tenant_refs.len(), tenants);
        assert!(tasks::claim(db, "b", now, now + lease()).await.unwrap().is_none());
        // Once the lease has run out, two workers race for the task and one gets it.
        let later = now + lease() + chrono::Duration::seconds(1);
        let (b, c) = tokio::join!(
            tasks::claim(db, "b", later, later + lease()),
            tasks::claim(db, "c", later, later + lease())
        );
        let winners: Vec<&str> = [("b", b.unwrap()), ("c", c.unwrap())]
            .into_iter()
            .filter_map(|(owner, work)| work.map(|_| owner))
            .collect();
        assert_eq!(winners.len(), 1, "{winners:?}");
        // The first worker's next batch finds the task gone to another.
        assert!(tasks::lock_held(db, &task_id, "a").await.unwrap().is_none());

        // Let go of (as a stopping replica does), it is carried out whole by the next worker.
        tasks::release(db, &task_id, winners[0]).await.unwrap();
        let (_stop, running) = watch::channel(false);
        let worker = h.services.bulk_roles.worker();
        assert_eq!(worker.run_pending(&running).await.unwrap(), 1);
        let task = h.services.bulk_roles.task(&h.scope, &task_id).await.unwrap();
        assert_eq!(task.status, BulkRolesStatus::Completed);
        assert_eq!(task.processed_tenants as usize, tenants);
        assert!(task.errors.is_empty());
        assert_eq!(worker.run_pending(&running).await.unwrap(), 0, "nothing left");
        // Kept for a while after it finished, for its status to be read; then deleted.
        let sweep_at = |when: chrono::DateTime<chrono::Utc>| tasks::delete_finished(db, when - KEEP_FINISHED);
        let now = chrono::Utc::now();
        assert_eq!(sweep_at(now).await.unwrap(), 0);
        let week_later = now + KEEP_FINISHED + chrono::Duration::seconds(1);
        assert_eq!(sweep_at(week_later).await.unwrap(), 1);
        for i in [0, tenants - 1] {
            let held = h
                .services
                .roles
                .of_member(&h.scope, &ann, &format!("t{i}"))
                .await
                .unwrap();
            assert!(held.roles.iter().any(|r| r.key == "editor"), "t{i}");
        }
    }
}

//! Periodic deletion of what no request can use any more, so tables stay bounded: sessions that
//! ended (expired or revoked), refresh tokens used or expired, single-use tokens used, revoked
//! or expired. Rows are kept for [`KEEP_ENDED`] after their end, for investigation and so that a
//! replica whose clock runs ahead deletes nothing the others still need.

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use crate::{
    domain::{Clock, error::Result},
    store::cleanup::{self, Removed},
};

/// How long ended rows are kept before they are deleted.
pub const KEEP_ENDED: chrono::Duration = chrono::Duration::days(1);

/// Rows deleted per statement.
pub const BATCH: u64 = 1000;

/// The periodic cleanup of one replica.
#[derive(Clone)]
pub struct Cleanup {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

impl Cleanup {
    /// A cleanup of `db`, timed by `clock`.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Deletes every row that ended [`KEEP_ENDED`] ago or earlier, by the clock.
    pub async fn run(&self) -> Result<Removed> {
        let before = self.clock.now() - KEEP_ENDED;
        cleanup::remove_ended(&self.db, before, BATCH).await
    }

    /// Runs a cleanup every `interval` of the clock until `stop` turns true.
    pub async fn follow(self, interval: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                    continue;
                }
                () = self.clock.sleep(interval) => {}
            }
            if *stop.borrow() {
                return;
            }
            match self.run().await {
                Ok(removed) if removed != Removed::default() => {
                    tracing::info!(
                        sessions = removed.sessions,
                        refresh_tokens = removed.refresh_tokens,
                        user_tokens = removed.user_tokens,
                        "deleted ended sessions and tokens"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "deleting ended sessions and tokens failed"),
            }
        }
    }
}
